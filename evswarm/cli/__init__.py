"""The `evswarm` command line: thin commands that parse arguments and call one stage function each."""

from evswarm.cli import ab, analyze, demo, grade, replay, serve, simulate, versions  # noqa: F401 - each registers its command
from evswarm.cli.app import app

__all__ = ["app"]
