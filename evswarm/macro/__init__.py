"""Macro analysis: find recurring behavior patterns in a batch of traces and explain where they come from.

The public entry is `analyze(batch_dir, out_dir, embedder=...)`; each stage lives in its own module
(load → normalize → documents → embed → reduce → cluster → label → rank → lift → versions →
graph/suspects → report/tables).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["AnalysisResult", "AnalyzeConfig", "analyze"]

if TYPE_CHECKING:
    from evswarm.macro.config import AnalyzeConfig
    from evswarm.macro.pipeline import analyze
    from evswarm.macro.result import AnalysisResult


def __getattr__(name: str) -> Any:
    # Lazy, so `import evswarm.macro` stays cheap for the CLI.
    if name == "analyze":
        from evswarm.macro.pipeline import analyze

        return analyze
    if name == "AnalysisResult":
        from evswarm.macro.result import AnalysisResult

        return AnalysisResult
    if name == "AnalyzeConfig":
        from evswarm.macro.config import AnalyzeConfig

        return AnalyzeConfig
    raise AttributeError(name)
