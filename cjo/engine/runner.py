"""One partition's work, as pure code: records and ticks in, offers, decisions and writes out.

The wiring (``streams.processor``) and the in-process oracle of the tests drive the same code,
so what a replay through Kafka decides can be checked against what this decides alone.

Per partition it keeps the event-time watermark (``cjo.timers.Watermark``) and fires the durable
timers it passes, before the record that moved it is applied: a subscriber's state at a timer is
every record up to the due time (give or take the allowed lateness), whatever else shares the
partition. Nothing is written here: ``Output.writes`` (key -> bytes, or None to delete) are for
the caller to store once the offers are published, so a crash never loses an offer whose state
says it was sent.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cjo import codec
from cjo.catalogue.catalogue import Catalogue
from cjo.engine.decide import Context, Result, decide, fire, new_state
from cjo.policy import budget_share
from cjo.scoring import Scorer
from cjo.stale_input import STALE_INPUT
from cjo.state import Position, SubscriberState
from cjo.timers import TIMER_PREFIX, Timer, Watermark, due_bound, watermark_key

BUDGET_PREFIX = b"\x00B"  # + offer code + "|" + UTC day: sends counted on this partition

MAX_TIMERS_PER_STEP = 5_000  # more are fired at the next record or tick


class Store(Protocol):
    """Read access to a partition's keys (subscriber states, timers, the watermark)."""

    def get(self, key: bytes) -> bytes | None: ...
    def due_keys(self, bound: bytes, limit: int) -> list[bytes]:
        """Timer keys from ``TIMER_PREFIX`` up to (not including) ``bound``, in order."""
        ...


@dataclass(frozen=True, slots=True)
class Shared:
    """What every partition decides with, swapped whole by the wiring when it changes."""

    catalogue: Catalogue
    scorer: Scorer | None = None  # the latest model snapshot (None: none published yet)
    do_not_contact: frozenset[str] = frozenset()


@dataclass(slots=True)
class Output:
    offers: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    writes: dict[bytes, bytes | None] = field(default_factory=dict)  # None: delete
    fired: int = 0  # timers fired
    failed_timers: list[tuple[Timer, Exception]] = field(default_factory=list)  # dropped

    def __bool__(self) -> bool:
        return bool(self.writes or self.offers or self.decisions or self.outcomes)


class PartitionRunner:
    def __init__(self, store: Store, partition: int, watermark: Watermark,
                 partitions: int = 1) -> None:
        self._store = store
        self._partition = partition
        self._partitions = partitions
        self.watermark = watermark
        self._stored_wm = -1
        self._bound_of, self._bound = -1, due_bound(-1)
        raw = store.get(watermark_key(partition))
        if raw:
            self._stored_wm = int(raw)
            watermark.restore(self._stored_wm)

    def on_record(self, stream: str, record: Mapping[str, Any], position: Position,
                  ingested_at: int, shared: Shared) -> Output:
        """What the record decides. If that raises (a bug, a corrupt state), nothing of it
        is kept: the output is the caller's only once returned, and the watermark is put back
        as it was (timers it made due fire with a later record)."""
        out = Output()
        max_seen = self.watermark.max_seen
        try:
            event_time = codec.event_time_of(codec.RECORD_OF_STREAM[stream], record)
            self.watermark.observe(event_time)
            STALE_INPUT.observe(event_time, ingested_at, self.watermark.live)
            self._fire_due(out, shared, ingested_at)
            imsi = record["imsi"]
            now = ingested_at if self.watermark.live else None
            state = self._state(out, imsi)
            self._collect(out, decide(stream, record, state, position,
                                      self._context(out, shared, now, ingested_at)))
        except Exception:
            self.watermark.max_seen = max_seen
            raise
        return out

    def _context(self, out: Output, shared: Shared, now: int | None,
                 ingested_at: int) -> Context:
        return Context(shared.catalogue, now, ingested_at, shared.scorer, shared.do_not_contact,
                       _Budget(self, out))

    def on_tick(self, now_ms: int, idle: bool, shared: Shared) -> Output:
        """A tick: an idle partition advances on wall time (live mode), due timers fire, and
        the watermark is kept in the store when it moved (so a restart does not go back)."""
        out = Output()
        if idle:
            self.watermark.idle(now_ms)
        self._fire_due(out, shared, now_ms)
        value = self.watermark.value()
        if value > self._stored_wm:
            self._stored_wm = value
            out.writes[watermark_key(self._partition)] = str(value).encode()
        return out

    def _fire_due(self, out: Output, shared: Shared, ingested_at: int) -> None:
        bound = self._due_bound()
        while out.fired < MAX_TIMERS_PER_STEP:
            keys = self._due(out, bound)
            if not keys:
                return
            for key in keys:
                out.writes[key] = None
                out.fired += 1
                timer = Timer.from_key(key)
                now = ingested_at if self.watermark.live else timer.due
                try:
                    result = fire(timer, self._state(out, timer.imsi),
                                  self._context(out, shared, now, ingested_at))
                except Exception as err:  # a bug, a corrupt state: the timer is dropped, its
                    out.failed_timers.append((timer, err))  # subscriber's state left as it was
                    continue
                self._collect(out, result)

    def _due_bound(self) -> bytes:
        """``due_bound`` of the watermark, made again only when the watermark moved."""
        value = self.watermark.value()
        if value != self._bound_of:
            self._bound_of, self._bound = value, due_bound(value)
        return self._bound

    def _due(self, out: Output, bound: bytes) -> list[bytes]:
        limit = MAX_TIMERS_PER_STEP - out.fired
        stored = self._store.due_keys(bound, limit + len(out.writes))
        if not stored and not out.writes:
            return []  # the common case: nothing due, nothing written yet
        keys = {k for k in stored if k not in out.writes}
        keys.update(k for k, v in out.writes.items()
                    if v is not None and k.startswith(TIMER_PREFIX) and k < bound)
        return sorted(keys)[:limit]

    def _state(self, out: Output, imsi: str) -> SubscriberState:
        key = imsi.encode()
        raw = out.writes.get(key) if key in out.writes else self._store.get(key)
        return SubscriberState.from_bytes(raw) if raw else new_state(imsi)

    @staticmethod
    def _collect(out: Output, result: Result) -> None:
        if result.state is None:
            return
        out.offers.extend(result.offers)
        out.decisions.extend(result.decisions)
        out.outcomes.extend(result.outcomes)
        out.examples.extend(result.examples)
        out.writes[result.state.imsi.encode()] = result.state.to_bytes()
        for timer in result.timers:
            out.writes[timer.key()] = b"1"


class _Budget:
    """Daily budgets as counters in this partition's store, written with the decision that
    spends them (a crash neither loses nor double-counts a send). Each partition may spend its
    share of the limit (``cjo.policy.budget_share``): the total holds across all workers with no
    coordination."""

    def __init__(self, runner: PartitionRunner, out: Output) -> None:
        self._runner, self._out = runner, out

    def spend(self, offer_code: str, day: int, limit: int) -> bool:
        runner = self._runner
        key = BUDGET_PREFIX + f"{offer_code}|{day}".encode()
        raw = self._out.writes[key] if key in self._out.writes else runner._store.get(key)
        spent = int(raw) if raw else 0
        if spent >= budget_share(limit, runner._partitions, runner._partition):
            return False
        self._out.writes[key] = str(spent + 1).encode()
        return True


class MemoryStore:
    """A partition's keys in memory (tests, the bench, the in-process oracle)."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self._timers: list[bytes] = []  # sorted timer keys

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def due_keys(self, bound: bytes, limit: int) -> list[bytes]:
        return self._timers[:min(bisect.bisect_left(self._timers, bound), limit)]

    def apply(self, writes: Mapping[bytes, bytes | None]) -> None:
        for key, value in writes.items():
            is_timer = key.startswith(TIMER_PREFIX)
            if value is None:
                self.data.pop(key, None)
                if is_timer:
                    i = bisect.bisect_left(self._timers, key)
                    if i < len(self._timers) and self._timers[i] == key:
                        del self._timers[i]
            else:
                if is_timer and key not in self.data:
                    bisect.insort(self._timers, key)
                self.data[key] = value


