from evswarm.cli import app

app(prog_name="evswarm")
