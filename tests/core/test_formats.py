"""Every file format one stage writes and another reads is defined once in core, field by field."""

from __future__ import annotations

import importlib
import inspect

import pytest
from pydantic import BaseModel

FORMATS = ("bundle", "labels", "results", "summary", "manifest", "analysis")


@pytest.mark.parametrize("module", FORMATS)
def test_every_field_of_every_format_says_what_it_holds(module: str) -> None:
    loaded = importlib.import_module(f"evswarm.core.{module}")
    models = [
        cls
        for cls in vars(loaded).values()
        if inspect.isclass(cls) and issubclass(cls, BaseModel) and cls.__module__ == loaded.__name__
    ]
    assert models
    bare = [
        f"{cls.__name__}.{name}" for cls in models for name, info in cls.model_fields.items() if not info.description
    ]
    assert bare == []


def test_symptoms_are_documented_and_none_names_a_planted_fault() -> None:
    from evswarm.core.symptoms import SYMPTOM_DOCS, Symptom
    from tests.simulator.helpers import planted_fault_vocabulary

    assert set(SYMPTOM_DOCS) == set(Symptom)
    words = " ".join([*map(str, Symptom), *SYMPTOM_DOCS.values()]).replace("_", " ").lower()
    assert [w for w in planted_fault_vocabulary() if w in words] == []
