"""``cjo tail offers|decisions|dlq [--follow]``: the Avro records of an output topic as
readable lines (``cjo.report.lines``), the last few, then (``--follow``) new ones as they come,
until Ctrl-C. A record that does not decode is shown as such, never stops the tail."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from cjo import codec
from cjo.adapters.kafka_admin import Record, end_offsets, follow_records, read_all
from cjo.report.lines import dead_letter_line, decision_line, excerpt, offer_line
from cjo.settings import Settings

WHAT = ("offers", "decisions", "dlq")


def topics_of(settings: Settings, what: str) -> list[str]:
    topics = settings.topics
    if what == "offers":
        return list(topics.offers().values())
    return [topics["decisions" if what == "decisions" else "dlq"]]


def line_of(what: str) -> Callable[[dict[str, Any]], str]:
    return {"offers": offer_line, "decisions": decision_line, "dlq": dead_letter_line}[what]


def render(record: Record, what: str) -> str:
    try:
        _, decoded = codec.decode(record.value or b"")
        return line_of(what)(decoded)
    except Exception as err:  # a record of another producer: said, and the tail goes on
        return (f"{record.topic}[{record.partition}]@{record.offset}: not a cjo record "
                f"({type(err).__name__}): {excerpt(record.value)}")


def _time(record: Record) -> int:
    try:
        _, decoded = codec.decode(record.value or b"")
        return int(decoded.get("published_at") or decoded.get("failed_at") or 0)
    except Exception:
        return 0


def run_tail(settings: Settings, what: str, last: int, follow: bool,
             out: TextIO = sys.stdout) -> int:
    topics = topics_of(settings, what)
    isolation = settings.isolation_level
    ends = end_offsets(settings.broker, topics)
    there = [r for r in read_all(settings.broker, topics, isolation=isolation)
             if r.offset < ends.get((r.topic, r.partition), 0)]  # the rest: followed below
    shown: Iterable[Record] = sorted(there, key=_time)[-last:] if last else []
    for record in shown:
        print(render(record, what), file=out, flush=True)
    if not follow:
        return 0
    try:
        for record in follow_records(settings.broker, ends, isolation=isolation):
            print(render(record, what), file=out, flush=True)
    except KeyboardInterrupt:
        return 0
    return 0
