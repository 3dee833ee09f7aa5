"""promptfoo Python provider (`file://evswarm/evals/provider.py`): grades one bundle per test case.

promptfoo loads this file by path in its worker processes, so it only re-exports the real entry point."""

from __future__ import annotations

from evswarm.evals.service import call_api

__all__ = ["call_api"]
