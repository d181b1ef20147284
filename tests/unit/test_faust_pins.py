"""The faust internals cjo leans on (``streams.faust_pins``) are still what cjo was written for.

Each entry is the source of one faust function, fingerprinted, with what cjo relies on in it. A
new faust release that changes one fails here, naming it: read the new source, check the
reliance still holds (or adapt ``streams/faust_pins.py``), then update the fingerprint.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import inspect
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.sensors import Monitor
from faust.types import TP

from streams import faust_pins
from streams.restore import Restored, Target

PINS: dict[str, tuple[str, str]] = {
    "faust.transport.consumer:Consumer._drain_messages": (
        "44a2500309e83c63", "BatchConsumer._drain_messages replaces it: same stop/error "
        "handling, same perform_seek when a fetch returns while the flow is stopped"),
    "faust.transport.consumer:Consumer._wait_next_records": (
        "6218e1969a636b3f", "returns (records per TP, active partitions) or (None, ...)"),
    "faust.transport.consumer:Consumer.perform_seek": (
        "0e8c130ff4b0afd8", "seeks every assigned partition back to its committed offset"),
    "faust.transport.consumer:Consumer._new_offset": (
        "1d2c7ea89a7ad4f1", "gives the offset to commit for one TP: cjo answers for its own"),
    "faust.transport.consumer:Consumer._filter_tps_with_pending_acks": (
        "f6f9239774234e7e", "lists the TPs a commit looks at: cjo adds its own"),
    "faust.transport.consumer:Consumer._filter_committable_offsets": (
        "dc5e9baf5d994485", "calls _new_offset then _should_commit per TP"),
    "faust.transport.consumer:Consumer._commit_offsets": (
        "1a69799041188441", "flushes the producer, drops revoked TPs, then commits"),
    "faust.transport.consumer:ThreadDelegateConsumer._commit": (
        "a20eec84e4b2ed50", "the commit, through the consumer thread (BatchConsumer._commit)"),
    "faust.transport.drivers.aiokafka:AIOKafkaConsumerThread._commit": (
        "932852ce7a23f658", "returns False when the group refused the commit (aiokafka's "
        "CommitFailedError 'already rebalanced'), crashes on any other error"),
    "faust.transport.consumer:Consumer.on_stop": (
        "45b1d2210ce2b526", "with stream_wait_empty off, commits without waiting"),
    "faust.transport.drivers.aiokafka:Consumer._to_message": (
        "7c24f6511b2fcef7", "builds faust's message for the topics cjo leaves to faust"),
    "faust.transport.drivers.aiokafka:AIOKafkaConsumerThread.highwaters": (
        "b49ed48ec1731816", "ListOffsets(latest), wrong on the embedded broker (exact_offsets)"),
    "faust.transport.drivers.aiokafka:AIOKafkaConsumerThread._create_worker_consumer": (
        "c2701bfc3e6f6cad", "builds the aiokafka consumer with fetch_max_wait_ms=1500 "
        "(cjo sets its own)"),
    "aiokafka.consumer.consumer:AIOKafkaConsumer.__init__": (
        "01506f316191f7c9", "keeps the fetch wait and size in _fetch_max_wait_ms and "
        "_fetch_max_bytes until start() builds the fetcher"),
    "faust.transport.conductor:ConductorCompiler.build": (
        "837cf521368c1ee4", "on_message's first wait is flow control, so a delivery begun "
        "with the flow on needs no wait_first"),
    "mode.utils.queues:FlowControlEvent.acquire": (
        "ed0208e866e64d0b", "waits only while suspended"),
    "faust.transport.drivers.aiokafka:AIOKafkaConsumerThread.verify_event_path": (
        "b983e7735f647cb3", "logs a stalled stream unless monitor.stream_inbound_time[tp] "
        "moves (the batch consumer sets it); with none, 'Stream has not started processing', "
        "counted from the worker's start (restart_inbound sets it on assignment)"),
    "aiokafka.consumer.fetcher:Fetcher._proc_fetch_request": (
        "59bf948fff47eed5", "sets a partition's highwater and timestamp (wall ms) together "
        "from each fetch response (fetched_at)"),
    "aiokafka.consumer.subscription_state:TopicPartitionState.__init__": (
        "f0b391da1b87af04", "holds highwater and timestamp"),
    "faust.app.base:App._on_partitions_revoked": (
        "d5c895bbe57dc73a", "waits for tracked messages only with stream_wait_empty, then "
        "sends on_partitions_revoked (where the processor forgets) before the group rejoins"),
    "faust.app.base:App._stop_consumer": (
        "55854a5de12c3f52", "stops the fetcher (cancels the drain loop) without waiting"),
    "faust.app.base:App._consumer_wait_empty": (
        "6bc313c48c064b16", "the wait the rebalance deadlock was: off with stream_wait_empty"),
    "faust.tables.base:Collection._on_changelog_sent": (
        "60122c86a120d82c", "records the changelog offset in the store on delivery (cjo's "
        "batch writes do the same per batch)"),
    "faust.stores.rocksdb:Store.set_persisted_offset": (
        "b4c811926678346e", "keeps the highest changelog offset written, per partition"),
    "faust.transport.drivers.aiokafka:Producer._ensure_producer": (
        "5592a4bbdf251325", "the started aiokafka producer"),
    "aiokafka.producer.producer:AIOKafkaProducer.create_batch": (
        "c4efda4bb7a09741", "an empty batch with the producer's compression"),
    "aiokafka.producer.producer:AIOKafkaProducer._partition": (
        "e45fa9c539d431d1", "the partition a keyed record goes to, as for send() (murmur2)"),
    "aiokafka.producer.producer:AIOKafkaProducer.send_batch": (
        "bf42b0f0c5c0646d", "queues a whole batch for one partition; a future of it"),
    "aiokafka.producer.message_accumulator:MessageBatch.done": (
        "2d765e5c2dc8638d", "the batch future's result carries the batch's base offset"),
    "faust.stores.rocksdb:Store._db_for_partition": (
        "cb7e67d5f9efc4bc", "the rocksdict database of one partition (raw mode)"),
    "faust.stores.rocksdb:Store.stop": (
        "2e98db0eb7c7582b", "lets go of every database (``_dbs`` cleared) without closing it"),
    "faust.stores.rocksdb:Store.revoke_partitions": (
        "3f85447a24fc34ff", "lets go of a revoked partition's database without closing it"),
    "faust.stores.rocksdb:Store.apply_changelog_batch": (
        "ea3344d369fc4ab5", "recovery writes raw key/value (None deletes) to that database"),
    "faust.tables.recovery:Recovery._restart_recovery.fun": (
        "6bd8a8558a2dffe4", "after a rebalance: the actives' end offsets (_build_highwaters), "
        "then their offsets (_build_offsets, 'active', where FastRecovery restores first), each "
        "in _wait with broker_request_timeout; then need_recovery decides whether it reads"),
    "faust.tables.recovery:Recovery._build_offsets": (
        "27eec86be06cb51f", "destination[tp]: the recorded offset raised to the log start less "
        "one; FastRecovery raises it to what its reader wrote"),
    "faust.tables.recovery:Recovery._build_highwaters": (
        "91b4cc0d3724ae7b", "active_highwaters[tp] is the end offset less one (-1: empty), "
        "from consumer.highwaters() (read committed: BatchConsumer.highwaters gives the end of "
        "the committed records)"),
    "faust.tables.recovery:Recovery._add": (
        "1584a197b11bf835", "active_offsets[tp] starts as the store's persisted offset (or None)"),
    "faust.tables.recovery:Recovery.need_recovery": (
        "fd1dc345b5d5e121", "reads only when an active's highwater exceeds its offset"),
    "faust.tables.recovery:Recovery.active_remaining": (
        "0dcc38568ad5018b", "highwater less offset per active partition"),
    "faust.tables.recovery:Recovery._wait": (
        "ec7429b70176f8c6", "a new rebalance cancels the step (RebalanceAgain); a timeout "
        "stops the recovery (ServiceStopped): the reader stops short of it"),
    "mode.services:Service.wait_first": (
        "feade6a31f8a6789", "cancels the step's future on a timeout or another winner, and "
        "reports a timeout as stopped"),
    "faust.tables.manager:TableManager.recovery.fget": (
        "f0bf5de78b4c3d23", "builds the recovery service once (FastRestoreTables builds "
        "FastRecovery the same way)"),
    "faust.stores.rocksdb:Store.persisted_offset": (
        "6f2e502fb86043a1", "reads int(value) of offset_key in the partition's database"),
    "mode.services:Service.crash": (
        "14980000465df0af", "where every service reports its error (install_failstop)"),
    "mode.services:Service._execute_task": (
        "2a976a30f01cbbef", "a task or timer that raises (not cancelled) calls self.crash"),
    "mode.threads:ServiceThread.crash": (
        "68a766aadc5f7196", "the consumer thread's crash goes on to Service.crash"),
    "faust.sensors.monitor:Monitor.on_rebalance_start": (
        "3c2357a14321f66d", "forgets every partition's stream_inbound_time when a rebalance "
        "starts (restart_inbound sets the handler's again on assignment)"),
    "faust.transport.consumer:Consumer.on_partitions_assigned": (
        "29ce96596f05a18c", "starts faust's assignment chain (recovery, then the seek to the "
        "committed offsets): exactly-once claims its producers before it"),
    "faust.transport.drivers.aiokafka:Producer._new_producer": (
        "e72355c3430ed02f", "an aiokafka producer with faust's settings and a transactional "
        "id (transactional_producer)"),
    "aiokafka.producer.producer:AIOKafkaProducer.send_offsets_to_transaction": (
        "4b58002b44962a5c", "the group's offsets committed with the transaction (no "
        "generation: fencing is by transactional id)"),
    "aiokafka.producer.transaction_manager:TransactionManager.wait_for_pid": (
        "d13dbb1e9264e5fa", "resolves once InitProducerId answered: the previous owner is "
        "fenced"),
    "aiokafka.consumer.consumer:AIOKafkaConsumer.start": (
        "2f1ba70443327538", "builds the fetcher with _isolation_level (set read_committed "
        "before start under exactly-once)"),
    "faust.agents.agent:Agent._execute_actor": (
        "c750b828d2bda93e", "an agent that raises crashes its actor (then restarted by its "
        "supervisor: cjo halts first); cancelled on a rebalance, it is restarted"),
}


def _source_of(path: str) -> str:
    module_name, qualname = path.split(":")
    target: object = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return inspect.getsource(target)  # type: ignore[arg-type]


def test_faust_is_the_pinned_release() -> None:
    assert faust.__version__ == "0.15.3"


@pytest.mark.parametrize("path", sorted(PINS))
def test_pinned_source_unchanged(path: str) -> None:
    fingerprint, reliance = PINS[path]
    source = _source_of(path)
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == fingerprint, (
        f"faust changed {path}; cjo relies on it: {reliance}")


class Handler:
    def __init__(self) -> None:
        self.done = {TP("in", 0): 42}
        self.forgotten: list[set[int] | None] = []

    def wants(self, topic: str) -> bool:
        return topic == "in"

    async def on_batch(self, batch: Mapping[TP, object]) -> None:
        return None

    def committable(self) -> Mapping[TP, int]:
        return self.done

    def forget(self, partitions: set[int] | None = None) -> None:
        self.forgotten.append(partitions)

    def seeks(self) -> Mapping[TP, int]:
        return {}


def test_batch_consumer_commits_what_the_handler_says() -> None:
    app = faust.App("pins-test", broker="kafka://127.0.0.1:1", stream_wait_empty=False)
    consumer = faust_pins.install_transport(app)
    handler = Handler()
    consumer.handler = handler
    assert app.conf.stream_wait_empty is False
    # cjo's TPs are looked at by a commit and answered from the handler, not faust's acks
    assert TP("in", 0) in set(consumer._filter_tps_with_pending_acks())
    assert consumer._new_offset(TP("in", 0)) == 42
    assert consumer._filter_committable_offsets([TP("in", 0)]) == {TP("in", 0): 42}
    assert consumer._new_offset(TP("other", 0)) is None  # faust's own bookkeeping


def test_a_seek_back_makes_the_handler_forget() -> None:
    app = faust.App("pins-test-2", broker="kafka://127.0.0.1:1")
    consumer = faust_pins.install_transport(app)
    handler = Handler()
    consumer.handler = handler

    async def no_seek() -> None:
        return None

    consumer.perform_seek = no_seek
    asyncio.run(consumer._seek_back())
    assert handler.forgotten == [None]


def test_a_crashing_service_halts_unless_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    import mode

    monkeypatch.setattr(mode.Service, "crash", mode.Service.crash)  # restored after the test
    monkeypatch.setattr(faust_pins, "_halt", None)
    halted: list[tuple[BaseException, str]] = []

    class Stop(Exception):
        pass

    def halt(exc: BaseException, where: str) -> None:
        halted.append((exc, where))
        raise Stop  # halt never returns: the real one ends the process

    faust_pins.install_failstop(halt)
    faust_pins.install_failstop(halt)  # twice is once

    class Task(mode.Service):
        pass

    async def crash(reason: BaseException) -> bool:
        service = Task()
        with contextlib.suppress(Stop):
            await service.crash(reason)
        return service.crashed

    error = RuntimeError("boom")
    assert asyncio.run(crash(error)) is False  # halted before faust marked anything
    assert halted == [(error, "Task")]
    # faust's own restart on a rebalance still goes through
    assert asyncio.run(crash(asyncio.CancelledError())) is True
    assert len(halted) == 1


def test_the_fetch_wait_is_cjo_s() -> None:
    app = faust.App("pins-test-3", broker="kafka://127.0.0.1:1")
    consumer = faust_pins.install_transport(app)
    consumer.fetch_max_wait_ms, consumer.fetch_max_bytes = 77, 1_234_567

    async def build() -> tuple[int, int]:
        worker_consumer = consumer._thread._create_worker_consumer(app.transport)
        return int(worker_consumer._fetch_max_wait_ms), int(worker_consumer._fetch_max_bytes)

    assert asyncio.run(build()) == (77, 1_234_567)


def test_a_failed_state_write_on_changelog_delivery_halts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store records the changelog offset when a batch is delivered, in a future's
    callback, where asyncio would only log a failure: the worker halts instead."""
    halted: list[BaseException] = []
    monkeypatch.setattr(faust_pins, "_halt", lambda exc, where: halted.append(exc))

    class Batch:
        def append(self, key: bytes, value: bytes, timestamp: None) -> object:
            return object()

    class Producer:
        async def send_batch(self, batch: Batch, topic: str, partition: int) -> object:
            delivered: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            delivered.set_result(type("Meta", (), {"offset": 7})())
            return delivered

        def create_batch(self) -> Batch:
            return Batch()

    class Store:
        def __init__(self) -> None:
            self._dbs = {0: "the partition's database"}

        def set_persisted_offset(self, tp: TP, offset: int) -> None:
            raise OSError("IO error: No space left on device")

    app = type("App", (), {"producer": type("P", (), {"_ensure_producer": Producer})()})()
    topic = type("T", (), {"get_topic_name": lambda self: "state-changelog"})()
    store = Store()
    table = type("Table", (), {"changelog_topic": topic, "data": store})()

    async def send() -> None:
        deliveries = await faust_pins.send_changelog(app, table, 0, [(b"k", b"v")])
        await asyncio.gather(*deliveries)
        await asyncio.sleep(0)  # the done callbacks run

    asyncio.run(send())
    assert [str(e) for e in halted] == ["IO error: No space left on device"]
    # revoked, or the worker is stopping: faust let go of the database, nothing is written
    store._dbs = {}
    asyncio.run(send())
    assert len(halted) == 1


def test_the_offset_cjo_s_reader_writes_is_the_one_faust_s_store_reads_and_writes(
        tmp_path: Path) -> None:
    app = faust.App("pins-restore", broker="kafka://127.0.0.1:1", store="rocksdb://",
                    datadir=str(tmp_path), TableManager=faust_pins.FastRestoreTables)
    table = app.Table("state", partitions=2, options={"driver": "rocksdict"})
    store = table.data
    tp = TP("pins-restore-state-changelog", 1)
    key, value = faust_pins.offset_entry(store, 1234)
    store._db_for_partition(1).put(key, value)
    assert store.persisted_offset(tp) == 1234
    store.set_persisted_offset(tp, 98765)
    assert bytes(store._db_for_partition(1).get(key)) == faust_pins.offset_entry(store, 98765)[1]
    assert isinstance(app.tables.recovery, faust_pins.FastRecovery)


class Consumer:
    async def earliest_offsets(self, *tps: TP) -> dict[TP, int]:
        return {tp: 0 for tp in tps}


def test_fast_recovery_restores_the_actives_behind_their_end_then_faust_sees_them_done(
        tmp_path: Path) -> None:
    app = faust.App("pins-restore-2", broker="kafka://127.0.0.1:1", store="rocksdb://",
                    datadir=str(tmp_path), TableManager=faust_pins.FastRestoreTables)
    table = app.Table("state", partitions=4, options={"driver": "rocksdict"})
    topic = "pins-restore-2-state-changelog"
    behind, empty, current, new = (TP(topic, p) for p in range(4))
    asked: list[dict[tuple[str, int], Target]] = []

    def reader(targets: Mapping[tuple[str, int], Target], stop: threading.Event,
               deadline: float) -> Restored:
        asked.append(dict(targets))
        return Restored(reached={where: t.last for where, t in targets.items()}, records=9)

    async def recover(title: str, install: bool = True) -> dict[TP, int | None]:
        faust_pins.install_reader(app, reader if install else None)
        recovery = app.tables.recovery
        recovery.tp_to_table.update({tp: table for tp in (behind, empty, current, new)})
        recovery.active_highwaters.update({behind: 50, empty: -1, current: 7, new: 3})
        destination: Any = Counter({behind: 20, empty: None, current: 7, new: None})
        await recovery._build_offsets(Consumer(), {behind, empty, current, new}, destination,
                                      title)
        return dict(destination)

    assert asyncio.run(recover("active")) == {behind: 50, empty: -1, current: 7, new: 3}
    targets = asked.pop()
    assert sorted(targets) == [(topic, 0), (topic, 3)]  # not the empty one, not the current one
    assert (targets[(topic, 0)].start, targets[(topic, 0)].last) == (21, 50)
    assert (targets[(topic, 3)].start, targets[(topic, 3)].last) == (None, 3)
    assert targets[(topic, 3)].db is table.data._db_for_partition(3)
    # standbys are faust's; without a reader faust's own restore reads from the recorded offset
    assert asyncio.run(recover("standby"))[behind] == 20
    assert asyncio.run(recover("active", install=False))[behind] == 20
    assert asked == []


def test_the_worker_s_table_manager_restores_with_cjo_s_reader_unless_disabled(
        tmp_path: Path) -> None:
    from cjo.settings import load
    from streams.app import _new_app, _state_table

    for enabled in (True, False):
        settings = load(app_id=f"pins-restore-{enabled}", data_dir=tmp_path / str(enabled),
                        fast_restore=enabled)
        app, _consumer = _new_app(settings, 6066)
        _state_table(app, settings)
        assert isinstance(app.tables, faust_pins.FastRestoreTables)
        assert (app.tables.reader is not None) is enabled


def test_a_new_assignment_counts_as_inbound_for_faust_s_livelock_check() -> None:
    """After a rebalance faust's monitor has no inbound time for any partition; without one, its
    livelock check logged 'The agent processing the stream is hanging' for every tick partition
    until its next tick (seen: 8 errors for cjo.ticks after a second worker left)."""
    monitor = Monitor()
    monitor.stream_inbound_time[TP("in", 0)] = 1.0
    monitor.on_rebalance_start(SimpleNamespace(rebalancing_count=1))
    assert monitor.stream_inbound_time == {}  # what faust does, pinned above
    faust_pins.restart_inbound(monitor, {TP("in", 0), TP("in", 1), TP("other", 0)},
                               Handler().wants, now=5.0)
    assert monitor.stream_inbound_time == {TP("in", 0): 5.0, TP("in", 1): 5.0}
