"""Catalogues at an operator's scale: the bundled triggers copied under new ids up to N, and the
bench stage that replays a sample with the bundled 15 and with 500 (time and memory ratios).

The copies read the same streams, fields and values as their originals, so every one can fire
on the records its original fires on: the work per record grows with them (33 times the
detections and decisions), which is the case issue 21 measured (a replay 5.7x as long).
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import yaml

from bench.events import Event
from bench.report import Row
from cjo import codec
from cjo.catalogue import source
from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.validate import DEFAULTS_DIR, load_catalogue
from cjo.engine.runner import Knowledge, MemoryStore, PartitionRunner
from cjo.state import Position
from cjo.timers import Watermark


def scaled_sources(total: int) -> list[tuple[str, str]]:
    """The bundled catalogue with its enabled triggers copied under new ids (``<id>_c<n>``)
    until ``total`` are enabled, all in one file (the venues file as bundled)."""
    text = (DEFAULTS_DIR / "triggers.yaml").read_text()
    document: dict[str, Any] = source.parse("triggers.yaml", text).value  # YAML 1.2: `on` a key
    triggers = list(document["triggers"])
    enabled = [t for t in triggers if t.get("enabled", True)]
    n, count = 0, len(enabled)
    while count < total:
        n += 1
        for trigger in enabled[: total - count]:
            triggers.append({**trigger, "id": f"{trigger['id']}_c{n}"})
            count += 1
    document["triggers"] = triggers
    return [("triggers.yaml", yaml.safe_dump(document, sort_keys=False, allow_unicode=True)),
            ("venues.yaml", (DEFAULTS_DIR / "venues.yaml").read_text())]


def scaled_catalogue(total: int) -> Catalogue:
    return load_catalogue(scaled_sources(total))


def _replay(records: Sequence[Event], catalogue: Catalogue) -> tuple[float, int]:
    """Seconds to decode and decide ``records``, and the peak of memory allocated meanwhile."""
    store = MemoryStore()
    runner = PartitionRunner(store, 0, Watermark(30_000, 0, live=False))
    knowledge = Knowledge(catalogue)
    values = [codec.decode(r.value)[1] for r in records]
    start = time.perf_counter()
    for offset, (record, value) in enumerate(zip(records, values, strict=True)):
        step = runner.on_record(record.stream, value, Position(record.stream, offset), 0,
                                knowledge)
        store.apply(step.effects.writes)
    seconds = time.perf_counter() - start
    tracemalloc.start()  # again, apart: tracing slows the run it measures
    store = MemoryStore()
    runner = PartitionRunner(store, 0, Watermark(30_000, 0, live=False))
    for offset, (record, value) in enumerate(zip(records, values, strict=True)):
        step = runner.on_record(record.stream, value, Position(record.stream, offset), 0,
                                knowledge)
        store.apply(step.effects.writes)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak


def bench_catalogue_scale(records: Sequence[Event], total: int = 500) -> list[Row]:
    """A replay of ``records`` (one partition, in process) with the bundled catalogue and with
    ``total`` triggers: time and memory as ratios (target <= 1.5x, issue 21)."""
    small = scaled_catalogue(0)
    big = scaled_catalogue(total)
    small_s, small_peak = _replay(records, small)
    big_s, big_peak = _replay(records, big)
    n = len(records)
    time_ratio = big_s / small_s if small_s > 0 else float("inf")
    memory_ratio = big_peak / small_peak if small_peak > 0 else float("inf")
    return [
        Row("catalogue_15", f"replay, bundled {len(small.enabled())} triggers", n / small_s,
            "events/s", n, small_s, note=f"peak {small_peak / 2**20:.1f} MiB allocated"),
        Row(f"catalogue_{total}", f"replay, {len(big.enabled())} triggers", n / big_s,
            "events/s", n, big_s,
            note=f"time {time_ratio:.2f}x, memory {memory_ratio:.2f}x of the bundled "
                 f"(target <= 1.5x); peak {big_peak / 2**20:.1f} MiB"),
    ]
