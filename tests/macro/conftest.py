from __future__ import annotations

from pathlib import Path

import pytest

from evswarm.macro import AnalysisResult, AnalyzeConfig, analyze
from tests.macro.builders import make_batch


@pytest.fixture(scope="session")
def batch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_batch(tmp_path_factory.mktemp("batch"), n=120)


def fast_config(tmp: Path, **kw: object) -> AnalyzeConfig:
    return AnalyzeConfig(embedder="tfidf", reducer="pca", cache_root=tmp / "cache", progress=False, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def fast_result(batch_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    tmp = tmp_path_factory.mktemp("out")
    return analyze(batch_dir, tmp / "report", config=fast_config(tmp))
