"""Field paths in errors (``consent.sms``, ``trials[0].expires_at``) and how values are shown.

Converters and checks raise :class:`~cjo.errors.InvalidRecord` with the path *relative* to the
value they were given; each enclosing record or array prefixes its own part on the way out, so a
path is only ever built when something is wrong.
"""

from __future__ import annotations

from typing import Any

from cjo.errors import InvalidRecord

_SHOWN_CHARS = 60


def join(outer: str, inner: str) -> str:
    """Path ``inner`` inside ``outer``: ``trials`` + ``[0].expires_at``, ``consent`` + ``sms``."""
    if not inner:
        return outer
    if not outer:
        return inner
    return outer + inner if inner.startswith("[") else f"{outer}.{inner}"


def within(outer: str, error: InvalidRecord) -> InvalidRecord:
    """The same error (same class), its field path prefixed with ``outer``."""
    return type(error)(join(outer, error.field), error.reason)


def show(value: Any) -> str:
    """``str 'abc'``, ``int 5``, ``null``: the type and a short repr, for error reasons."""
    if value is None:
        return "null"
    text = repr(value)
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 3] + "..."
    return f"{type(value).__name__} {text}"


def wrong_type(expected: str, value: Any) -> InvalidRecord:
    """``expected long, got str 'abc'``."""
    return InvalidRecord("", f"expected {expected}, got {show(value)}")
