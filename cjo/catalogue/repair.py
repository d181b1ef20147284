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
    ``id`` is replaced by ``stand_in`` (a valid id no entry has), an offer's refused ``code`` by a
    valid one, so the rest is still checked."""
    if not cuts or not isinstance(raw, dict):
        return None
    # the refused parts; else the list entries holding them (a second offer whose code is
    # refused: the trigger without that offer), as long as each list keeps an entry
    for attempt in (cuts, _entries_of(cuts)):
        found = _validated(adapter, raw, attempt, stand_in)
        if found is not None:
            return found
    return None


def _validated(adapter: TypeAdapter[Any], raw: dict[str, Any], cuts: list[KeyPath],
               stand_in: str) -> Any:
    candidate = copy.deepcopy(raw)
    if ("id",) in cuts:
        cuts = [c for c in cuts if c != ("id",)]
        candidate["id"] = stand_in
    for code in [c for c in cuts if len(c) == 3 and c[0] == "offers" and c[2] == "code"]:
        offer = child(child(candidate, "offers"), code[1])
        if isinstance(offer, dict):  # a refused offer code: checked further as a stand-in
            offer["code"] = "REFUSED_CODE"
            cuts = [c for c in cuts if c != code]
    # deepest first, and the higher list index first, so earlier cuts do not move later ones
    for path in sorted(set(cuts), key=lambda c: (len(c), [str(p).zfill(9) for p in c]),
                       reverse=True):
        if not path or not _cut(candidate, path):
            return None
    try:
        return adapter.validate_python(candidate)
    except ValidationError:
        return None


def _entries_of(cuts: list[KeyPath]) -> list[KeyPath]:
    """Each cut widened to the list entry holding it (``offers[1].code`` -> ``offers[1]``)."""
    out: list[KeyPath] = []
    for path in cuts:
        index = next((i for i, part in enumerate(path) if isinstance(part, int)), None)
        out.append(path if index is None or path == ("id",) else path[:index + 1])
    return out


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
