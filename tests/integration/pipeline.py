"""A real pipeline for integration tests: the session's broker, a `cjo worker` child process,
the replay producer, and what the engine published read back from the topics."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from cjo import codec
from cjo.adapters.demo import collect
from cjo.adapters.kafka_admin import Replication, committed_offsets, create_topics, read_all
from cjo.adapters.replay import ReplaySummary, replay
from cjo.adapters.worker_process import WorkerProcess, wait_consumed, worker_env
from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.validate import default_catalogue
from cjo.engine.offline import read_log, run_offline
from cjo.errors import CjoError
from cjo.settings import load
from cjo.summary import Summary
from sim import simulate
from sim import write_log as write_simulated


def simulated_log(path: Path, subscribers: int, days: int, seed: int) -> Path:
    """A simulated recorded log (``cjo simulate``) written to ``path``."""
    with path.open("w") as out:
        write_simulated(simulate(subscribers=subscribers, days=days, seed=seed), out)
    return path


def write_log(path: Path, lines: Iterable[Mapping[str, Any] | str]) -> Path:
    with path.open("wb") as out:
        for line in lines:
            out.write((line.encode() if isinstance(line, str) else orjson.dumps(line)) + b"\n")
    return path


class Pipeline:
    def __init__(self, bootstrap: str, prefix: str, workdir: Path, partitions: int = 4,
                 **settings: Any) -> None:
        settings.setdefault("time_mode", "replay")
        self.settings = load(broker=bootstrap, topic_prefix=prefix, app_id=f"{prefix}-cjo",
                             partitions=partitions, data_dir=workdir / "state", **settings)
        self.workdir = workdir
        self.worker: WorkerProcess | None = None
        self.members: list[WorkerProcess] = []  # start_member: workers sharing the group
        self.end_offsets: dict[tuple[str, int], int] = {}
        create_topics(bootstrap, self.settings.topics.all(), partitions,
                      replication=Replication.of(self.settings))

    @property
    def topics(self) -> Any:
        return self.settings.topics

    def start_worker(self, name: str = "worker") -> WorkerProcess:
        self.worker = WorkerProcess(worker_env(self.settings, log_level="INFO"),
                                    self.workdir / f"{name}.log").start()
        return self.worker

    def replay(self, log: Path, speed: float | None = None) -> ReplaySummary:
        summary = replay(log, self.settings.broker, self.topics, speed=speed, progress=False)
        inputs = set(self.topics.inputs().values())
        for tp, end in summary.end_offsets.items():
            if tp[0] in inputs:
                self.end_offsets[tp] = max(end, self.end_offsets.get(tp, 0))
        return summary

    def replay_in_background(self, log: Path, speed: float) -> threading.Thread:
        thread = threading.Thread(target=self.replay, args=(log, speed), daemon=True)
        thread.start()
        return thread

    def produce_raw(self, stream: str, key: bytes | None, value: bytes) -> None:
        from confluent_kafka import Producer

        from cjo.adapters.kafka_admin import producer_config

        producer = Producer(producer_config(self.settings.broker))
        delivered: list[tuple[str, int, int]] = []
        producer.produce(self.topics[stream], key=key, value=value,
                         on_delivery=lambda err, msg: delivered.append(
                             (msg.topic(), msg.partition(), msg.offset())))
        producer.flush(10)
        topic, partition, offset = delivered[0]
        self.end_offsets[(topic, partition)] = max(offset + 1,
                                                   self.end_offsets.get((topic, partition), 0))

    def consumed(self) -> int:
        committed = committed_offsets(self.settings.broker, self.settings.app_id,
                                      list(self.topics.inputs().values()))
        return sum(max(v, 0) for v in committed.values())

    def wait(self, timeout_s: float = 180.0) -> None:
        assert self.worker is not None
        wait_consumed(self.settings.broker, self.settings.app_id, self.end_offsets,
                      self.worker, timeout_s)

    def collect(self) -> Summary:
        return collect(self.settings)

    def run(self, log: Path, speed: float | None = None, timeout_s: float = 180.0) -> Summary:
        """A worker started, ``log`` replayed and consumed, what came out; stopped whatever
        happens."""
        try:
            self.start_worker()
            self.replay(log, speed=speed)
            self.wait(timeout_s=timeout_s)
            return self.collect()
        finally:
            self.stop()

    def dead_letters(self) -> list[dict[str, Any]]:
        return [codec.decode(r.value)[1] for r in read_all(self.settings.broker,
                                                           [self.topics["dlq"]])]

    def offer_ids_on_channels(self) -> list[str]:
        records = read_all(self.settings.broker, list(self.topics.offers().values()),
                           isolation=self.settings.isolation_level)
        return [codec.decode(r.value)[1]["offer_id"] for r in records]

    def start_member(self, name: str, web_port: int = 0) -> WorkerProcess:
        """One more worker in the group, with its own RocksDB directory (and a free web port,
        unless one is given)."""
        env = {**worker_env(self.settings, log_level="INFO"),
               "CJO_DATA_DIR": str(self.workdir / f"state-{name}"),
               "CJO_WEB_PORT": str(web_port)}
        member = WorkerProcess(env, self.workdir / f"{name}.log").start()
        self.members.append(member)
        return member

    def committed(self) -> dict[tuple[str, int], int]:
        """The group's committed offset of every input partition (-1: nothing committed)."""
        return committed_offsets(self.settings.broker, self.settings.app_id,
                                 list(self.topics.inputs().values()))

    def wait_group(self, timeout_s: float) -> None:
        """Wait until the group committed every input partition to its end offset, whichever
        members are left; fails naming the partitions behind and every member's log tail."""
        deadline = time.monotonic() + timeout_s
        while True:
            committed = self.committed()
            behind = {tp: (committed.get(tp, -1), end) for tp, end in self.end_offsets.items()
                      if committed.get(tp, -1) < end}
            if not behind:
                return
            if time.monotonic() > deadline:
                rows = "\n".join(f"  {t}[{p}]: committed {c}, end {e}"
                                  for (t, p), (c, e) in sorted(behind.items()))
                raise CjoError(f"the group did not commit every input to its end within "
                               f"{timeout_s:.0f}s:\n{rows}\n{self.member_logs()}")
            time.sleep(0.5)

    def member_logs(self, lines: int = 25) -> str:
        return "\n".join(f"--- {m.log_path} ({'alive' if m.alive else 'ended'}):\n"
                         f"{m.log_tail(lines)}" for m in self.members)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        for member in self.members:  # all asked at once, so a slow one costs its grace once
            member.terminate()
        deadline = time.monotonic() + 15.0
        for member in self.members:
            if member.wait_exit(max(0.1, deadline - time.monotonic())) is None:
                member.kill()


def reference_decisions(log: Path, catalogue: Catalogue | None = None,
                        partitions: int = 1) -> list[dict[str, Any]]:
    """What the engine must decide for a log: the domain run in process with the same event-time
    merge and timers (``cjo.engine.offline``), the oracle of the crash and determinism tests."""
    records, _bad = read_log(log)
    return run_offline(records, catalogue or default_catalogue(), partitions).decisions


# --- what a worker's log says about its consumer group (aiokafka's and faust's own lines) ---

ASSIGNED = "Setting newly assigned partitions"
READY = "Worker ready"  # faust: recovery done and the streams resumed after an assignment
# faust logs a set of partitions as a table: "| t1.events.usage | {1, 4} |", ranges as "0-2"
_TP_REPR = re.compile(r"TopicPartition\(topic='([^']+)', partition=(\d+)\)")
_ROW = re.compile(r"^\|\s*(\S+)\s*\|\s*\{([^}]*)\}\s*\|", re.MULTILINE)


def _partition_set(spec: str) -> set[int]:
    parts: set[int] = set()
    for item in filter(None, (i.strip() for i in spec.split(","))):
        low, _, high = item.partition("-")
        parts.update(range(int(low), int(high or low) + 1))
    return parts


def log_size(worker: WorkerProcess) -> int:
    try:
        return worker.log_path.stat().st_size
    except OSError:
        return 0


def log_text(raw: str) -> str:
    """A worker log as text: each JSON line (cjo.logs renders faust's records as JSON too) as
    its ``event``, multi-line messages such as faust's partition tables unfolded; other lines
    as they are."""
    lines = []
    for line in raw.splitlines():
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            lines.append(line)
            continue
        lines.append(str(record.get("event", "")) if isinstance(record, dict) else line)
    return "\n".join(lines)


def latest_assignment(worker: WorkerProcess, since: int = 0,
                      topics: Iterable[str] | None = None) -> set[tuple[str, int]] | None:
    """The partitions (of ``topics``) the worker was last given after byte ``since`` of its log,
    once faust has resumed its streams on them; None while there is no such completed one."""
    try:
        with worker.log_path.open("rb") as log:
            log.seek(since)
            text = log_text(log.read().decode(errors="replace"))
    except OSError:
        return None
    at = text.rfind(ASSIGNED)
    if at < 0 or READY not in text[at:]:
        return None
    table = text[at:text.find(" for group", at)]
    wanted = None if topics is None else set(topics)
    # aiokafka's set of TopicPartition as cjo.logs renders it (repr), or as faust's table
    found = {(t, int(p)) for t, p in _TP_REPR.findall(table)}
    found |= {(t, p) for t, spec in _ROW.findall(table) for p in _partition_set(spec)}
    return {(t, p) for t, p in found if wanted is None or t in wanted}


def group_settled(members: Mapping[WorkerProcess, int], topics: Iterable[str],
                  partitions: int) -> dict[WorkerProcess, set[tuple[str, int]]] | None:
    """Each worker's assignment when every one of ``members`` (worker -> log offset to read
    from) has been assigned and resumed since its offset, the assignments are disjoint and
    together cover every partition of ``topics``, and none is empty; else None."""
    topics = list(topics)
    got = {w: latest_assignment(w, since, topics) for w, since in members.items()}
    if any(a is None or not a for a in got.values()):
        return None
    every = [tp for a in got.values() for tp in a or ()]
    whole = {(t, p) for t in topics for p in range(partitions)}
    if len(every) != len(set(every)) or set(every) != whole:
        return None
    return {w: a or set() for w, a in got.items()}


# --- a replay that can drop its pace: paced while the test waits for a moment mid-stream, at
# full speed once that moment is past (in replay mode decisions depend on event time only) ---

def cut_log(log: Path, where: Path, pieces: int) -> list[Path]:
    """``log``'s lines in order, cut into ``pieces`` files in ``where``."""
    lines = log.read_bytes().splitlines(keepends=True)
    size = -(-len(lines) // pieces)
    chunks = []
    for n, start in enumerate(range(0, len(lines), size)):
        chunk = where / f"{log.stem}-{n:02}.jsonl"
        chunk.write_bytes(b"".join(lines[start:start + size]))
        chunks.append(chunk)
    return chunks


class StagedReplay(threading.Thread):
    """The chunks of a log (``cut_log``) replayed in order, each at ``speed`` until ``hurry`` is
    set, the rest at full speed; while ``go`` is cleared it holds before its next chunk;
    ``error``: what stopped it, if anything."""

    def __init__(self, pipeline: Pipeline, chunks: list[Path], speed: float) -> None:
        super().__init__(daemon=True)
        self.pipeline, self.chunks, self.speed = pipeline, chunks, speed
        self.hurry, self.go = threading.Event(), threading.Event()
        self.go.set()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for chunk in self.chunks:
                self.go.wait()
                self.pipeline.replay(chunk, speed=None if self.hurry.is_set() else self.speed)
        except BaseException as err:  # the test reports it
            self.error = err

    def finish(self, timeout_s: float) -> None:
        """At full speed to the end; fails if it did not get there."""
        self.hurry.set()
        self.go.set()
        self.join(timeout_s)
        assert not self.is_alive(), "the replay did not end"
        assert self.error is None, f"the replay failed: {self.error!r}"
