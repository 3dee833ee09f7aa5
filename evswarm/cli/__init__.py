"""The `evswarm` command line: thin commands that parse arguments and call one stage function each."""

from evswarm.cli.main import app

__all__ = ["app"]
