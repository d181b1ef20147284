"""``cjo gateway <channel>``: offers from ``cjo.offers.<channel>`` to the channel's endpoint, at
least once from Kafka and never twice to the endpoint.

One process per channel, consumer group ``<app id>-gateway-<channel>``; several instances share
the partitions. For each offer read:

1. its entry in the claim ledger (``cjo.gateway.<channel>.ledger``, read to the end of the
   offer partition's number when the partition is assigned) decides (``cjo.delivery.ledger``):
   DONE: skip; CLAIMED by a process that died: report UNKNOWN, never resend;
2. past ``valid_until``: FAILED ``expired``, never sent (``CJO_TIME_MODE=live``; in replay mode
   validity is in the log's event time, which the gateway does not follow: not checked);
3. otherwise CLAIMED is written (and acknowledged by the broker) before each attempt;
   a ``Retry`` writes RELEASED and waits out the backoff; an ``Outcome`` (or an exception of the
   channel: UNKNOWN, since the attempt may have reached the endpoint) is published on
   ``cjo.offers.responses``, then recorded DONE;
4. the offer's offset is committed once everything before it in its partition is finished.

A record that is not an ``Offer`` goes to the dead-letter topic with its bytes and the reason.
When the broker refuses a write, the gateway stops at once without committing past the offer
(exit status 1): nothing is lost, and the offer in doubt is reported UNKNOWN after the restart.
Partitions revoked in a rebalance are handed over only after their sends in flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from confluent_kafka import Consumer, Message, TopicPartition

from cjo import logs
from cjo.adapters.gateways.channel import Channel
from cjo.adapters.gateways.kafka_io import AsyncProducer, read_ledger
from cjo.adapters.gateways.settings import GatewaySettings
from cjo.adapters.kafka_admin import Replication, create_topics
from cjo.adapters.kafka_security import confluent_config
from cjo.codec import dead_letter, decode, encode
from cjo.delivery import (
    Action,
    Claim,
    Entry,
    LedgerTable,
    OfferMessage,
    Outcome,
    Response,
    Status,
    failed,
    unknown,
)
from cjo.delivery.offsets import OffsetTracker
from cjo.delivery.outcome import EXHAUSTED, EXPIRED, IN_DOUBT
from cjo.errors import BrokerError, CjoError
from cjo.settings import Settings

log = logs.get("cjo.gateway")
PROGRESS_EVERY_S = 10.0
DRAIN_TIMEOUT_S = 60.0
_FOREVER_MS = 2**62


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Gateway:
    """One channel's runner: ``await run(stop)`` until ``stop`` is set or the broker fails."""

    def __init__(self, channel: Channel, settings: Settings,
                 gateway: GatewaySettings | None = None) -> None:
        self.channel = channel
        self.settings = settings
        self.gateway = gateway or GatewaySettings()
        self.owner = self.gateway.owner()
        self.policy = self.gateway.retry_policy()
        # replay mode: valid_until is in the replayed log's event time, which a gateway does not
        # follow; the offers are sent whatever their validity (docs/gateways.md)
        self.validity = settings.time_mode == "live"
        name = channel.name
        self.offers_topic = settings.topics[name]
        self.ledger_topic = settings.topics[f"ledger_{name}"]
        self.responses_topic = settings.topics["responses"]
        self.dlq_topic = settings.topics["dlq"]
        self.group = f"{settings.app_id}-gateway-{name}"
        self.counts: Counter[str] = Counter()
        self._tables: dict[int, LedgerTable] = {}
        self._trackers: dict[int, OffsetTracker] = {}
        self._inflight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # offers between read and recorded; of them, the channel's concurrency in a send
        self._slots = asyncio.Semaphore(max(self.gateway.max_in_flight, channel.concurrency))
        self._send_slots = asyncio.Semaphore(max(1, channel.concurrency))
        self._fatal: BaseException | None = None
        self._producer: AsyncProducer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- the Kafka side -------------------------------------------------------------------

    def create_topics(self) -> None:
        replication = Replication.of(self.settings)
        create_topics(self.settings.broker, [self.offers_topic, self.responses_topic,
                                             self.dlq_topic], self.settings.partitions,
                      replication=replication)
        retention_ms = int(self.gateway.ledger_retention_hours * 3_600_000)
        create_topics(self.settings.broker, [self.ledger_topic], self.settings.partitions,
                      config={"cleanup.policy": "compact,delete",
                              "retention.ms": str(retention_ms)},
                      replication=replication)

    def _consumer(self) -> Consumer:
        static = ({"group.instance.id": self.settings.group_instance_id}
                  if self.settings.group_instance_id else {})
        return Consumer(confluent_config(self.settings.broker, {**static,
            "group.id": self.group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "fetch.wait.max.ms": 50,
            "session.timeout.ms": int(self.settings.session_timeout_s * 1000),
            "max.poll.interval.ms": 900_000, "log_level": 3,
            "isolation.level": self.settings.isolation_level}))

    async def run(self, stop: asyncio.Event) -> int:
        """0 after a clean stop, 1 when the broker refused a write (nothing committed past
        it)."""
        self._loop = loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.create_topics)
        self._producer = AsyncProducer(self.settings.broker, loop)
        await self.channel.open(self.publish)
        consumer = self._consumer()
        polling = ThreadPoolExecutor(1, thread_name_prefix="gateway-consumer")
        consumer.subscribe([self.offers_topic], on_assign=self._on_assign,
                           on_revoke=self._on_revoke, on_lost=self._on_lost)
        log.info("gateway started", channel=self.channel.name, topic=self.offers_topic,
                 group=self.group, owner=self.owner)
        last_commit = last_progress = time.monotonic()
        try:
            while not stop.is_set() and self._fatal is None:
                messages = await loop.run_in_executor(polling, consumer.consume, 200, 0.1)
                for msg in messages:
                    await self._take(msg)
                    if self._fatal is not None:
                        break
                clock = time.monotonic()
                if clock - last_commit >= self.gateway.commit_interval_ms / 1000:
                    await loop.run_in_executor(polling, self._commit, consumer, None)
                    last_commit = clock
                if clock - last_progress >= PROGRESS_EVERY_S:
                    log.info("progress", channel=self.channel.name, **self.counts)
                    last_progress = clock
            await self._drain(None)
            if self._fatal is None:
                await loop.run_in_executor(polling, self._commit, consumer, None)
        finally:
            await loop.run_in_executor(polling, consumer.close)
            polling.shutdown()
            await self.channel.close()
            self._producer.close()
        log.info("gateway stopped", channel=self.channel.name, **self.counts)
        if self._fatal is not None:
            log.error("gateway failed", channel=self.channel.name, error=str(self._fatal))
            return 1
        return 0

    async def _take(self, msg: Message) -> None:
        error = msg.error()
        if error is not None:
            if error.fatal():
                self._fatal = BrokerError(f"consuming {self.offers_topic}: {error}")
            return
        partition, offset = msg.partition() or 0, msg.offset() or 0
        tracker = self._trackers.get(partition)
        if tracker is None:  # revoked meanwhile: its new owner reads it again
            return
        await self._slots.acquire()
        tracker.start(offset)
        task = asyncio.create_task(self._handle(msg, partition, offset, tracker))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _commit(self, consumer: Consumer, partitions: list[int] | None) -> None:
        offsets = [TopicPartition(self.offers_topic, p, committable)
                   for p, tracker in list(self._trackers.items())
                   if (partitions is None or p in partitions)
                   and (committable := tracker.committable()) is not None]
        if offsets and self._fatal is None:
            with contextlib.suppress(Exception):  # nothing to commit, or a rebalance: re-read
                consumer.commit(offsets=offsets, asynchronous=False)

    # Rebalance callbacks run in the polling thread, inside consume(); the event loop is free.

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._assigned([tp.partition for tp in partitions]),
                                         self._loop).result()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        assert self._loop is not None
        numbers = [tp.partition for tp in partitions]
        asyncio.run_coroutine_threadsafe(self._drain(numbers), self._loop).result()
        self._commit(consumer, numbers)
        self._forget(numbers)

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        assert self._loop is not None
        numbers = [tp.partition for tp in partitions]
        asyncio.run_coroutine_threadsafe(self._drain(numbers), self._loop).result()
        self._forget(numbers)

    async def _assigned(self, partitions: list[int]) -> None:
        assert self._loop is not None
        for p in partitions:
            table, bad = await self._loop.run_in_executor(
                None, read_ledger, self.settings.broker, self.ledger_topic, p)
            if bad:
                log.warning("ledger records skipped", topic=self.ledger_topic, partition=p,
                            count=bad)
            self._tables[p] = table
            self._trackers[p] = OffsetTracker()
        log.info("partitions assigned", channel=self.channel.name, partitions=partitions)

    def _forget(self, partitions: list[int]) -> None:
        for p in partitions:
            self._tables.pop(p, None)
            self._trackers.pop(p, None)

    async def _drain(self, partitions: list[int] | None) -> None:
        """Wait for the sends in flight (of ``partitions``; all when None) to finish."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while time.monotonic() < deadline:
            busy = [t for p, t in self._trackers.items()
                    if (partitions is None or p in partitions) and t.busy()]
            if not busy or self._fatal is not None:
                return
            await asyncio.sleep(0.01)

    # --- one offer ---------------------------------------------------------------------------

    async def _handle(self, msg: Message, partition: int, offset: int,
                      tracker: OffsetTracker) -> None:
        try:
            value = msg.value() or b""
            try:
                _, record = decode(value, "Offer")
                message = OfferMessage.from_offer(record)
            except (CjoError, KeyError, TypeError, ValueError) as err:
                await self._dead_letter(msg, partition, offset, value, err)
            else:
                await self._deliver(partition, message)
            tracker.finish(offset)
        except BrokerError as err:
            self._fatal = err  # nothing finished: the offset is not committed past it
        except Exception as err:  # a bug: stop rather than commit past an offer not handled
            log.exception("gateway error", channel=self.channel.name)
            self._fatal = err
        finally:
            self._slots.release()

    async def _dead_letter(self, msg: Message, partition: int, offset: int, value: bytes,
                           err: Exception) -> None:
        assert self._producer is not None
        self.counts["dead_lettered"] += 1
        log.warning("offer dead-lettered", topic=self.offers_topic, partition=partition,
                    offset=offset, error=str(err))
        await self._producer.send(self.dlq_topic, msg.key(), dead_letter(
            self.offers_topic, partition, offset, msg.key(), value,
            f"not an Offer: {err}", now_ms()))

    async def _deliver(self, partition: int, message: OfferMessage) -> None:
        offer_id = message.offer_id
        if offer_id in self._inflight:  # the same offer read again while it is being sent
            self.counts["repeated"] += 1
            return
        table = self._tables[partition]
        entry = table.get(offer_id)
        action = table.action(offer_id)
        if action is Action.SKIP:
            self.counts["repeated"] += 1
            return
        attempts = entry.attempts if entry is not None else 0
        if action is Action.REPORT_UNKNOWN:
            await self._finish(partition, message, unknown(IN_DOUBT), attempts)
            return
        self._inflight.add(offer_id)
        try:
            outcome = await self._attempts(partition, message, attempts)
            await self._finish(partition, message, outcome[0], outcome[1])
        finally:
            self._inflight.discard(offer_id)

    async def _attempts(self, partition: int, message: OfferMessage,
                        attempts: int) -> tuple[Outcome, int]:
        while True:
            if self.validity and message.expired(now_ms()):
                return failed(EXPIRED), attempts
            attempts += 1
            # the claim is written holding a send slot: an offer claimed is being sent, so a
            # crash leaves at most the channel's concurrency in doubt
            async with self._send_slots:
                await self._record(partition, Entry(message.offer_id, Claim.CLAIMED,
                                                    now_ms(), self.owner, attempts))
                try:
                    result = await self.channel.send(message)
                except Exception as err:  # the channel's bug: the endpoint may have it
                    log.exception("send raised", channel=self.channel.name)
                    return unknown(f"error: {type(err).__name__}: {err}"), attempts
            if isinstance(result, Outcome):
                return result, attempts
            valid_until = message.valid_until if self.validity else _FOREVER_MS
            wait = self.policy.next_wait_s(attempts, result.after_s, now_ms(), valid_until,
                                           random.random())
            if wait is None:
                return failed(f"{EXHAUSTED}: {result.reason}"), attempts
            self.counts["retried"] += 1
            await self._record(partition, Entry(message.offer_id, Claim.RELEASED, now_ms(),
                                                self.owner, attempts))
            await asyncio.sleep(wait)

    async def _finish(self, partition: int, message: OfferMessage, outcome: Outcome,
                      attempts: int) -> None:
        await self.publish(Response.of(message, outcome, now_ms()))
        await self._record(partition, Entry(
            message.offer_id, Claim.DONE, now_ms(), self.owner, attempts, outcome.status.value,
            outcome.provider_message_id))
        self.counts[outcome.status.value] += 1
        if outcome.status is not Status.SENT and outcome.status is not Status.DELIVERED:
            log.info("offer not delivered", channel=self.channel.name, offer=message.offer_id,
                     status=outcome.status.value, reason=outcome.reason)

    async def _record(self, partition: int, entry: Entry) -> None:
        assert self._producer is not None
        await self._producer.send(self.ledger_topic, entry.offer_id.encode(), entry.to_bytes(),
                                  partition)
        table = self._tables.get(partition)
        if table is not None:
            table.apply(entry)

    async def publish(self, response: Response) -> None:
        """The ``Inbound`` of the channel: one ``OfferResponse`` on ``cjo.offers.responses``,
        keyed by IMSI, acknowledged by the broker."""
        assert self._producer is not None
        await self._producer.send(self.responses_topic, response.imsi.encode(),
                                  encode("OfferResponse", response.record()))


def run_gateway(make_channel: Callable[[], Channel], settings: Settings) -> int:
    """Body of ``cjo gateway <channel>``: until SIGTERM/SIGINT; 0 on a clean stop."""
    logs.configure(settings.log_level, settings.log_format, settings.log_salt.get_secret_value())

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        gateway = Gateway(make_channel(), settings)
        return await gateway.run(stop)

    result: Any = asyncio.run(main())
    return int(result)
