"""Annotation schemes: loaded from YAML (defaults shipped with the package) and used to validate labels."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evswarm.core.errors import EvswarmError

MAX_TEXT = 5000


class Scheme(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
    type: Literal["binary", "likert", "text", "responsible_step"]
    description: str = ""
    rubric: str | None = None
    min: int = 1
    max: int = 5
    labels: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _range(self) -> Scheme:
        if self.type == "likert" and not self.min < self.max:
            raise ValueError(f"scheme {self.name}: min must be below max")
        return self

    @property
    def digest(self) -> str:
        return hashlib.sha256(orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]

    def validate_value(self, value: Any) -> str | int | dict[str, Any]:
        """The stored form of a label value, or ValueError saying what is allowed.

        A `responsible_step` label names the step where the trace went wrong: `{"step_id": ...}` (or the
        step id alone); the agent follows from the step and is added when the label is saved."""
        if self.type == "responsible_step":
            step = value.get("step_id") if isinstance(value, dict) else value
            if not isinstance(step, str) or not step or len(step) > 200:
                raise ValueError(f"{self.name}: expected the id of a step of this trace, got {value!r}")
            return {"step_id": step}
        if self.type == "binary":
            if value in ("pass", "fail"):
                return str(value)
            if isinstance(value, bool):
                return "pass" if value else "fail"
            raise ValueError(f"{self.name}: expected 'pass' or 'fail', got {value!r}")
        if self.type == "likert":
            if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
                raise ValueError(f"{self.name}: expected an integer {self.min}-{self.max}, got {value!r}")
            number = int(value)
            if not self.min <= number <= self.max:
                raise ValueError(f"{self.name}: {number} is outside {self.min}-{self.max}")
            return number
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise ValueError(f"{self.name}: expected text of at most {MAX_TEXT} characters")
        return value


class SchemeSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schemes: list[Scheme]

    @model_validator(mode="after")
    def _unique(self) -> SchemeSet:
        names = [s.name for s in self.schemes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate scheme names: {duplicates}")
        return self

    def by_name(self) -> dict[str, Scheme]:
        return {s.name: s for s in self.schemes}


def load_schemes(path: Path | None = None) -> SchemeSet:
    """The schemes in `path`, or the defaults shipped with evswarm."""
    if path is None:
        text = resources.files("evswarm.review").joinpath("schemes.yaml").read_text(encoding="utf-8")
        source = "default schemes.yaml"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise EvswarmError(f"cannot read schemes file {path}: {exc.strerror}") from exc
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise EvswarmError(f"{source}: not valid YAML ({exc})") from exc
    try:
        return SchemeSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EvswarmError(
            f"{source}: field `{where}`: {first['msg']}",
            hint="see evswarm/review/schemes.yaml for the format",
        ) from exc
