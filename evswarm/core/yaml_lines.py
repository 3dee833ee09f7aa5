"""Reading a YAML document together with the line of every key and item, so that a validation error can
name the file, the line and the field (`versions.yaml:14: version_sets.v2.agents.PricingAgent.policy: ...`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from evswarm.core.errors import EvswarmError

Location = tuple[str | int, ...]
"""A path into the document: mapping keys and sequence indices."""


@dataclass
class YamlDocument:
    """A parsed document, where it came from, and the 1-based line of every path in it."""

    path: Path
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, location: Location) -> int:
        """The line of `location`, or of its nearest ancestor that has one (a missing field has none)."""
        loc = tuple(location)
        while loc and loc not in self.lines:
            loc = loc[:-1]
        return self.lines.get(loc, 1)

    def where(self, location: Location) -> str:
        """`file:line: dotted.path` for messages."""
        dotted = ".".join(str(part) for part in location) or "(document)"
        return f"{self.path}:{self.line_of(location)}: `{dotted}`"

    def error(self, location: Location, message: str, *, hint: str | None = None) -> EvswarmError:
        return EvswarmError(f"{self.where(location)}: {message}", hint=hint)

    def validation_error(self, exc: ValidationError, prefix: Location = ()) -> EvswarmError:
        """The first pydantic error, placed at its file, line and field."""
        first = exc.errors()[0]
        return self.error(prefix + tuple(first["loc"]), str(first["msg"]).removeprefix("Value error, "))


class _Builder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[Location, int] = {}
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, location: Location) -> Any:
        self.lines.setdefault(location, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)  # YAML merge keys (<<: *anchor)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.constructor.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool) or key is None:
                    raise EvswarmError(f"{self.path}:{key_node.start_mark.line + 1}: a key must be a plain name")
                key = str(key)
                if key in out:
                    raise EvswarmError(
                        f"{self.path}:{key_node.start_mark.line + 1}: `{'.'.join(map(str, (*location, key)))}` "
                        "appears twice in the same mapping"
                    )
                self.lines[(*location, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*location, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*location, n)) for n, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)


def read_yaml(path: Path, *, what: str) -> YamlDocument:
    """Parse the YAML file at `path` (a `what`, for messages); unreadable or malformed input raises an
    EvswarmError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvswarmError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise EvswarmError(f"{what} {path} is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise EvswarmError(f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise EvswarmError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    return parse_yaml(text, path, what=what)


def parse_yaml(text: str, path: Path, *, what: str) -> YamlDocument:
    """Parse `text` as the YAML document of `path`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise EvswarmError(f"{path}{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise EvswarmError(f"{path}: not valid YAML: {exc}") from None
    if node is None:
        raise EvswarmError(f"{what} {path} is empty")
    builder = _Builder(path)
    data = builder.build(node, ())
    return YamlDocument(path, data, builder.lines)
