"""Rows "recovery": restoring the state table from its changelog, cjo's reader vs faust's own.

Two fresh workers with empty data directories join a group whose changelog already holds the
state, one after the other: the first with ``CJO_FAST_RESTORE=false`` (faust's restore, one
record at a time, timed from its "Restoring state from changelog topics" to its "Done reading
from changelog topics" lines), the second with cjo's reader (``streams.restore``, timed by its
``state_restored`` line). Both count the changelog's records (its end offsets, less its start):
the same changelog, so the ratio is the speed-up.

``restore_rows(bootstrap, env, tmp, timeout_s)`` takes the environment of a worker that wrote
the changelog (the bench's row 3). Standalone, ``python -m bench.restore
--subscribers 100000`` writes a changelog of its own first: the state the domain (in process,
one runner per partition, as ``cjo.engine.offline``) writes for the bench's event set, every
step's writes as one changelog record each, then measures both on an Apache Kafka broker it
starts (or ``--bootstrap``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import orjson
from confluent_kafka import Producer

from bench.children import StageFailed, StageTimeout, cjo_worker, log_time
from bench.events import Event, generate
from bench.report import Results, Row, table
from cjo import codec
from cjo.adapters.kafka_admin import create_topics, end_offsets, producer_config
from cjo.adapters.kafka_broker import KafkaBroker
from cjo.adapters.worker_process import worker_env
from cjo.catalogue.validate import default_catalogue
from cjo.engine.offline import partition_of
from cjo.engine.runner import Knowledge, MemoryStore, PartitionRunner
from cjo.settings import load
from cjo.state import Position
from cjo.timers import Watermark

STATE_TABLE = "subscriber-state"  # streams.app.STATE_TABLE (the bench imports no faust app)
FAUST_START = "Restoring state from changelog topics"
FAUST_DONE = "Done reading from changelog topics"
CJO_DONE = "state_restored"


@dataclass
class Restore:
    records: int  # changelog records (end offsets less start offsets)
    seconds: float
    cpu_seconds: float = 0.0  # cjo's reader: its thread's CPU time (0: not known)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def changelog_topic(app_id: str) -> str:
    return f"{app_id}-{STATE_TABLE}-changelog"


def restore_rows(bootstrap: str, env: Mapping[str, str], tmp: Path,
                 timeout_s: float) -> list[Row]:
    """The two rows, on the changelog of the worker whose environment is ``env``."""
    records = _records(bootstrap, env["CJO_APP_ID"])
    rows: list[Row] = []
    measured: dict[bool, Restore] = {}
    for fast, key, label in ((False, "recovery_faust", "recovery: faust's own restore"),
                             (True, "recovery", "recovery: cjo's reader")):
        try:
            measured[fast] = worker_restore(env, tmp, fast, records, timeout_s)
        except (StageFailed, StageTimeout) as err:
            rows.append(Row(key, label, None, "records/s", note=f"FAILED: {err}".splitlines()[0]))
            continue
        got = measured[fast]
        note = ""
        if fast and False in measured and measured[False].rate > 0:
            note = f"{got.rate / measured[False].rate:.1f}x faust's"
        if got.cpu_seconds > 0:
            note += f"; {got.records / got.cpu_seconds:,.0f} records per CPU-s of its thread"
        rows.append(Row(key, label, got.rate, "records/s", got.records, got.seconds, note=note))
    return rows


def worker_restore(env: Mapping[str, str], tmp: Path, fast: bool, records: int,
                   timeout_s: float) -> Restore:
    """A worker with an empty data directory restores the changelog; its restore time."""
    name = "restore-cjo" if fast else "restore-faust"
    child_env = {**env, "CJO_DATA_DIR": str(tmp / name), "CJO_LOG_LEVEL": "INFO",
                 "CJO_FAST_RESTORE": "true" if fast else "false"}
    log_path = tmp / f"{name}.log"
    child = cjo_worker(child_env, log_path).start()
    deadline = time.monotonic() + timeout_s
    try:
        while (seconds := restore_seconds(_read(log_path), fast)) is None:
            if not child.alive:
                raise StageFailed(f"the restoring worker died:\n{child.log_tail()}")
            if time.monotonic() > deadline:
                raise StageTimeout(f"no restore in {timeout_s:.0f} s ({log_path})")
            time.sleep(0.2)
    finally:
        child.stop()
    return Restore(records, seconds, _cpu_seconds(_read(log_path)) if fast else 0.0)


def _cpu_seconds(log: str) -> float:
    for line in log.splitlines():
        if CJO_DONE in line and line.startswith("{"):
            return float(orjson.loads(line).get("cpu_seconds", 0.0))
    return 0.0


def restore_seconds(log: str, fast: bool) -> float | None:
    """The restore's seconds in a worker log: cjo's ``state_restored`` line, or the time between
    faust's start and done lines; None while absent."""
    start = None
    for line in log.splitlines():
        if fast and CJO_DONE in line and line.startswith("{"):
            return float(orjson.loads(line)["seconds"])
        if not fast and start is None and FAUST_START in line:
            start = log_time(line)
        elif not fast and start is not None and FAUST_DONE in line:
            return log_time(line) - start
    return None


def _records(bootstrap: str, app_id: str) -> int:
    return sum(end_offsets(bootstrap, [changelog_topic(app_id)]).values())


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


# --- standalone: a changelog of the domain's state for the bench's event set ---

def domain_changelog(events: Sequence[Event], partitions: int
                     ) -> list[tuple[int, bytes, bytes | None]]:
    """(partition, key, value) of every write of every step, in order; None deletes."""
    knowledge = Knowledge(default_catalogue())
    stores = [MemoryStore() for _ in range(partitions)]
    runners = [PartitionRunner(stores[p], p, Watermark(30_000, 0, live=False), partitions)
               for p in range(partitions)]
    records: list[tuple[int, bytes, bytes | None]] = []
    for offset, event in enumerate(events):
        _, value = codec.decode(event.value)
        part = partition_of(value["imsi"], partitions)
        step = runners[part].on_record(event.stream, value, Position(event.stream, offset), 0,
                                       knowledge)
        stores[part].apply(step.effects.writes)
        records.extend((part, key, val) for key, val in step.effects.writes.items())
    return records


def write_changelog(bootstrap: str, topic: str, partitions: int,
                    records: Sequence[tuple[int, bytes, bytes | None]]) -> None:
    create_topics(bootstrap, [topic], partitions, config={"cleanup.policy": "compact"})
    producer = Producer(producer_config(bootstrap, linger_ms=20, batch_size=1_000_000))
    for partition, key, value in records:
        while True:
            try:
                producer.produce(topic, key=key, value=value, partition=partition)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    if producer.flush(120):
        raise StageFailed(f"the changelog {topic} was not all delivered")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.restore",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--bootstrap", default=None, help="default: start an Apache Kafka")
    args = parser.parse_args(argv)
    events = generate(args.subscribers, args.events)
    records = domain_changelog(events.all(), args.partitions)
    print(f"{len(records):,} changelog records for {args.subscribers:,} subscribers")
    with TemporaryDirectory(prefix="cjo-bench-restore-") as tmp:
        if args.bootstrap:  # the environment says whether it is the embedded broker
            return _measure(args.bootstrap, args.partitions, records, Path(tmp), {})
        with KafkaBroker() as kafka:
            return _measure(kafka.bootstrap, args.partitions, records, Path(tmp),
                            {"embedded_broker_workarounds": False})


def _measure(bootstrap: str, partitions: int, records: Sequence[tuple[int, bytes, bytes | None]],
             tmp: Path, overrides: Mapping[str, object]) -> int:
    settings = load(broker=bootstrap, partitions=partitions, app_id="cjo-bench-restore",
                    topic_prefix="benchrestore", time_mode="replay", data_dir=tmp / "unused",
                    **overrides)
    write_changelog(bootstrap, changelog_topic(settings.app_id), partitions, records)
    env = {**worker_env(settings, "INFO"), "CJO_WEB_PORT": "0"}
    results = Results()
    for row in restore_rows(bootstrap, env, tmp, timeout_s=600):
        results.add(row)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
