"""The settings schema at work: check settings.toml when it is read, describe every field.

Why pydantic (v2): the settings stay the plain dataclasses of ``config`` that the rest of the code
uses (``dataclasses.replace``/``fields``/``asdict``), and pydantic validates those very classes
from their annotations (``Literal`` choices, ``annotated_types`` ranges, ``Strict`` types,
unknown keys forbidden per class). Its errors are structured (location, input, allowed values),
which is what one precise message per problem needs. msgspec is faster to import but only
forbids unknown fields on its own ``Struct`` types and reports errors as text; a hand-written
checker would re-implement both. The cost, measured here: ~60 ms to import pydantic and build
the validator, once per process, when settings are first read.

The first problem found stops the command before any work, as one line::

    settings.toml: [destinations.mycloud] malware_scan = "requried": expected one of required,
    optional, off

``settings_fields`` describes each field (label, help text, kind, choices and range) for the
settings window from the same schema.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import tomllib
import typing
from functools import cache
from pathlib import Path
from typing import Any

from desktop_uploader.config import Settings
from desktop_uploader.errors import ConfigError
from desktop_uploader.settings_fields import FieldSpec, as_toml, field_spec, field_specs, unwrap


class SettingsError(ConfigError):
    """A settings file (or settings about to be saved) that breaks the schema.

    ``message`` is the one line users see; the parts are kept for scripts and tests."""

    code = "settings"
    title = "Settings problem"

    def __init__(
        self, file: str, table: str | None, key: str, value: Any, expected: str, missing=False
    ) -> None:
        where = f"{_header(table)} " if table else ""
        shown = " is missing" if missing else f" = {as_toml(value)}"
        super().__init__(f"{file}: {where}{key}{shown}: {expected}")
        self.file, self.table, self.key, self.value, self.expected = (
            file,
            table,
            key,
            value,
            expected,
        )


def _class_at(loc: tuple) -> tuple[type | None, str | None, str | None, tuple]:
    """Walk an error location (``("destinations", "cloud", "malware_scan", 0)``) through the
    schema: the dataclass holding the field, the TOML table's name, the key, and what is left
    (a list index)."""
    cls: Any = Settings
    table: str | None = None
    i = 0
    while i < len(loc) and dataclasses.is_dataclass(cls):
        name = loc[i]
        hints = typing.get_type_hints(cls, include_extras=True)
        if name not in hints:
            return cls, table, str(name), loc[i + 1 :]
        base, _ = unwrap(hints[name])
        origin = typing.get_origin(base)
        if origin is dict and not dataclasses.is_dataclass(unwrap(typing.get_args(base)[1])[0]):
            return cls, table, str(name), loc[i + 1 :]  # a table of numbers: one of its entries
        if origin is dict and i + 1 < len(loc):
            cls, table, i = typing.get_args(base)[1], f"{name}.{_key(loc[i + 1])}", i + 2
            continue
        item = unwrap(typing.get_args(base)[0])[0] if origin is list else None
        if item is not None and dataclasses.is_dataclass(item) and i + 1 < len(loc):
            number = loc[i + 1] + 1 if isinstance(loc[i + 1], int) else loc[i + 1]
            cls, table, i = item, f"{name} #{number}", i + 2
            continue
        if dataclasses.is_dataclass(base) and i + 1 < len(loc):
            cls, table, i = base, str(name), i + 1
            continue
        return cls, table, str(name), loc[i + 1 :]
    return None, table, None, ()


def _header(table: str) -> str:
    """How the TOML file names a table: ``[destinations.cloud]``, or for the n-th of an array of
    tables ``[[watched_folders]] #2``."""
    name, sep, number = table.partition(" #")
    return f"[[{name}]] #{number}" if sep else f"[{table}]"


def _key(name: Any) -> str:
    """A table name as TOML writes it: bare when it can be, quoted otherwise."""
    text = str(name)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text)


# -- reading and checking -----------------------------------------------------------------------
@cache
def _validator():
    from pydantic import TypeAdapter

    return TypeAdapter(Settings)


def read_settings(path: Path) -> Settings:
    """Settings from ``path`` (defaults when it does not exist), checked against the schema."""
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(
            f"The settings file {path} is not valid TOML ({e}). Fix or remove it."
        ) from e
    except OSError as e:
        raise ConfigError(f"The settings file {path} cannot be read ({e}).") from e
    return parse_settings(raw, str(path))


def parse_settings(raw: dict, file: str = "settings.toml") -> Settings:
    """Settings from the dict a TOML file gave; raises ``SettingsError`` on the first problem."""
    from pydantic import ValidationError

    data = dict(raw)
    for section in ("destinations", "presets"):
        tables = data.get(section)
        if isinstance(tables, dict):
            # a table's name is its key (a "name" inside it, as very old files had, is ignored)
            data[section] = {
                k: {**{kk: vv for kk, vv in v.items() if kk != "name"}, "name": k}
                if isinstance(v, dict)
                else v
                for k, v in tables.items()
            }
    try:
        settings = _validator().validate_python(data)
    except ValidationError as e:
        raise _explain(e.errors()[0], data, file) from None
    _check_references(settings, file)
    return settings


def check_settings(settings: Settings, path: Path | str | None = None) -> None:
    """Check settings held in memory (e.g. edited in the settings window) exactly as a file
    would be checked when read; raises ``SettingsError``."""
    file = str(path) if path is not None else "settings.toml"
    data = dataclasses.asdict(settings)
    data = {k: v for k, v in data.items() if v is not None}
    for section in ("destinations", "presets"):
        data[section] = {k: {**v, "name": k} for k, v in data[section].items()}
    parse_settings(drop_none(data), file)


def drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


def _explain(error: dict, data: dict, file: str) -> SettingsError:
    """One pydantic error as the one line users read."""
    loc = tuple(error["loc"])
    kind = error["type"]
    cls, table, key, rest = _class_at(loc)
    value = error.get("input")
    if key is None:  # the whole file, e.g. a table where a value should be
        return SettingsError(file, table, "(file)", value, error["msg"])
    spec = _safe_spec(cls, key)
    if rest and spec is not None and spec.kind == "scores":  # one entry, as a dotted TOML key
        entry = rest[0]
        entries = _at(data, loc[: len(loc) - len(rest)])
        value = entries.get(entry) if isinstance(entries, dict) else value
        key = f"{key}.{_key(entry)}"
        if rest[1:] == ("[key]",):  # the name is not one of the allowed ones
            near = difflib.get_close_matches(str(entry), spec.choices, n=1)
            why = f"did you mean {near[0]}?" if near else f"known: {_list(list(spec.choices))}"
            return SettingsError(file, table, key, value, f"unknown name; {why}")
        return SettingsError(file, table, key, value, f"expected a number{spec._range()}")
    if rest:  # an item of a list: name it, show the item
        key += "".join(f"[{i}]" for i in rest)
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        known = [s.name for s in field_specs(cls) if s.name != "name"] if cls else []
        near = difflib.get_close_matches(key, known, n=1)
        why = f"did you mean {near[0]}?" if near else f"known: {', '.join(known)}"
        return SettingsError(file, table, key, value, f"unknown setting; {why}")
    if kind == "missing":
        expected = spec.allowed() if spec else "a value"
        return SettingsError(file, table, key, None, f"expected {expected}", missing=True)
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", ""))
        words = ", ".join(as_toml(c) if c == "" else c for c in choices)
        return SettingsError(file, table, key, value, f"expected one of {words}")
    if kind in ("dataclass_type", "dict_type", "model_type", "dataclass_exact_type"):
        what = (
            spec.allowed() if spec is not None and spec.kind == "scores" else "a table of settings"
        )
        return SettingsError(file, table, key, value, f"expected {what}")
    if spec is not None:
        if rest and spec.kind in ("ints", "list"):
            item = "a whole number of at least 1" if spec.kind == "ints" else "text in quotes"
            return SettingsError(file, table, key, value, f"expected {item}")
        return SettingsError(file, table, key, value, f"expected {spec.allowed()}")
    return SettingsError(file, table, key, value, error["msg"])


def _at(data: Any, loc: tuple) -> Any:
    """What the raw settings hold at an error location (None where the path ends)."""
    for part in loc:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _safe_spec(cls: type | None, name: str) -> FieldSpec | None:
    if cls is None:
        return None
    try:
        return field_spec(cls, name)
    except KeyError:
        return None


def _check_references(settings: Settings, file: str) -> None:
    """What one table says about another: names that must exist, templates that must work."""
    from desktop_uploader.pipeline.deliver import check_key_template

    dests = sorted(settings.destinations)
    if settings.default_profile not in settings.destinations:
        raise SettingsError(
            file,
            None,
            "default_profile",
            settings.default_profile,
            f"expected one of {_list(dests)}",
        )
    for name, d in settings.destinations.items():
        if d.key_template:
            try:
                check_key_template(d.key_template)
            except ConfigError as e:
                raise SettingsError(
                    file, f"destinations.{_key(name)}", "key_template", d.key_template, e.message
                ) from None
    for i, w in enumerate(settings.watched_folders, 1):
        table = f"watched_folders #{i}"
        if w.destination and w.destination not in settings.destinations:
            raise SettingsError(
                file, table, "destination", w.destination, f"expected one of {_list(dests)}"
            )
        if w.preset and w.preset not in settings.presets:
            presets = sorted(settings.presets)
            raise SettingsError(
                file, table, "preset", w.preset, f"expected one of {_list(presets)}"
            )


def _list(names: list[str]) -> str:
    return ", ".join(names) or "(none)"
