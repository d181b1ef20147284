"""Producing the bench's records: at full speed, or paced with each record's production stamped.

Keys are imsi bytes and the partitioner is the project's (``murmur2_random``, as the replay
producer and the Faust workers use), so every input topic stays co-partitioned by imsi. Each
record's Kafka timestamp is its event time, as ``cjo replay`` does.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, Message, Producer

from bench.events import Event
from cjo.adapters.kafka_admin import Partition, producer_config
from cjo.errors import BrokerError

PRODUCED_AT = "cjo-bench-produced-at"  # header: wall time (epoch ms) the record was produced
_FULL_SPEED_LINGER_MS = 100  # as cjo replay at max speed: few large batches


@dataclass
class Produced:
    """End offsets per partition (from delivery reports), and when each event id was produced."""

    ends: dict[Partition, int] = field(default_factory=dict)
    produced_at: dict[str, int] = field(default_factory=dict)
    count: int = 0
    seconds: float = 0.0
    failed: int = 0
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def __call__(self, error: KafkaError | None, msg: Message) -> None:
        topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
        if error is not None or topic is None or partition is None or offset is None:
            self.failed += 1
            self.first_error = self.first_error or str(error)
            return
        self.ends[topic, partition] = max(self.ends.get((topic, partition), 0), offset + 1)


def _send(producer: Producer, topic: str, event: Event, report: Produced,
          headers: list[tuple[str, str | bytes | None]] | None = None) -> None:
    while True:
        try:
            producer.produce(topic, event.value, event.key, timestamp=event.event_time,
                             headers=headers, on_delivery=report)
            return
        except BufferError:
            producer.poll(0.05)


def _finish(producer: Producer, report: Produced, started: float, bootstrap: str) -> Produced:
    left = producer.flush(120)
    report.seconds = time.monotonic() - started
    if left or report.failed:
        raise BrokerError(f"bench producer to {bootstrap}: {left + report.failed} records not "
                          f"delivered ({report.first_error or 'timed out'})")
    return report


def produce_all(bootstrap: str, topics: Mapping[str, str], events: Iterable[Event],
                report: Produced | None = None) -> Produced:
    """Every event at full speed onto ``topics[event.stream]``; ``report`` accumulates."""
    report = report or Produced()
    producer = Producer(producer_config(bootstrap, linger_ms=_FULL_SPEED_LINGER_MS))
    started = time.monotonic()
    for n, event in enumerate(events, start=1):
        _send(producer, topics[event.stream], event, report)
        report.count += 1
        if n % 1000 == 0:
            producer.poll(0)
    return _finish(producer, report, started, bootstrap)


def produce_paced(bootstrap: str, topics: Mapping[str, str], events: Iterable[Event],
                  rate: float, report: Produced | None = None) -> Produced:
    """Events at ``rate`` a second (evenly spaced), each stamped with its production wall time
    (header ``cjo-bench-produced-at`` and ``report.produced_at[event_id]``)."""
    return produce_due(bootstrap, topics, events, (n / rate for n in itertools.count()),
                       report or Produced())


def produce_due(bootstrap: str, topics: Mapping[str, str], events: Iterable[Event],
                due: Iterable[float], report: Produced) -> Produced:
    """Each event when its ``due`` time (seconds from the start) comes, stamped as above."""
    producer = Producer(producer_config(bootstrap))  # cjo's live settings: linger 5 ms
    started = time.monotonic()
    for event, at in zip(events, due, strict=False):
        while (delay := started + at - time.monotonic()) > 0:
            producer.poll(min(delay, 0.05))
        now_ms = time.time_ns() // 1_000_000
        _send(producer, topics[event.stream], event, report,
              [(PRODUCED_AT, str(now_ms).encode())])
        report.produced_at[event.event_id] = now_ms
        report.count += 1
        producer.poll(0)
    return _finish(producer, report, started, bootstrap)
