"""A real pipeline for integration tests: the session's broker, a `cjo worker` child process,
the replay producer, and what the engine published read back from the topics."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from cjo import codec
from cjo.adapters.demo import collect
from cjo.adapters.kafka_admin import committed_offsets, create_topics, read_all
from cjo.adapters.replay import ReplaySummary, replay
from cjo.adapters.worker_process import WorkerProcess, wait_consumed, worker_env
from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.validate import default_catalogue
from cjo.offline import read_log, run_offline
from cjo.settings import load
from cjo.summary import Summary


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
        self.end_offsets: dict[tuple[str, int], int] = {}
        create_topics(bootstrap, self.settings.topics.all(), partitions)

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

    def dead_letters(self) -> list[dict[str, Any]]:
        return [codec.decode(r.value)[1] for r in read_all(self.settings.broker,
                                                           [self.topics["dlq"]])]

    def offer_ids_on_channels(self) -> list[str]:
        records = read_all(self.settings.broker, list(self.topics.offers().values()))
        return [codec.decode(r.value)[1]["offer_id"] for r in records]

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()


def reference_decisions(log: Path, catalogue: Catalogue | None = None,
                        partitions: int = 1) -> list[dict[str, Any]]:
    """What the engine must decide for a log: the domain run in process with the same event-time
    merge and timers (``cjo.offline``), the oracle of the crash and determinism tests."""
    records, _bad = read_log(log)
    return run_offline(records, catalogue or default_catalogue(), partitions).decisions
