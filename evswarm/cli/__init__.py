"""The `evswarm` command line: thin commands that parse arguments and call one stage function each."""

from evswarm.cli import (  # noqa: F401 - each registers its command
    ab,
    analyze,
    attribution_score,
    demo,
    diff,
    grade,
    import_,
    replay,
    serve,
    simulate,
    verify,
    versions,
)
from evswarm.cli.app import app

__all__ = ["app"]
