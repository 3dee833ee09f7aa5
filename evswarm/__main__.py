from evswarm.cli import app

app()
