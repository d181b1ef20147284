"""Which broker a bench run uses: Apache Kafka where it can run here, else the embedded one.

``make bench`` runs on a single-node Apache Kafka (``cjo.adapters.kafka_broker``: Java 17+ and
its jars, resolved once by Maven) when :func:`cjo.adapters.kafka_broker.available` says it can,
and on the embedded (Tansu) broker with ``--embedded``; where Kafka cannot run, or fails to
start, the run says so in one line and goes on on the embedded broker. The table and the JSON
name the broker (``setup.broker``). Workers on Kafka get ``CJO_EMBEDDED_BROKER_WORKAROUNDS=false``
(the broker's ``workarounds``).

Timestamps: Kafka 4 refuses a record stamped more than an hour ahead of its clock
(``log.message.timestamp.after.max.ms``, default 1 h). The bench stamps each record with its
event time, and the generated event times lie in January 2026 (``bench.events``): the bench
keeps the broker's default, as an operator's cluster would have it, and :func:`check_times`
refuses, in one line, a run whose last event time would be more than that ahead of now.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from cjo.adapters import kafka_broker
from cjo.adapters.broker import Broker, EmbeddedBroker
from cjo.errors import BrokerError, ConfigError

FUTURE_LIMIT_MS = 3_600_000  # Kafka 4's default log.message.timestamp.after.max.ms


def _say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def name(broker: Broker) -> str:
    """What the table and the JSON call the broker: ``Apache Kafka 4.2.2`` or ``embedded
    (Tansu)``."""
    if broker.workarounds:
        return broker.kind
    return f"{broker.kind} {kafka_broker.kafka_version()}"


@contextmanager
def open_broker(embedded: bool) -> Iterator[Broker]:
    """A started broker for the run (see the module docstring), stopped on exit."""
    broker: Broker | None = None
    if not embedded:
        reason = kafka_broker.available()
        if reason is None:
            try:
                broker = kafka_broker.KafkaBroker().start()
            except BrokerError as err:
                reason = str(err).splitlines()[0]
        if broker is None:
            _say(f"Apache Kafka cannot run here ({reason}); on the embedded broker instead")
    if broker is None:
        broker = EmbeddedBroker().start()
    try:
        yield broker
    finally:
        broker.stop()


def check_times(last_event_ms: int, broker: Broker, now_ms: int | None = None) -> None:
    """ConfigError when Apache Kafka would refuse the run's last records as too far ahead."""
    if broker.workarounds:  # the embedded broker takes any timestamp
        return
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if last_event_ms > now + FUTURE_LIMIT_MS:
        raise ConfigError(
            "the bench's event times run past an hour from now, which Apache Kafka refuses "
            "(log.message.timestamp.after.max.ms): use fewer --days, or --embedded")
