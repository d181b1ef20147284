"""``cjo catalogue apply --merge``: new files on top of the catalogue in force.

The catalogue in force is a set of YAML texts (its sources). Merging keeps every one of them and
adds the new files; a trigger or venue that a new file defines (by ``id``) is cut out of the text
it came from, so the new definition replaces it, and a ``policy`` in a new file replaces the one in
force. A merge never removes a trigger: to silence one, merge it with ``enabled: false``.

Cutting works on lines: an entry of a block list (``  - id: ...``) runs from its first line (with
the comment lines just above it) to the next entry's, or to the next top-level key. A source is
dropped once nothing is left in it (no trigger, venue or policy): merging an edited ``my.yaml``
again replaces the earlier one wholly. The result is validated like any catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from cjo.catalogue.source import Parsed, parse
from cjo.errors import CatalogueError, CatalogueRejected

Source = tuple[str, str]
_LISTS = ("venues", "triggers")


def defined(parsed: Parsed) -> dict[str, set[str]]:
    """The ids each list of a parsed text defines, and ``policy`` if it has one."""
    value = parsed.value if isinstance(parsed.value, dict) else {}
    out: dict[str, set[str]] = {}
    for key in _LISTS:
        items = value.get(key)
        out[key] = {item["id"] for item in items or () if isinstance(item, dict)
                    and isinstance(item.get("id"), str)} if isinstance(items, list) else set()
    out["policy"] = {"policy"} if value.get("policy") is not None else set()
    return out


def merge_sources(in_force: Sequence[Source], added: Sequence[Source]) -> list[Source]:
    """The sources of ``in_force`` with what ``added`` redefines cut out, then ``added``.
    ``CatalogueRejected`` when an added text does not parse, or an entry cannot be cut by lines
    (a flow-style list: ``triggers: [{...}]``)."""
    replaced: dict[str, set[str]] = {"venues": set(), "triggers": set(), "policy": set()}
    for name, text in added:
        try:
            for key, ids in defined(parse(name, text)).items():
                replaced[key] |= ids
        except CatalogueError as error:
            raise CatalogueRejected([error]) from None
    names = {_base(name) for name, _text in added}
    kept: list[Source] = []
    for name, text in in_force:
        remaining = _cut(name, text, replaced)
        if remaining is None:
            continue
        earlier = _base(name) in names  # a leftover of an earlier version of an added file
        kept.append((f"{name} (earlier)" if earlier else name, remaining))
    return [*kept, *added]


def _base(name: str) -> str:
    return PurePath(name).name


def _cut(name: str, text: str, replaced: dict[str, set[str]]) -> str | None:
    """``text`` without the entries ``replaced`` names; None when nothing would be left."""
    parsed = parse(name, text)  # the catalogue in force parsed once already: it parses
    value: dict[str, Any] = parsed.value if isinstance(parsed.value, dict) else {}
    lines = text.splitlines(keepends=True)
    top = sorted(parsed.lines[(key,)] for key in value if (key,) in parsed.lines)
    spans: list[tuple[int, int]] = []  # 0-based [start, end) line ranges to drop
    left = 0
    for key in value:
        if key == "policy" and replaced["policy"]:
            spans.append(_block(lines, parsed.lines[(key,)], top))
            continue
        items = value.get(key)
        if key not in _LISTS or not isinstance(items, list):
            left += key != "policy" or value.get("policy") is not None
            continue
        doomed = [i for i, item in enumerate(items) if isinstance(item, dict)
                  and item.get("id") in replaced[key]]
        left += len(items) - len(doomed)
        if len(doomed) == len(items) and items:
            spans.append(_block(lines, parsed.lines[(key,)], top))
            continue
        for index in doomed:
            spans.append(_item(name, lines, parsed, key, index, len(items), top))
    if left == 0:
        return None
    drop = {line for start, end in spans for line in range(start, end)}
    return "".join(line for number, line in enumerate(lines) if number not in drop)


def _lead(lines: list[str], line: int, floor: int) -> int:
    """0-based index where the entry on 1-based ``line`` starts, with the comment lines right
    above it (not below ``floor``)."""
    start = line - 1
    while start - 1 >= floor and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def _block(lines: list[str], line: int, top: list[int]) -> tuple[int, int]:
    """A top-level key's lines, up to the next top-level key's (or the end)."""
    later = [t for t in top if t > line]
    end = _lead(lines, later[0], line) if later else len(lines)
    return _lead(lines, line, 0), end


def _item(name: str, lines: list[str], parsed: Parsed, key: str, index: int, count: int,
          top: list[int]) -> tuple[int, int]:
    first = parsed.lines[(key, index)]
    key_line = parsed.lines[(key,)]
    if first == key_line or (index + 1 < count and parsed.lines[(key, index + 1)] == first):
        raise CatalogueRejected([CatalogueError(
            name, first, key, "cannot merge into a flow-style list ([...] on one line): write "
            "one entry per '- ' line, or apply every file without --merge")])
    if index + 1 < count:
        end = _lead(lines, parsed.lines[(key, index + 1)], first)
    else:
        later = [t for t in top if t > first]
        end = _lead(lines, later[0], first) if later else len(lines)
        while end > first and not lines[end - 1].strip():
            end -= 1  # keep the blank lines before the next key
    return _lead(lines, first, key_line), end


def export(sources: Sequence[Source]) -> str:
    """The texts of a catalogue as one listing: each file under a ``# file: NAME`` line, as
    ``cjo catalogue show`` prints it (``--out DIR`` writes them as files instead)."""
    parts = [f"# file: {name}\n{text if text.endswith(chr(10)) else text + chr(10)}"
             for name, text in sources]
    return "---\n".join(parts)
