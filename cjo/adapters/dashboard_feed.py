"""The live dashboard's feed: the fleet's decisions, outcomes and dead letters read from their
topics, and the consumer group's progress, into :class:`cjo.report.live_figures.LiveFigures`.

One daemon thread per worker process, started by the first dashboard request (a worker nobody
looks at reads nothing). It reads the output topics from ``CJO_DASHBOARD_WINDOW_H`` hours back
(the records' timestamps), so any worker shows the whole fleet's figures, not only its own
partitions; every ``PROGRESS_EVERY_S`` it asks the broker for the group's committed offsets and
the input partitions' end offsets (events per second, lag). A record that does not decode is
counted as skipped, never fatal; a broker that does not answer leaves the figures as they were
and is asked again.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from cjo import codec, logs
from cjo.adapters.kafka_admin import committed_offsets, end_offsets, partitions_of
from cjo.adapters.kafka_security import confluent_config
from cjo.errors import CjoError
from cjo.report.live_figures import LiveFigures
from cjo.settings import Settings

log = logs.get("cjo.dashboard")
PROGRESS_EVERY_S = 2.0
_RECORDS = {"decisions": "Decision", "outcomes": "Outcome", "dlq": "DeadLetter"}


class DashboardFeed:
    def __init__(self, settings: Settings, clock: Any = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._figures = LiveFigures()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.skipped = 0
        topics = settings.topics
        self._names = {topics[name]: record for name, record in _RECORDS.items()}
        self._kind = {topics[name]: name for name in _RECORDS}
        self._inputs = list(topics.inputs().values())

    def start(self) -> None:
        """Start reading (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="cjo-dashboard-feed",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self._figures.snapshot()

    def _run(self) -> None:
        try:
            consumer = self._consumer()
        except Exception as err:  # the page says so; the worker goes on
            log.warning("dashboard feed not started", error=str(err))
            return
        next_progress = 0.0
        try:
            while not self._stop.is_set():
                if time.monotonic() >= next_progress:
                    self._progress()
                    next_progress = time.monotonic() + PROGRESS_EVERY_S
                for message in consumer.consume(500, timeout=0.5):
                    topic = message.topic()
                    if message.error() is None and topic is not None:
                        self._add(topic, message.value())
        finally:
            consumer.close()

    def _consumer(self) -> Consumer:
        consumer = Consumer(confluent_config(self._settings.broker, {
            "group.id": f"cjo-dashboard-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "isolation.level": self._settings.isolation_level,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 200,
        }))
        since_ms = int((self._clock() - self._settings.dashboard_window_h * 3600) * 1000)
        wanted = [TopicPartition(topic, p, since_ms) for topic in self._names
                  for p in partitions_of(consumer, topic)]
        starts = consumer.offsets_for_times(wanted, timeout=30) if wanted else []
        # a partition with nothing since then answers -1 (its end): start there
        consumer.assign([TopicPartition(tp.topic, tp.partition,
                                        tp.offset if tp.offset >= 0 else -1) for tp in starts])
        return consumer

    def _add(self, topic: str, value: bytes | None) -> None:
        if value is None:
            return
        try:
            record = codec.decode(value, expected=self._names[topic])[1]
        except CjoError:
            self.skipped += 1
            return
        kind = self._kind[topic]
        with self._lock:
            if kind == "decisions":
                self._figures.add_decision(record)
            elif kind == "outcomes":
                self._figures.add_outcome(record)
            else:
                self._figures.add_dead_letter(record)
            self._figures.touch(self._clock())

    def _progress(self) -> None:
        try:
            ends = end_offsets(self._settings.broker, self._inputs, timeout_s=10)
            committed = committed_offsets(self._settings.broker, self._settings.app_id,
                                          self._inputs, timeout_s=10)
        except Exception as err:  # asked again next time
            log.debug("dashboard progress not read", error=str(err))
            return
        with self._lock:
            self._figures.progress(committed, ends, time.monotonic())
            self._figures.touch(self._clock())
