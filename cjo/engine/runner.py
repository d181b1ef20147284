"""One partition's work, as pure code: records and ticks in, their effects out.

The wiring (``streams.processor``) and the in-process oracle of the tests drive the same code,
so what a replay through Kafka decides can be checked against what this decides alone.

Per partition it keeps the event-time watermark (``cjo.timers.Watermark``) and fires the durable
timers it passes, before the record that moved it is applied: a subscriber's state at a timer is
every record up to the due time (give or take the allowed lateness), whatever else shares the
partition. Nothing is written here: the writes of a step's ``Effects`` (``cjo.engine.effects``:
subscriber states, timers set and fired, budgets, the watermark) are for the caller to store
once its messages are published, so a crash never loses an offer whose state says it was sent.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cjo import codec
from cjo.catalogue.catalogue import Catalogue
from cjo.engine.decide import Context, decide, fire, new_state
from cjo.engine.effects import Effects
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
class Knowledge:
    """What the engine knows besides the records, and every partition decides with: the
    catalogue, the latest models, the do-not-contact list (each from its control topic);
    swapped whole by the wiring when one of them changes."""

    catalogue: Catalogue
    scorer: Scorer | None = None  # the latest model snapshot (None: none published yet)
    do_not_contact: frozenset[str] = frozenset()


@dataclass(slots=True)
class PartitionStep:
    """What one record or tick did on the partition: its effects, and the timers it fired."""

    effects: Effects = field(default_factory=Effects)
    fired: int = 0  # timers fired
    failed_timers: list[tuple[Timer, Exception]] = field(default_factory=list)  # dropped


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
                  ingested_at: int, knowledge: Knowledge) -> PartitionStep:
        """What the record decides (after the timers it made due). If that raises (a bug, a
        corrupt state), nothing of it is kept: the step is the caller's only once returned, and
        the watermark is put back as it was (timers it made due fire with a later record)."""
        step = PartitionStep()
        max_seen = self.watermark.max_seen
        try:
            event_time = codec.event_time_of(codec.RECORD_OF_STREAM[stream], record)
            self.watermark.observe(event_time)
            STALE_INPUT.observe(event_time, ingested_at, self.watermark.live)
            self._fire_due(step, knowledge, ingested_at)
            effects = step.effects
            now = ingested_at if self.watermark.live else None
            after = decide(stream, record, self._state(effects, record["imsi"]), position,
                           self._context(effects, knowledge, now, ingested_at), effects)
            if after is not None:
                effects.write_state(after)
        except Exception:
            self.watermark.max_seen = max_seen
            raise
        return step

    def _context(self, effects: Effects, knowledge: Knowledge, now: int | None,
                 ingested_at: int) -> Context:
        return Context(knowledge.catalogue, now, ingested_at, knowledge.scorer,
                       knowledge.do_not_contact, _Budget(self, effects))

    def on_tick(self, now_ms: int, idle: bool, knowledge: Knowledge) -> PartitionStep:
        """A tick: an idle partition advances on wall time (live mode), due timers fire, and
        the watermark is kept in the store when it moved (so a restart does not go back)."""
        step = PartitionStep()
        if idle:
            self.watermark.idle(now_ms)
        self._fire_due(step, knowledge, now_ms)
        value = self.watermark.due(now_ms)
        if value > self._stored_wm:
            self._stored_wm = value
            step.effects.writes[watermark_key(self._partition)] = str(value).encode()
        return step

    def _fire_due(self, step: PartitionStep, knowledge: Knowledge, ingested_at: int) -> None:
        effects = step.effects
        bound = self._due_bound(ingested_at)
        while step.fired < MAX_TIMERS_PER_STEP:
            keys = self._due(step, bound)
            if not keys:
                return
            for key in keys:
                effects.writes[key] = None
                step.fired += 1
                timer = Timer.from_key(key)
                now = ingested_at if self.watermark.live else timer.due
                fired = Effects()  # the step's only if the timer does not raise
                try:
                    after = fire(timer, self._state(effects, timer.imsi),
                                 self._context(effects, knowledge, now, ingested_at), fired)
                    if after is not None:
                        fired.write_state(after)
                except Exception as err:  # a bug, a corrupt state: the timer is dropped, its
                    step.failed_timers.append((timer, err))  # subscriber's state left as it was
                    continue
                effects.absorb(fired)

    def _due_bound(self, now_ms: int) -> bytes:
        """``due_bound`` of the watermark (live mode: never past the wall clock ``now_ms``),
        made again only when it moved."""
        value = self.watermark.due(now_ms)
        if value != self._bound_of:
            self._bound_of, self._bound = value, due_bound(value)
        return self._bound

    def _due(self, step: PartitionStep, bound: bytes) -> list[bytes]:
        writes = step.effects.writes
        limit = MAX_TIMERS_PER_STEP - step.fired
        stored = self._store.due_keys(bound, limit + len(writes))
        if not stored and not writes:
            return []  # the common case: nothing due, nothing written yet
        keys = {k for k in stored if k not in writes}
        keys.update(k for k, v in writes.items()
                    if v is not None and k.startswith(TIMER_PREFIX) and k < bound)
        return sorted(keys)[:limit]

    def _state(self, effects: Effects, imsi: str) -> SubscriberState:
        """The subscriber's state as this step left it so far, else as stored."""
        key = imsi.encode()
        writes = effects.writes
        raw = writes.get(key) if key in writes else self._store.get(key)
        return SubscriberState.from_bytes(raw) if raw else new_state(imsi)


class _Budget:
    """Daily budgets as counters in this partition's store, written with the decision that
    spends them (a crash neither loses nor double-counts a send). Each partition may spend its
    share of the limit (``cjo.policy.budget_share``): the total holds across all workers with no
    coordination."""

    def __init__(self, runner: PartitionRunner, effects: Effects) -> None:
        self._runner, self._writes = runner, effects.writes

    def spend(self, offer_code: str, day: int, limit: int) -> bool:
        runner = self._runner
        key = BUDGET_PREFIX + f"{offer_code}|{day}".encode()
        raw = self._writes[key] if key in self._writes else runner._store.get(key)
        spent = int(raw) if raw else 0
        if spent >= budget_share(limit, runner._partitions, runner._partition):
            return False
        self._writes[key] = str(spent + 1).encode()
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


