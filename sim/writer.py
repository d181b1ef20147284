"""Writes a recorded log: one JSON line per record, bad lines as they are."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import orjson

from cjo.stream_registry import STREAMS


@dataclass
class SimSummary:
    """What a log holds: good lines per stream, bad lines, characters written (= bytes: ASCII)."""

    per_stream: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 0))
    bad: int = 0
    bytes_written: int = 0

    @property
    def lines(self) -> int:
        return sum(self.per_stream.values()) + self.bad

    def __str__(self) -> str:
        streams = ", ".join(f"{k} {v:,}" for k, v in self.per_stream.items())
        return f"{self.lines:,} lines ({streams}, bad {self.bad:,}), {self.bytes_written:,} bytes"


def write_log(lines: Iterable[dict[str, Any]], out: TextIO) -> SimSummary:
    summary = SimSummary()
    counts = summary.per_stream
    for line in lines:
        raw = line.get("raw")
        if raw is not None:
            text = str(raw)
            summary.bad += 1
        else:
            text = orjson.dumps(line).decode()
            counts[line["topic"]] = counts.get(line["topic"], 0) + 1
        out.write(text)
        out.write("\n")
        summary.bytes_written += len(text) + 1
    return summary
