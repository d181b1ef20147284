"""The bench's results: one table (absolute figures, ratios to baseline and ceiling) and JSON."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CEILING, BASELINE = "ceiling", "baseline"
# The order of the printed table (the numbering); rows with other keys come last.
ORDER = (CEILING, BASELINE, "cjo_1", "cjo_n", "latency_p50", "latency_p95", "latency_p99",
         "inbound_idle_p99", "inbound_p50", "inbound_p99", "receipt_p50", "receipt_p99",
         "recovery", "recovery_faust", "disk", "rss", "domain_decode", "domain_decide",
         "catalogue_bundled", "catalogue_500",
         "timers_few", "timers_many", "timers_fired_prefix", "timers_fired_floor")


@dataclass
class Row:
    """One figure. ``compare``: a throughput (events/s) shown as a ratio to baseline and
    ceiling. ``value`` None means the stage did not produce a figure (``note`` says why)."""

    key: str
    label: str
    value: float | None
    unit: str
    events: int = 0
    seconds: float = 0.0
    compare: bool = False
    note: str = ""
    vs_baseline: float | None = None
    vs_ceiling: float | None = None


@dataclass
class Results:
    setup: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def ordered(self) -> list[Row]:
        rank = {key: n for n, key in enumerate(ORDER)}
        return sorted(self.rows, key=lambda row: rank.get(row.key, len(ORDER)))

    def value(self, key: str) -> float | None:
        return next((r.value for r in self.rows if r.key == key), None)

    def compute_ratios(self) -> None:
        base, ceiling = self.value(BASELINE), self.value(CEILING)
        for row in self.rows:
            if row.compare and row.value is not None:
                row.vs_baseline = _ratio(row.value, base)
                row.vs_ceiling = _ratio(row.value, ceiling)

    def to_json(self) -> dict[str, Any]:
        self.compute_ratios()
        return {"setup": self.setup, "rows": [asdict(r) for r in self.ordered()]}

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def _ratio(value: float, reference: float | None) -> float | None:
    if reference is None or reference <= 0 or math.isinf(reference):
        return None
    return value / reference


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("us/tick", "ms") or abs(value) < 100:
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def _times(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.2f}x"


def heading(results: Results) -> str:
    """The line above the table: the broker and the scale of the run."""
    s = results.setup
    parts = [f"broker: {s.get('broker', 'unknown')}"]
    parts += [f"{s[k]:,} {k}" for k in ("subscribers", "events", "partitions") if k in s]
    if "cpus" in s:
        parts.append(f"{s['cpus']} cores")
    return ", ".join(parts)


HEADERS = ("#", "stage", "value", "unit", "events", "s", "vs baseline", "vs ceiling", "note")


def table(results: Results) -> str:
    """The printed table: one line a row, columns aligned."""
    results.compute_ratios()
    lines = [HEADERS]
    for n, row in enumerate(results.ordered(), start=1):
        lines.append((
            str(n), row.label, _number(row.value, row.unit), row.unit,
            f"{row.events:,}" if row.events else "", f"{row.seconds:.1f}" if row.seconds else "",
            _times(row.vs_baseline), _times(row.vs_ceiling), row.note))
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS) - 1)]
    right = {2, 4, 5, 6, 7}
    out = []
    for line in lines:
        cells = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(line, widths, strict=False))]
        out.append("  ".join([*cells, line[-1]]).rstrip())
    out.insert(1, "-" * len(out[0]))
    return "\n".join(out)


def markdown(results: Results) -> str:
    """The same table in Markdown (for docs/benchmarks.md)."""
    results.compute_ratios()
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for n, row in enumerate(results.ordered(), start=1):
        cells = (str(n), row.label, _number(row.value, row.unit), row.unit,
                 f"{row.events:,}" if row.events else "",
                 f"{row.seconds:.1f}" if row.seconds else "",
                 _times(row.vs_baseline), _times(row.vs_ceiling), row.note)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
