"""A recorded log through the engine's domain, in process: no broker, no worker.

The records of each partition are merged by event time exactly as a worker merges its topics
(``cjo.engine.ordering``), and each partition is driven by
``cjo.engine.runner.PartitionRunner`` in replay mode. This is the oracle the integration tests
compare the Kafka pipeline with, and what ``cjo catalogue try`` runs to show what a new
catalogue would have decided on a log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cjo import codec, partitioning
from cjo.catalogue.catalogue import Catalogue
from cjo.codec import LogRecord
from cjo.engine.effects import Effects
from cjo.engine.ordering import STREAM_RANK, EventTimeMerger
from cjo.engine.runner import Knowledge, MemoryStore, PartitionRunner
from cjo.errors import InvalidRecord
from cjo.settings import Settings
from cjo.state import Position
from cjo.timers import Watermark

DEFAULT_LATENESS_MS: int = Settings.model_fields["allowed_lateness_ms"].default


@dataclass(slots=True)
class OfflineResult:
    """What a log decided: the effects of each record, partition by partition in the order
    decided (their writes went to the partition's store and are not kept here), and how many
    records and timers."""

    effects: list[Effects] = field(default_factory=list)
    records: int = 0
    timers_fired: int = 0

    @property
    def offers(self) -> list[dict[str, Any]]:
        return [offer for effects in self.effects for offer in effects.offers]

    @property
    def decisions(self) -> list[dict[str, Any]]:
        return [decision for effects in self.effects for decision in effects.decisions]

    @property
    def outcomes(self) -> list[dict[str, Any]]:
        return [outcome for effects in self.effects for outcome in effects.outcomes]


def read_log(path: Path) -> tuple[list[LogRecord], list[tuple[int, InvalidRecord]]]:
    """The records of a recorded log, and its bad lines (line number, why), skipped here. Lines
    are read as ``cjo replay`` reads them (split at newlines, blank ones ignored), so both count
    the same bad lines."""
    records: list[LogRecord] = []
    bad: list[tuple[int, InvalidRecord]] = []
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                records.append(codec.parse_log_line(line))
            except InvalidRecord as error:
                bad.append((number, error))
    return records, bad


def partition_of(imsi: str, partitions: int) -> int:
    """Where the pipeline's producers put a subscriber (Kafka's murmur2, ``cjo.partitioning``):
    the oracle then spreads subscribers, and so shares budgets, as the workers do."""
    return partitioning.partition_of(imsi.encode(), partitions)


def run_offline(records: Iterable[LogRecord], catalogue: Catalogue, partitions: int = 1,
                allowed_lateness_ms: int = DEFAULT_LATENESS_MS) -> OfflineResult:
    merger: EventTimeMerger[tuple[LogRecord, int]] = EventTimeMerger(
        {s: r for s, r in STREAM_RANK.items()}, max_buffered=2**62)
    offsets: dict[tuple[str, int], int] = {}
    result = OfflineResult()
    knowledge = Knowledge(catalogue)
    for record in records:
        part = partition_of(record.value["imsi"], partitions)
        offset = offsets.get((record.stream, part), 0)
        offsets[(record.stream, part)] = offset + 1
        merger.push(part, record.stream, record.event_time, 0, (record, offset))
    for part in range(partitions):
        store = MemoryStore()
        runner = PartitionRunner(store, part, Watermark(allowed_lateness_ms, 0, live=False),
                                 partitions)
        for record, offset in merger.release(part, lambda _topic: True, 0):
            step = runner.on_record(record.stream, record.value,
                                    Position(record.stream, offset), 0, knowledge)
            store.apply(step.effects.writes)
            step.effects.writes = {}  # in the store now: a copy of every state a record
            result.effects.append(step.effects)  # made would grow with the log (GBs)
            result.timers_fired += step.fired
            result.records += 1
    return result
