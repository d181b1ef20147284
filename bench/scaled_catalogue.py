"""A catalogue at an operator's scale: the bundled triggers, then copies of the enabled ones under
new ids (``roaming_welcome_x1``, ...), up to ``count`` enabled triggers in one file.

The copies read, detect and offer what their originals do; they come after them in the file, so
when an original and its copy fire together the original (same priority, earlier) is decided
first. Used by the bench's catalogue-scale row and by the tests that check a large catalogue
validates and decides as the bundled one does for the bundled ids.
"""

from __future__ import annotations

import re

from cjo.catalogue.validate import DEFAULT_FILES, DEFAULTS_DIR

_ENTRY = re.compile(r"^  - id: (\w+)\n", re.MULTILINE)


def scaled_sources(count: int) -> list[tuple[str, str]]:
    """(name, text) of the bundled catalogue with its triggers file grown to ``count`` enabled
    triggers (the originals first)."""
    sources = [(f"defaults/{name}", (DEFAULTS_DIR / name).read_text(encoding="utf-8"))
               for name in DEFAULT_FILES]
    return [(name, grow(text, count) if name.endswith("triggers.yaml") else text)
            for name, text in sources]


def grow(text: str, count: int) -> str:
    """``text`` (a triggers file) with copies of its enabled triggers appended, until it has
    ``count`` enabled triggers."""
    starts = [m.start() for m in _ENTRY.finditer(text)]
    if not starts:
        raise ValueError("no trigger entry (`  - id: ...`) in the text")
    ends = [*starts[1:], len(text)]
    entries = [text[a:b] for a, b in zip(starts, ends, strict=True)]
    enabled = [e for e in entries if "\n    enabled: false" not in e]
    copies: list[str] = []
    n = 0
    while len(enabled) + len(copies) < count:
        entry = enabled[len(copies) % len(enabled)]
        if len(copies) % len(enabled) == 0:
            n += 1
        name = _ENTRY.match(entry)
        assert name is not None
        copies.append(f"  - id: {name.group(1)}_x{n}\n" + entry[name.end():])
    return text.rstrip("\n") + "\n\n" + "".join(c.rstrip("\n") + "\n\n" for c in copies)
