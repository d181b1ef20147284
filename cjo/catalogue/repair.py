"""A refused catalogue entry with the parts already reported left out, so the rest of it can
still be checked: every independent problem of a file in one run, none twice.

A misspelt optional field or a value out of range is reported by the schema; the entry without
it (the field at its default) is then valid, and cross checks (matchers, templates, references)
run on it. If leaving the reported parts out does not make it valid (a required part was wrong),
nothing more is checked of it: what depends on that part would only be knock-on problems.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import TypeAdapter, ValidationError

from cjo.catalogue.source import Path as KeyPath


def repaired(adapter: TypeAdapter[Any], raw: Any, cuts: list[KeyPath], stand_in: str) -> Any:
    """``raw`` validated with the parts at ``cuts`` left out (so taken at their defaults), or
    None if it is still refused (a required part was wrong: nothing more to learn). A refused
    ``id`` is replaced by ``stand_in`` (a valid id no entry has), so the rest is still checked."""
    if not cuts or not isinstance(raw, dict):
        return None
    candidate = copy.deepcopy(raw)
    if ("id",) in cuts:
        cuts = [c for c in cuts if c != ("id",)]
        candidate["id"] = stand_in
    # deepest first, and the higher list index first, so earlier cuts do not move later ones
    for path in sorted(cuts, key=lambda c: (len(c), [str(p).zfill(9) for p in c]), reverse=True):
        if not path or not _cut(candidate, path):
            return None
    try:
        return adapter.validate_python(candidate)
    except ValidationError:
        return None


def _cut(node: Any, path: KeyPath) -> bool:
    for part in path[:-1]:
        node = child(node, part)
    last = path[-1]
    if isinstance(last, str) and isinstance(node, dict) and last in node:
        del node[last]
        return True
    if isinstance(last, int) and isinstance(node, list) and 0 <= last < len(node):
        del node[last]
        return True
    return False


def child(node: Any, part: str | int) -> Any:
    if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
        return node[part]
    if isinstance(part, str) and isinstance(node, dict):
        return node.get(part)
    return None
