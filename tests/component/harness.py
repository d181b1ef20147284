"""The worker's processor driven in process: real RocksDB per partition, hand-written stand-ins
for the consumer and the output topics (what was sent is kept), records fed as fetches."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faust.types import TP
from rocksdict import Options, Rdict

from cjo import codec
from cjo.adapters.kafka_admin import Record  # what the consumer hands over, field for field
from cjo.catalogue.catalogue import Catalogue
from cjo.clock import Clock
from cjo.codec import LogRecord
from cjo.engine.offline import partition_of, read_log
from cjo.settings import Topics, load
from streams import publisher
from streams.processor import Processor, TimePolicy
from streams.publisher import Publisher
from tests.integration.pipeline import simulated_log


def _delivered() -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future


@dataclass
class SentTo:
    """An output topic: keeps every value sent."""

    values: list[bytes] = field(default_factory=list)

    def decoded(self) -> list[dict[str, Any]]:
        return [codec.decode(v)[1] for v in self.values]


class Broker:
    """The output topics, by name: what was published to each."""

    def __init__(self) -> None:
        self.topics: dict[str, SentTo] = defaultdict(SentTo)

    async def send(self, records: Sequence[publisher.Record]) -> list[asyncio.Future[None]]:
        for topic, _key, value, _partition in records:
            assert value is not None
            self.topics[topic].values.append(value)
        return [_delivered()]


class Feed:
    """The consumer's end offsets and the partitions' RocksDB databases."""

    def __init__(self, workdir: Path, ends: dict[TP, int],
                 as_of: Callable[[], int] | None = None) -> None:
        """``as_of``: the wall time the ends were learnt at (default: far ahead, fresh)."""
        self._workdir = workdir
        self.ends = ends
        self._as_of = as_of or (lambda: 2**62)
        self.dbs: dict[int, Rdict] = {}
        self.changelog: list[tuple[int, bytes, bytes | None]] = []
        self.position_of: dict[TP, int] = {}

    def highwater(self, topic: str, partition: int) -> tuple[int | None, int]:
        """The end offsets in ``ends`` (by default every record is on the broker from the
        start), learnt at ``as_of``."""
        return self.ends.get(TP(topic, partition), 0), self._as_of()

    async def position(self, topic: str, partition: int) -> int | None:
        return self.position_of.get(TP(topic, partition), 0)

    def partition_db(self, partition: int) -> Rdict:
        if partition not in self.dbs:
            self.dbs[partition] = Rdict(str(self._workdir / f"p{partition}"),
                                        options=Options(raw_mode=True))
        return self.dbs[partition]

    async def send_changelog(self, partition: int, items: Sequence[tuple[bytes, bytes | None]]
                             ) -> list[asyncio.Future[None]]:
        self.changelog.extend((partition, key, value) for key, value in items)
        return [_delivered()]

    def close(self) -> None:
        for db in self.dbs.values():
            db.close()


def simulated(directory: Path, subscribers: int, days: int, seed: int) -> list[LogRecord]:
    """A simulated recorded log's good records, written to and read back from ``directory``."""
    return read_log(simulated_log(directory / "simulated.jsonl", subscribers, days, seed))[0]


def decision_key(decision: Any) -> tuple[Any, ...]:
    """What a decision is compared by: offer id, outcome and channel."""
    return decision["offer_id"], decision["outcome"], decision.get("channel")


def by_partition(records: Sequence[LogRecord], topics: Topics,
                 partitions: int) -> dict[TP, list[Record]]:
    """A recorded log as each input topic-partition holds it after a replay."""
    held: dict[TP, list[Record]] = defaultdict(list)
    for rec in records:
        topic = topics[rec.stream]
        part = partition_of(rec.value["imsi"], partitions)
        tp = TP(topic, part)
        held[tp].append(Record(topic, part, len(held[tp]), rec.value["imsi"].encode(),
                               codec.encode(rec.record_name, rec.value), rec.event_time))
    return dict(held)


def fetches(held: dict[TP, list[Record]], size: int,
            start: dict[TP, int] | None = None) -> Iterator[dict[TP, list[Record]]]:
    """Fetches of up to ``size`` records per topic-partition, from ``start`` (default 0)."""
    cursor = {tp: (start or {}).get(tp, 0) for tp in held}
    while any(cursor[tp] < len(recs) for tp, recs in held.items()):
        fetch = {}
        for tp, recs in held.items():
            if cursor[tp] < len(recs):
                fetch[tp] = recs[cursor[tp]:cursor[tp] + size]
                cursor[tp] += size
        yield fetch


class Worker:
    """A processor with its stand-ins."""

    def __init__(self, workdir: Path, catalogue: Catalogue, held: dict[TP, list[Record]],
                 partitions: int, clock: Clock | None = None) -> None:
        """``clock``: the processor's wall clock, and the time the feed's ends are learnt at
        (the millisecond the processor takes a fetch); default: the wall clock, ends fresh."""
        self.topics = load(partitions=partitions, time_mode="replay").topics
        self.feed = Feed(workdir, {tp: len(recs) for tp, recs in held.items()},
                         as_of=clock.now_ms if clock is not None else None)
        self.broker = Broker()
        sent = self.broker.topics
        self.offers = {c: sent[t] for c, t in self.topics.offers().items()}
        self.decisions, self.dlq = sent[self.topics["decisions"]], sent[self.topics["dlq"]]
        publisher = Publisher(self.topics, self.broker.send)
        self.processor = Processor(self.topics, publisher, self.feed, catalogue, clock=clock,
                                   time=TimePolicy(live=False), partitions=partitions)

    def offer_ids(self) -> list[str]:
        return [o["offer_id"] for sent in self.offers.values() for o in sent.decoded()]
