"""Read-only settings snapshots, and drafts to edit.

The desktop app's workers read settings (destinations, policies, limits) while the user edits
them in the settings window. So the settings in use are a *snapshot*: ``freeze`` makes a deep,
read-only copy, and a save replaces the whole snapshot in one reference swap
(``App.use_settings``) instead of writing into objects that workers are reading. A worker that
took a snapshot keeps seeing the values it started with. To edit, make a *draft*:
``copy.deepcopy`` of a snapshot (or ``draft``) is an ordinary mutable copy.

Why by hand (~70 lines) and not a library: the settings must stay the very dataclasses of
``config`` that pydantic validates, the forms fill in and ``asdict``/``tomli_w`` write, so a
snapshot has to *be* a ``Settings`` (with ``dict`` and ``list`` fields) that refuses changes.
pyrsistent's ``freeze`` and the ``frozendict`` package change the container types (``PMap``,
``PVector``, a non-``dict`` mapping) and know nothing of dataclasses; ``frozen=True`` on the
classes would take the drafts' mutability too.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")
_FLAG = "_snapshot"


class ReadOnlySettings(TypeError):
    """A snapshot's dict or list was changed (edit a draft instead)."""


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise ReadOnlySettings("settings snapshots are read-only: edit a draft (copy.deepcopy)")


class FrozenDict(dict):
    """A ``dict`` (for ``asdict``, ``isinstance`` and equality) that refuses changes."""

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo: dict) -> dict:
        return {copy.deepcopy(k, memo): copy.deepcopy(v, memo) for k, v in self.items()}

    def __reduce__(self) -> tuple:
        # pickled whole (to a decoder worker): unpickling must not go through the refused update
        return (FrozenDict, (dict(self),))


class FrozenList(list):
    """A ``list`` that refuses changes."""

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = remove = pop = clear = sort = reverse = _refuse

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo: dict) -> list:
        return [copy.deepcopy(v, memo) for v in self]

    def __reduce__(self) -> tuple:
        # pickled whole: unpickling must not go through the refused ``extend``
        return (FrozenList, (list(self),))


class Freezable:
    """Base of the settings dataclasses: editable, until ``freeze`` makes a read-only copy."""

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get(_FLAG):
            raise dataclasses.FrozenInstanceError(
                f"cannot set {type(self).__name__}.{name}: settings snapshots are read-only "
                "(edit a draft: copy.deepcopy of it)"
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self.__dict__.get(_FLAG):
            raise dataclasses.FrozenInstanceError(f"cannot delete {type(self).__name__}.{name}")
        object.__delattr__(self, name)

    def __deepcopy__(self, memo: dict) -> Any:
        """A copy is a draft: mutable all the way down, whether this is a snapshot or not."""
        new = object.__new__(type(self))
        memo[id(self)] = new
        for name, value in self.__dict__.items():
            if name != _FLAG:
                object.__setattr__(new, name, copy.deepcopy(value, memo))
        return new

    @property
    def is_snapshot(self) -> bool:
        return bool(self.__dict__.get(_FLAG))


def freeze(value: T) -> T:
    """A read-only deep copy of ``value`` (settings dataclasses, dicts and lists in them)."""
    if isinstance(value, Freezable):
        if value.is_snapshot:
            return value  # read-only all the way down already: share it
        new = object.__new__(type(value))
        for name, field_value in value.__dict__.items():
            object.__setattr__(new, name, freeze(field_value))
        object.__setattr__(new, _FLAG, True)
        return new
    if isinstance(value, dict):
        return FrozenDict((k, freeze(v)) for k, v in value.items())  # type: ignore[return-value]
    if isinstance(value, list):
        return FrozenList(freeze(v) for v in value)  # type: ignore[return-value]
    return value


def draft(value: T) -> T:
    """A mutable deep copy of a snapshot (or of anything), for a settings form to edit."""
    return copy.deepcopy(value)
