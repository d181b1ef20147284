"""`make bench`: throughput and latency, each against a baseline measured in the same run.

Stages, each printed as events/s and a ratio to its baseline:
1. domain: codec decode alone (baseline) vs decode + decide (state update, triggers, offers);
2. pipeline: a plain confluent-kafka consumer reading the input topics (baseline) vs a worker
   processing them end to end (decode, event-time merge, decide, publish, RocksDB + changelog,
   commit), on the embedded broker on this machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rocksdict import Options, Rdict

from cjo import codec
from cjo.adapters.broker import EmbeddedBroker
from cjo.adapters.demo import collect
from cjo.adapters.kafka_admin import committed_offsets, create_topics, read_all
from cjo.adapters.replay import replay
from cjo.adapters.worker_process import WorkerProcess, worker_env
from cjo.catalogue.validate import default_catalogue
from cjo.errors import InvalidRecord
from cjo.runner import MemoryStore, PartitionRunner, Shared
from cjo.settings import load
from cjo.sim import simulate, write_log
from cjo.state import Position
from cjo.summary import percentile
from cjo.timers import Timer, Watermark, due_bound
from streams.table_store import scan_due


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def bench_domain(log: Path) -> None:
    records = []
    for line in log.read_bytes().splitlines():
        try:
            rec = codec.parse_log_line(line)
        except InvalidRecord:
            continue
        records.append((rec.stream, codec.encode(rec.record_name, rec.value)))
    start = time.perf_counter()
    for _, data in records:
        codec.decode(data)
    baseline = _rate(len(records), time.perf_counter() - start)
    store = MemoryStore()
    runner = PartitionRunner(store, 0, Watermark(30_000, 0, live=False))
    shared = Shared(default_catalogue())
    start = time.perf_counter()
    fired = 0
    for offset, (stream, data) in enumerate(records):
        _, value = codec.decode(data)
        out = runner.on_record(stream, value, Position(stream, offset), 0, shared)
        store.apply(out.writes)
        fired += out.fired
    full = _rate(len(records), time.perf_counter() - start)
    print(f"domain   baseline decode only      {baseline:>10,.0f} events/s")
    print(f"domain   decode + 13 triggers + timers + state "
          f"{full:>10,.0f} events/s   ratio {full / baseline:.2f}   ({fired} timers fired)")


def bench_pipeline(log: Path, partitions: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cjo-bench-") as tmp, EmbeddedBroker() as broker:
        settings = load(broker=broker.bootstrap, partitions=partitions, app_id="cjo-bench",
                        time_mode="replay", data_dir=Path(tmp) / "state")
        create_topics(settings.broker, settings.topics.all(), partitions)
        replayed = replay(log, settings.broker, settings.topics, progress=False)
        print(f"replay   producer                  {replayed.events_per_s:>10,.0f} events/s")
        inputs = list(settings.topics.inputs().values())
        start = time.perf_counter()
        count = len(read_all(settings.broker, inputs))
        baseline = _rate(count, time.perf_counter() - start)
        print(f"pipeline baseline plain consumer   {baseline:>10,.0f} events/s")
        ends = {tp: e for tp, e in replayed.end_offsets.items() if tp[0] in inputs}
        worker = WorkerProcess(worker_env(settings), Path(tmp) / "worker.log").start()
        try:
            elapsed = _time_worker(settings.broker, settings.app_id, inputs, ends, worker)
        finally:
            worker.stop()
        summary = collect(settings)
        total = sum(ends.values())
        rate = _rate(total, elapsed)
        print(f"pipeline worker end to end         {rate:>10,.0f} events/s   "
              f"ratio {rate / baseline:.3f}   ({total:,} events in {elapsed:.1f} s)")
        lat = summary.latencies
        print(f"pipeline offers {len(summary.offers)}, ingest-to-publish p50 "
              f"{percentile(lat, 50):.0f} ms, p99 {percentile(lat, 99):.0f} ms (catch-up load)")


def _time_worker(bootstrap: str, group: str, inputs: list[str],
                 ends: dict[tuple[str, int], int], worker: WorkerProcess) -> float:
    """Seconds from the first committed offset to the last (group join excluded)."""
    first: float | None = None
    while True:
        committed = committed_offsets(bootstrap, group, inputs)
        done = sum(max(committed.get(tp, -1), 0) for tp in ends)
        now = time.perf_counter()
        if first is None and done > 0:
            first = now
        if all(committed.get(tp, -1) >= end for tp, end in ends.items()):
            return now - (first or now)
        if not worker.alive:
            raise SystemExit(f"worker died: {worker.log_tail()}")
        time.sleep(0.2)


def bench_timers(few: int = 1_000, many: int = 200_000, due: int = 10) -> None:
    """A tick's due-timer scan in RocksDB: ``few`` vs ``many`` timers stored, ``due`` due each
    time; the ratio should stay near 1 (the cost follows the timers due, not those stored)."""
    per_tick = {}
    for stored in (few, many):
        with tempfile.TemporaryDirectory() as tmp:
            db = Rdict(tmp, options=Options(raw_mode=True))
            start_ms = 1_767_225_600_000
            for i in range(stored):
                db[Timer(start_ms + 86_400_000 + i, f"23415{i:010d}", "t", "x").key()] = b"1"
            for i in range(due):
                db[Timer(start_ms + i, f"23415{i:010d}", "t", "x").key()] = b"1"
            bound, reps = due_bound(start_ms + 1_000), 2_000
            began = time.perf_counter()
            for _ in range(reps):
                assert len(scan_due(db, bound, 5_000)) == due
            per_tick[stored] = (time.perf_counter() - began) / reps * 1e6
            db.close()
    print(f"timers   due-scan, {few:>7,} stored       {per_tick[few]:>10.1f} us/tick")
    print(f"timers   due-scan, {many:>7,} stored       {per_tick[many]:>10.1f} us/tick   "
          f"ratio {per_tick[many] / per_tick[few]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="cjo-bench", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "bench.jsonl"
        with log.open("w") as out:
            sim = write_log(simulate(args.subscribers, args.days, seed=1), out)
        print(f"log: {args.subscribers} subscribers x {args.days} days, {sim.lines:,} lines")
        bench_domain(log)
        bench_timers()
        bench_pipeline(log, args.partitions)


if __name__ == "__main__":
    main()
