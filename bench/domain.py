"""The in-process stages kept from the first bench: the pure domain, and the timer due-scan.

- domain: codec decode alone vs decode + decide (state update, every trigger of the default
  catalogue, timers, contact policy), one partition's runner in memory, no Kafka;
- catalogue scale: the same replay with the bundled catalogue and with 500 enabled triggers (its
  triggers copied under new ids, ``bench.scaled_catalogue``), time and peak memory (tracemalloc,
  a second pass) as ratios to the bundled one;
- timers: a tick's due-timer scan in RocksDB with few vs many timers stored (the cost should
  follow the timers due, not those stored: ratio near 1); and after many timers have fired
  (deleted, their tombstones not yet compacted away), a scan from the timer prefix (as before
  the floor) vs from the batch store's floor.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from collections.abc import Sequence

from rocksdict import Options, Rdict

from bench.events import Event
from bench.report import Row
from bench.scaled_catalogue import scaled_sources
from cjo import codec
from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.validate import default_catalogue, load_catalogue
from cjo.engine.runner import Knowledge, MemoryStore, PartitionRunner
from cjo.state import Position
from cjo.timers import TIMER_PREFIX, Timer, Watermark, due_bound, scan_due


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def bench_domain(records: Sequence[Event]) -> list[Row]:
    """Decode alone, then decode + decide, over ``records`` (profiles first)."""
    start = time.perf_counter()
    for record in records:
        codec.decode(record.value)
    decode_s = time.perf_counter() - start
    store = MemoryStore()
    runner = PartitionRunner(store, 0, Watermark(30_000, 0, live=False))
    knowledge = Knowledge(default_catalogue())
    fired = 0
    start = time.perf_counter()
    for offset, record in enumerate(records):
        _, value = codec.decode(record.value)
        step = runner.on_record(record.stream, value, Position(record.stream, offset), 0,
                                knowledge)
        store.apply(step.effects.writes)
        fired += step.fired
    full_s = time.perf_counter() - start
    decode, full = _rate(len(records), decode_s), _rate(len(records), full_s)
    return [
        Row("domain_decode", "domain: decode only", decode, "events/s", len(records), decode_s),
        Row("domain_decide", "domain: decode + decide", full, "events/s", len(records), full_s,
            note=f"{full / decode:.2f} of decode only; {fired:,} timers fired"),
    ]


SCALED_TRIGGERS = 500


def _replay(records: Sequence[Event], catalogue: Catalogue) -> tuple[float, int]:
    """Seconds to decode and decide ``records`` in one in-memory partition, and offers sent."""
    store = MemoryStore()
    runner = PartitionRunner(store, 0, Watermark(30_000, 0, live=False))
    knowledge = Knowledge(catalogue)
    offers = 0
    start = time.perf_counter()
    for offset, record in enumerate(records):
        _, value = codec.decode(record.value)
        step = runner.on_record(record.stream, value, Position(record.stream, offset), 0,
                                knowledge)
        store.apply(step.effects.writes)
        offers += len(step.effects.offers)
    return time.perf_counter() - start, offers


def _peak(records: Sequence[Event], catalogue: Catalogue) -> int:
    """Peak bytes allocated (tracemalloc) while replaying ``records``: states, timers, caches."""
    tracemalloc.start()
    try:
        _replay(records, catalogue)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_catalogue_scale(records: Sequence[Event],
                          triggers: int = SCALED_TRIGGERS) -> list[Row]:
    """The domain replay with the bundled catalogue, then with ``triggers`` enabled ones."""
    bundled = default_catalogue()
    began = time.perf_counter()
    scaled = load_catalogue(scaled_sources(triggers))
    load_s = time.perf_counter() - began
    (small_s, small_offers), (big_s, big_offers) = (_replay(records, bundled),
                                                    _replay(records, scaled))
    small_peak, big_peak = _peak(records, bundled), _peak(records, scaled)
    mb = 1024 * 1024
    n = len(bundled.enabled())
    return [
        Row("catalogue_bundled", f"catalogue: replay, bundled ({n} enabled)",
            _rate(len(records), small_s), "events/s", len(records), small_s,
            note=f"peak {small_peak / mb:,.0f} MB; {small_offers:,} offers"),
        Row("catalogue_500", f"catalogue: replay, {triggers} enabled triggers",
            _rate(len(records), big_s), "events/s", len(records), big_s,
            note=f"time {big_s / small_s:.2f}x, peak memory {big_peak / small_peak:.2f}x "
                 f"({big_peak / mb:,.0f} MB) of bundled (target <= 1.5x); {big_offers:,} "
                 f"offers; validated in {load_s:.1f} s"),
    ]


def bench_timers(few: int = 1_000, many: int = 200_000, due: int = 10) -> list[Row]:
    per_tick: dict[int, float] = {}
    for stored in (few, many):
        with tempfile.TemporaryDirectory() as tmp:
            db = Rdict(tmp, options=Options(raw_mode=True))
            start_ms = 1_767_225_600_000
            for i in range(stored):
                db[Timer(start_ms + 86_400_000 + i, f"23415{i:010d}", "t", "x").key()] = b"1"
            for i in range(due):
                db[Timer(start_ms + i, f"23415{i:010d}", "t", "x").key()] = b"1"
            bound, reps = due_bound(start_ms + 1_000), 2_000
            for _ in range(reps // 4):  # warm-up: the block cache, the iterator code
                scan_due(db, bound, 5_000)
            began = time.perf_counter()
            for _ in range(reps):
                found = len(scan_due(db, bound, 5_000))
                if found != due:
                    raise AssertionError(f"due-scan found {found} timers, not {due}")
            per_tick[stored] = (time.perf_counter() - began) / reps * 1e6
            db.close()
    prefix, floor = _after_fired(many)
    return [
        Row("timers_few", f"timers: due-scan, {few:,} stored", per_tick[few], "us/tick"),
        Row("timers_many", f"timers: due-scan, {many:,} stored", per_tick[many], "us/tick",
            note=f"{per_tick[many] / per_tick[few]:.2f} of {few:,} stored"),
        Row("timers_fired_prefix", f"timers: due-scan from the prefix, {many:,} fired",
            prefix, "us/tick"),
        Row("timers_fired_floor", f"timers: due-scan from the floor, {many:,} fired",
            floor, "us/tick", note=f"{prefix / floor:,.0f}x faster than from the prefix"),
    ]


def _after_fired(fired: int, due: int = 10) -> tuple[float, float]:
    """us per due-scan, from the prefix and from the floor (the first live timer), once
    ``fired`` timers were stored and deleted in batches as a run does."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Rdict(tmp, options=Options(raw_mode=True))
        start_ms = 1_767_225_600_000
        for first in range(0, fired, 1_000):
            keys = [Timer(start_ms + i, f"23415{i:010d}", "t", "x").key()
                    for i in range(first, min(first + 1_000, fired))]
            for key in keys:
                db[key] = b"1"
            for key in keys:
                del db[key]
        live = [Timer(start_ms + fired + i, f"23415{i:010d}", "t", "x") for i in range(due)]
        for timer in live:
            db[timer.key()] = b"1"
        bound, floor = due_bound(start_ms + fired + due), live[0].key()
        timings = []
        for start, reps in ((TIMER_PREFIX, 50), (floor, 2_000)):
            began = time.perf_counter()
            for _ in range(reps):
                found = len(scan_due(db, bound, 5_000, start))
                if found != due:
                    raise AssertionError(f"due-scan found {found} timers, not {due}")
            timings.append((time.perf_counter() - began) / reps * 1e6)
        db.close()
    return timings[0], timings[1]
