"""The value types every settings section is built from, and ``setting(...)``, the field that
carries a setting's label and help (see ``config`` for how a setting is added).

Strict types: a TOML file is typed, so "5" is not a number and 1 is not true (pydantic would
coerce); the ranges and choices here are what ``settings_schema`` checks and explains.
"""

from __future__ import annotations

from dataclasses import MISSING, field
from typing import Annotated, Any, Literal, get_args

from annotated_types import Ge, Le
from pydantic import BeforeValidator, Strict, StringConstraints

from desktop_uploader import format_names, records
from desktop_uploader.pipeline.content import NUDENET_LABELS
from desktop_uploader.providers import KINDS as PROVIDER_KINDS

Flag = Annotated[bool, Strict()]
Text = Annotated[str, Strict()]
Whole = Annotated[int, Strict()]
Number = Annotated[float, Strict()]  # an integer is accepted (5 → 5.0), a string is not
Provider = Literal[PROVIDER_KINDS]  # type: ignore[valid-type]  # the kinds of providers.py
PROVIDERS: tuple[str, ...] = get_args(Provider)
# the choices are the enums' values (records): settings keep holding the plain strings
MalwareScan = records.literal(records.ScanPolicy)
ContentCheck = records.literal(records.ContentPolicy)
ContentLabel = Literal[NUDENET_LABELS]  # type: ignore[valid-type]
Score = Annotated[Number, Ge(0), Le(1)]  # a model's score
LinkFormat = records.literal(records.LinkFormat)
ImageFormat = Literal[format_names.ALLOWED]  # type: ignore[valid-type]


def _numbers_from_text(value: Any) -> Any:
    """Settings files written by an older settings form hold preset widths as strings."""
    if isinstance(value, list):
        return [int(v) if isinstance(v, str) and v.strip().isdigit() else v for v in value]
    return value


Url = Annotated[Text, StringConstraints(pattern=r"^(https?://\S+)?$")]
Widths = Annotated[list[Annotated[Whole, Ge(1)]], BeforeValidator(_numbers_from_text)]


def setting(
    default: Any = MISSING,
    label: str = "",
    help: str = "",  # noqa: A002 - the word users see in the schema
    *,
    factory: Any = None,
    expected: str = "",
    choice_labels: dict[str, str] | None = None,
) -> Any:
    """A dataclass field with its label (unit included), help text (the form's tooltip) and,
    where the type alone says it badly, how to describe the allowed values in an error."""
    meta = {"label": label, "help": help, "expected": expected}
    if choice_labels:
        meta["choice_labels"] = choice_labels
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)  # MISSING: a required field


# pydantic's per-class configuration (a plain dict, so this module needs no pydantic ConfigDict)
UNKNOWN_KEYS_ARE_ERRORS = {"extra": "forbid"}
URL_EXPECTED = "an address starting with https:// or http://, or empty"
