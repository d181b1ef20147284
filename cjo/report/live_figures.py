"""The live dashboard's figures (``GET /dashboard``): what the fleet decided, sent, and achieved.

Fed with decoded ``Decision``, ``Outcome`` and ``DeadLetter`` records as they appear on their
topics, and every few seconds with the consumer group's progress (committed and end offsets of
the input partitions); :meth:`LiveFigures.snapshot` returns one JSON-able dict:

- ``events_per_s``: input records the group committed per second since the previous progress
  (the whole fleet, not one worker), and ``events_total``: the committed offsets summed;
- ``lag``: records waiting per input partition (end - committed) and their sum;
- ``latency_s``: percentiles 50/95/99 of ingest-to-publish (``published_at - ingested_at`` of the
  decisions) over the last ``latency_window`` decisions;
- ``decisions``: counts by outcome (SENT, SUPPRESSED, ...), ``reasons``: the reasons given, by
  kind (``frequency_cap:2/24h`` counts as ``frequency_cap``);
- ``offers``: SENT decisions by trigger and channel;
- ``take_up``: from the closed outcomes (``cjo.outcomes``), per trigger and overall: treated and
  holdout counts, their conversion rates, and the uplift (treated minus holdout) with its 95%
  interval (Newcombe, as ``cjo report``), ``verdict`` as ``cjo report`` words it;
- ``dead_letters``: count by error kind (the text before the first ``:`` or `` (``).

A record repeated on its topic (at-least-once: the same ``decision_id``/``offer_id`` after a
rebalance) counts once. Pure: no Kafka, no clock of its own (times are passed in).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cjo.report.uplift import Row

TOTAL = "(all)"


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` (0..1) percentile by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(round(q * len(ordered), 9)))  # ceil(q * n), at least 1
    return ordered[min(rank, len(ordered)) - 1]


def reason_kind(reason: str) -> str:
    """``frequency_cap:2/24h`` -> ``frequency_cap``, ``not Avro (starts 00ff)`` -> ``not Avro``:
    a reason's kind, without its figures or the bytes it quotes."""
    return reason.split(":", 1)[0].split(" (", 1)[0].strip() or "unknown"


@dataclass
class _Arm:
    treated: int = 0
    held: int = 0
    converted_treated: int = 0
    converted_holdout: int = 0


@dataclass
class LiveFigures:
    latency_window: int = 2_000
    decisions: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    offers: Counter[tuple[str, str]] = field(default_factory=Counter)
    dead_letters: Counter[str] = field(default_factory=Counter)
    _latencies: deque[float] = field(default_factory=deque)
    _seen_decisions: set[str] = field(default_factory=set)
    _seen_outcomes: set[str] = field(default_factory=set)
    _arms: dict[str, _Arm] = field(default_factory=lambda: defaultdict(_Arm))
    _committed: dict[Any, int] = field(default_factory=dict)
    _ends: dict[Any, int] = field(default_factory=dict)
    _rate: float = 0.0
    _progress_at: float | None = None
    _updated_at: float | None = None

    def add_decision(self, decision: Mapping[str, Any]) -> None:
        key = str(decision.get("decision_id") or decision.get("offer_id"))
        if key in self._seen_decisions:
            return
        self._seen_decisions.add(key)
        outcome = str(decision.get("outcome") or "UNKNOWN")
        self.decisions[outcome] += 1
        for reason in decision.get("reasons") or ():
            self.reasons[reason_kind(str(reason))] += 1
        if outcome == "SENT":
            channel = str(decision.get("channel") or "UNKNOWN")
            self.offers[(str(decision.get("trigger_id")), channel)] += 1
        ingested, published = decision.get("ingested_at"), decision.get("published_at")
        if isinstance(ingested, int) and isinstance(published, int):
            self._latencies.append(max(0.0, (published - ingested) / 1000.0))
            while len(self._latencies) > self.latency_window:
                self._latencies.popleft()

    def add_outcome(self, outcome: Mapping[str, Any]) -> None:
        key = str(outcome.get("offer_id"))
        if key in self._seen_outcomes:
            return
        self._seen_outcomes.add(key)
        group = outcome.get("group")
        converted = bool(outcome.get("converted"))
        for name in (str(outcome.get("trigger_id")), TOTAL):
            arm = self._arms[name]
            if group == "TREATED":
                arm.treated += 1
                arm.converted_treated += converted
            elif group == "HOLDOUT":
                arm.held += 1
                arm.converted_holdout += converted

    def add_dead_letter(self, dead_letter: Mapping[str, Any]) -> None:
        self.dead_letters[reason_kind(str(dead_letter.get("error") or ""))] += 1

    def progress(self, committed: Mapping[Any, int], ends: Mapping[Any, int],
                 now: float) -> None:
        """The group's committed offsets and the end offsets of its input partitions, as read
        at ``now`` (seconds); a partition without a commit counts from 0."""
        total = sum(max(0, c) for c in committed.values())
        if self._progress_at is not None and now > self._progress_at:
            before = sum(max(0, c) for c in self._committed.values())
            self._rate = max(0.0, (total - before) / (now - self._progress_at))
        self._committed = {tp: max(0, c) for tp, c in committed.items()}
        self._ends = dict(ends)
        self._progress_at = now

    def touch(self, now: float) -> None:
        self._updated_at = now

    def snapshot(self) -> dict[str, Any]:
        lags = {_name(tp): max(0, end - self._committed.get(tp, 0))
                for tp, end in sorted(self._ends.items(), key=lambda kv: _name(kv[0]))}
        latencies = list(self._latencies)
        return {
            "events_per_s": round(self._rate, 1),
            "events_total": sum(self._committed.values()),
            "lag": {"total": sum(lags.values()), "partitions": lags},
            "latency_s": {f"p{q}": percentile(latencies, q / 100) for q in (50, 95, 99)},
            "decisions": dict(self.decisions.most_common()),
            "reasons": dict(self.reasons.most_common()),
            "offers": [{"trigger": t, "channel": c, "count": n}
                       for (t, c), n in sorted(self.offers.items())],
            "take_up": [self._take_up(name, arm) for name, arm in sorted(
                self._arms.items(), key=lambda kv: (kv[0] == TOTAL, kv[0]))],
            "dead_letters": dict(self.dead_letters.most_common()),
            "updated_at": self._updated_at,
        }

    @staticmethod
    def _take_up(name: str, arm: _Arm) -> dict[str, Any]:
        row = Row(trigger_id=name, offer_code=TOTAL, treated=arm.treated, held=arm.held,
                  converted_treated=arm.converted_treated,
                  converted_holdout=arm.converted_holdout)
        interval = row.interval
        return {
            "trigger": name, "treated": arm.treated, "holdout": arm.held,
            "rate_treated": row.rate_treated, "rate_holdout": row.rate_holdout,
            "uplift": None if interval is None else interval[0],
            "low": None if interval is None else interval[1],
            "high": None if interval is None else interval[2],
            "verdict": row.verdict,
        }


def _name(tp: Any) -> str:
    topic, partition = (tp.topic, tp.partition) if hasattr(tp, "topic") else tp
    return f"{topic}[{partition}]"
