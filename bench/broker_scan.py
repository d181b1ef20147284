"""``--broker-scan``: what a fetch costs the broker as a partition's batches pile up.

The soak (``--soak``) on the embedded broker slows with its own age, and the worker is not why:
its CPU falls while the embedded broker's climbs to a whole core (docs/reliability.md, "Soak").
This stage shows the broker's part alone (on Apache Kafka by default, ``--embedded`` for the
embedded one), with no cjo worker: one partition filled with small record batches (one per
produce request, as a paced producer with a short linger makes them), then, per round, one
record produced and fetched at the log's end, many times; the broker's CPU per round trip and
the time of one, against the first round (the baseline of the same run). Apache Kafka finds a
fetch offset through its offset index, so its cost should stay flat; a cost that grows with the
batches stored is the broker's, and bounds how long a run on it stays fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import Consumer, Producer, TopicPartition

from bench.children import cpu_seconds
from cjo.adapters.broker import Broker
from cjo.adapters.kafka_admin import create_topics, producer_config
from cjo.adapters.kafka_security import confluent_config

TOPIC = "broker-scan"


@dataclass(frozen=True)
class ScanRound:
    batches: int  # record batches stored in the partition
    round_trip_ms: float  # one record produced, then fetched at the end
    broker_cpu_ms: float  # the broker's CPU per round trip


def _fill(producer: Producer, batches: int) -> None:
    """``batches`` one-record batches (no linger, one in flight: a request each)."""
    for i in range(batches):
        producer.produce(TOPIC, b"x" * 200, partition=0)
        if i % 2:
            producer.flush()
    producer.flush()


def _round_trips(producer: Producer, consumer: Consumer, start: int, pid: int,
                 count: int) -> tuple[float, float]:
    consumer.assign([TopicPartition(TOPIC, 0, start)])
    cpu, began = cpu_seconds(pid), time.perf_counter()
    for _ in range(count):
        producer.produce(TOPIC, b"y" * 200, partition=0)
        producer.flush()
        while (message := consumer.poll(1.0)) is None or message.error() is not None:
            pass
    seconds = time.perf_counter() - began
    return seconds / count * 1000, (cpu_seconds(pid) - cpu) / count * 1000


def broker_scan(broker: Broker, rounds: int = 4, per_round: int = 15_000,
                trips: int = 200) -> list[ScanRound]:
    """The rounds on ``broker``, a started broker of this machine (its CPU is read in /proc)."""
    found: list[ScanRound] = []
    pid = broker.pid
    if pid is None:
        raise RuntimeError("the broker has no process here")
    create_topics(broker.bootstrap, [TOPIC], 1)
    producer = Producer(producer_config(broker.bootstrap, **{
        "linger.ms": 0, "max.in.flight.requests.per.connection": 1}))
    consumer = Consumer(confluent_config(broker.bootstrap, {
        "group.id": "cjo-bench-broker-scan", "enable.auto.commit": False,
        "fetch.wait.max.ms": 100, "log_level": 3}))
    stored = 0
    try:
        for _ in range(rounds):
            _fill(producer, per_round)
            stored += per_round
            trip_ms, cpu_ms = _round_trips(producer, consumer, stored, pid, trips)
            stored += trips
            found.append(ScanRound(stored, trip_ms, cpu_ms))
    finally:
        consumer.close()
    return found


def scan_text(rounds: list[ScanRound]) -> str:
    first = rounds[0]
    lines = ["broker scan: batches stored, ms per produce+fetch, broker CPU ms per round trip "
             "(x the first round)"]
    lines += [f"  {r.batches:>8,} {r.round_trip_ms:8.1f} {r.broker_cpu_ms:8.1f} "
              f"({r.broker_cpu_ms / first.broker_cpu_ms:.1f}x)" for r in rounds]
    return "\n".join(lines)
