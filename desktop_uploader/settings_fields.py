"""Every settings field described from the schema itself (``config``'s annotations and
``setting(...)`` metadata): label, help, kind, choices and range, for the settings window's
forms and for the one-line messages of ``settings_schema``."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal


@dataclass(frozen=True)
class FieldSpec:
    """One setting as the schema describes it (for forms, docs and messages)."""

    name: str
    label: str
    help: str
    kind: str  # bool | int | float | str | choice | list | ints | scores | table | tables
    choices: tuple[str, ...] = ()
    choice_labels: dict[str, str] = dataclasses.field(default_factory=dict)
    minimum: float | None = None  # inclusive
    maximum: float | None = None  # inclusive
    above: float | None = None  # exclusive lower bound (e.g. a timeout must be > 0)
    optional: bool = False  # None is allowed (an empty form field)
    expected: str = ""  # how to describe the allowed values, where the type says it badly

    def allowed(self) -> str:
        """The allowed values in words: "one of a, b", "a whole number from 1 to 100" …"""
        if self.expected:
            return self.expected
        if self.kind == "choice":
            return "one of " + ", ".join(as_toml(c) if c == "" else c for c in self.choices)
        word = {
            "bool": "true or false",
            "int": "a whole number",
            "float": "a number",
            "str": "text in quotes",
            "ints": "a list of whole numbers, e.g. [480, 960]",
            "list": 'a list of texts in quotes, e.g. ["a", "b"]',
            "table": "a table of settings",
            "tables": "a list of tables",
        }.get(self.kind, self.kind)
        if self.kind == "list" and self.choices:
            word = "a list of: " + ", ".join(self.choices)
        if self.kind == "scores":  # the range is that of each number
            return "a table of names = numbers" + self._range()
        return word + self._range()

    def _range(self) -> str:
        lo, hi, above = self.minimum, self.maximum, self.above
        num = _num
        if lo is not None and hi is not None:
            return f" from {num(lo)} to {num(hi)}"
        if above is not None and hi is not None:
            return f" above {num(above)} and at most {num(hi)}"
        if above is not None:
            return f" above {num(above)}"
        if lo is not None:
            return f" of at least {num(lo)}"
        if hi is not None:
            return f" of at most {num(hi)}"
        return ""


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


@cache
def field_specs(cls: type) -> tuple[FieldSpec, ...]:
    """Every field of the settings dataclass ``cls``, described."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return tuple(_spec(f, hints[f.name]) for f in dataclasses.fields(cls))


def field_spec(cls: type, name: str) -> FieldSpec:
    """The one field ``name`` of ``cls``; ``KeyError`` if there is none."""
    for spec in field_specs(cls):
        if spec.name == name:
            return spec
    raise KeyError(name)


def _spec(f: dataclasses.Field, hint: Any) -> FieldSpec:
    meta = dict(f.metadata)
    base, constraints = unwrap(hint)
    optional = False
    if _is_union(base):
        args = [a for a in typing.get_args(base) if a is not type(None)]
        optional = len(args) < len(typing.get_args(base))
        base, more = unwrap(args[0])
        constraints += more
    kind, choices = _kind(base)
    if kind == "scores":  # the range is that of each number in the table
        constraints += unwrap(typing.get_args(base)[1])[1]
    bounds = {type(c).__name__: c for c in constraints}
    return FieldSpec(
        name=f.name,
        label=meta.get("label") or f.name.replace("_", " ").capitalize(),
        help=meta.get("help", ""),
        kind=kind,
        choices=choices,
        choice_labels=dict(meta.get("choice_labels", {})),
        minimum=getattr(bounds.get("Ge"), "ge", None),
        maximum=getattr(bounds.get("Le"), "le", None),
        above=getattr(bounds.get("Gt"), "gt", None),
        optional=optional,
        expected=meta.get("expected", ""),
    )


def unwrap(hint: Any) -> tuple[Any, list]:
    """``Annotated[X, c1, c2]`` (nested too) → (X, [c1, c2])."""
    constraints: list = []
    while typing.get_origin(hint) is typing.Annotated:
        hint, *meta = typing.get_args(hint)
        constraints += meta
    return hint, constraints


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _kind(base: Any) -> tuple[str, tuple[str, ...]]:
    origin = typing.get_origin(base)
    if origin is Literal:
        return "choice", tuple(typing.get_args(base))
    if origin is list:
        item, _ = unwrap(typing.get_args(base)[0])
        if typing.get_origin(item) is Literal:
            return "list", tuple(typing.get_args(item))
        if dataclasses.is_dataclass(item):
            return "tables", ()
        return ("ints" if item is int else "list"), ()
    if origin is dict:
        value, _ = unwrap(typing.get_args(base)[1])
        if dataclasses.is_dataclass(value):
            return "table", ()
        key, _ = unwrap(typing.get_args(base)[0])  # a table of numbers by name, e.g. scores
        return "scores", tuple(typing.get_args(key)) if typing.get_origin(key) is Literal else ()
    if dataclasses.is_dataclass(base):
        return "table", ()
    return {bool: "bool", int: "int", float: "float", str: "str"}.get(base, "str"), ()


def as_toml(value: Any) -> str:
    """A value as it would be written in the TOML file (shortened when long)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, int | float):
        text = repr(value)
    elif isinstance(value, list):
        text = "[" + ", ".join(as_toml(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {as_toml(v)}" for k, v in value.items()) + "}"
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"
