"""How a worker reads a control topic at start: whatever its layout, and each refusal once.

- **Layout.** cjo creates every control topic with one partition (compacted, but learning). A
  topic found with another layout (``cjo.models`` auto-created by a stray producer with the
  broker's default partition count) is reported with one ``control_topic_layout`` line and read
  as it is: every partition, each in offset order (cjo's writers key every record, so one key's
  records share a partition and keep their order; "newest" across partitions is by record
  timestamp, then partition and offset). It never stops the worker.
- **Refused once.** A refused record stays on a compacted topic until it is purged
  (``cjo control purge TOPIC OFFSET``), and a worker reads it again at every start. It is logged
  (``control_refused``) and counted the first time; the worker keeps what it refused in its
  data directory, and later starts only say how many known refusals are still there
  (``control_refused_known``), with the purge command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from cjo import logs
from cjo.adapters.kafka_admin import (
    LayoutError,
    Record,
    Replication,
    create_topics,
    end_offsets,
    read_all,
)
from cjo.control_records import refused
from cjo.errors import CjoError
from cjo.settings import Settings

log = logs.get("cjo.control")

KNOWN_FILE = "control-refused.json"


@dataclass
class Read:
    """A control topic read at start: its records (newest last), and where to follow from."""

    records: list[Record]
    next_offsets: dict[int, int]  # per partition


def ensure_control_topic(settings: Settings, topic: str, config: Mapping[str, str] | None
                         ) -> None:
    """Created with one partition if missing; another layout is reported, not fatal."""
    try:
        create_topics(settings.broker, [topic], 1, config,
                      replication=Replication.of(settings))
    except LayoutError as err:
        log.warning("control_topic_layout", topic=topic, partitions=err.found, expected=1,
                    hint="read as it is (every partition); recreate it with one partition "
                    "when convenient")


def read_control(settings: Settings, topic: str) -> Read:
    ends = {p: end for (_, p), end in end_offsets(settings.broker, [topic]).items()}
    records = read_all(settings.broker, [topic])
    for record in records:
        ends[record.partition] = max(ends.get(record.partition, 0), record.offset + 1)
    # as compaction will leave it: a key's records up to its last tombstone are gone (a purged
    # record is not read, nor refused, again)
    purged = {(r.partition, r.key): r.offset for r in records if r.value is None}
    records = [r for r in records if r.offset > purged.get((r.partition, r.key), -1)]
    records.sort(key=lambda r: (r.timestamp_ms, r.partition, r.offset))
    return Read(records, ends or {0: 0})


@dataclass
class Refusals:
    """The refusals of a start-up read: logged and counted once per record across restarts."""

    settings: Settings
    keep: bool = True  # False (a command, not a worker): every refusal is logged, none kept
    new: int = 0
    known_again: int = 0
    _known: set[str] = field(default_factory=set)
    _loaded: bool = False

    def _path(self) -> Path:
        return Path(self.settings.data_dir) / KNOWN_FILE

    def _load(self) -> None:
        if not self._loaded and self.keep:
            self._loaded = True
            try:
                self._known = set(orjson.loads(self._path().read_bytes()))
            except (OSError, orjson.JSONDecodeError, TypeError):
                self._known = set()

    def remember(self, topic: str, partition: int, offset: int) -> None:
        """A record refused while following the topic (logged and counted there): kept, so the
        next start does not count it again."""
        self._load()
        self._known.add(f"{topic}/{partition}/{offset}")
        self.new += 1
        self.close()

    def refuse(self, record: Record, err: CjoError) -> None:
        self._load()
        name = f"{record.topic}/{record.partition}/{record.offset}"
        if name in self._known:
            self.known_again += 1
            return
        self._known.add(name)
        self.new += 1
        refused(record.topic, record.offset, err, record.partition)

    def close(self) -> int:
        """Keeps what was refused; says how many known ones are still there. Returns the new."""
        if self.known_again:
            log.warning("control_refused_known", records=self.known_again,
                        hint="refused before and counted then; remove each with "
                        "`cjo control purge TOPIC OFFSET` (offsets in the earlier "
                        "control_refused lines)")
        if self.new and self.keep:
            try:
                self._path().parent.mkdir(parents=True, exist_ok=True)
                self._path().write_bytes(orjson.dumps(sorted(self._known)))
            except OSError as err:  # counted again at the next start: not a reason to stop
                log.warning("control_refused_not_kept", error=str(err))
        return self.new
