"""JSON Lines files that commands write (``--out``, ``--decisions``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Every row as one JSON line; returns how many were written."""
    count = 0
    with path.open("wb") as out:
        for row in rows:
            out.write(orjson.dumps(row) + b"\n")
            count += 1
    return count
