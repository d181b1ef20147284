"""`cjo report` and `cjo explain IMSI`: the audit topics read back, rendered by ``cjo.report``.

Both read the topics to their exact end (:func:`~cjo.adapters.kafka_admin.read_all`), so what
they show is everything published when the command started. A topic that does not exist yet
(a broker no worker ran on, a worker older than the outcomes topic) reads as empty; a record
that does not decode is skipped and counted on the last line.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable
from typing import Any, TextIO

from confluent_kafka import Consumer

from cjo import codec
from cjo.adapters.kafka_admin import partitions_of, read_all
from cjo.adapters.kafka_security import confluent_config
from cjo.errors import ConfigError, InvalidRecord
from cjo.report.calibration import calibrations
from cjo.report.calibration import render as render_calibration
from cjo.report.explain import consent_lines, explain
from cjo.report.segments import qini, segment_uplift
from cjo.report.segments import render as render_segments
from cjo.report.uplift import aggregate, render
from cjo.settings import Settings

_IMSI = re.compile(r"[0-9]{5,15}")


def check_imsi(imsi: str) -> str:
    """The IMSI itself, or ConfigError when it is not 5 to 15 digits."""
    if not _IMSI.fullmatch(imsi):
        raise ConfigError(f"IMSI must be 5 to 15 digits (e.g. 234150000000001), got {imsi!r}")
    return imsi


class _Reader:
    """Reads topics of one broker, decoding one record type each, counting what it skips."""

    def __init__(self, settings: Settings) -> None:
        self.bootstrap = settings.broker
        self.isolation = settings.isolation_level
        self.skipped = 0
        # A consumer's metadata request never auto-creates a topic (see kafka_admin).
        self._meta = Consumer(confluent_config(
            self.bootstrap, {"group.id": f"cjo-audit-{uuid.uuid4().hex}", "log_level": 3},
            settings))

    def close(self) -> None:
        self._meta.close()

    def read(self, topic: str, name: str,
             keep: Callable[[bytes | None], bool] = lambda key: True) -> list[dict[str, Any]]:
        if not partitions_of(self._meta, topic):
            return []
        records: list[dict[str, Any]] = []
        for record in read_all(self.bootstrap, [topic], isolation=self.isolation):
            if record.value is None or not keep(record.key):
                continue
            try:
                records.append(codec.decode(record.value, expected=name)[1])
            except InvalidRecord:
                self.skipped += 1
        return records

    def note(self, out: TextIO) -> None:
        if self.skipped:
            print(f"({self.skipped} records that do not decode were skipped)", file=out)


def run_report(settings: Settings, out: TextIO = sys.stdout) -> int:
    topics = settings.topics
    reader = _Reader(settings)
    try:
        decisions = reader.read(topics["decisions"], "Decision")
        outcomes = reader.read(topics["outcomes"], "Outcome")
        responses = reader.read(topics["responses"], "OfferResponse")
    finally:
        reader.close()
    rows = aggregate(decisions, outcomes, responses)
    if not rows:
        print(f"no SENT or HOLDOUT decisions on {topics['decisions']} ({len(decisions)} "
              f"decisions read): nothing to report", file=out)
    else:
        print(f"Holdout uplift from {topics['decisions']}, {topics['outcomes']} and "
              f"{topics['responses']}", file=out)
        print("", file=out)
        print(render(rows), file=out)
        print("", file=out)
        print(render_segments(segment_uplift(decisions, outcomes), qini(decisions, outcomes)),
              file=out)
        print("", file=out)
        print(render_calibration(calibrations(decisions, outcomes)), file=out)
    reader.note(out)
    return 0


def run_explain(settings: Settings, imsi: str, last: int = 20, out: TextIO = sys.stdout) -> int:
    check_imsi(imsi)
    if last < 1:
        raise ConfigError(f"--last must be at least 1, got {last}")
    topics = settings.topics

    def mine(record_key: bytes | None) -> bool:
        # Keyed by IMSI (docs/data-contract.md, "Keys and partitioning": the codec's key rule);
        # a record without a key is decoded and checked below.
        return record_key is None or codec.key_matches(record_key, imsi)

    reader = _Reader(settings)
    try:
        decisions = [d for d in reader.read(topics["decisions"], "Decision", mine)
                     if d.get("imsi") == imsi]
        outcomes = [o for o in reader.read(topics["outcomes"], "Outcome", mine)
                    if o.get("imsi") == imsi]
        responses = [r for r in reader.read(topics["responses"], "OfferResponse", mine)
                     if r.get("imsi") == imsi]
    finally:
        reader.close()
    consent = consent_lines(responses)
    if not decisions:
        for line in ([f"IMSI {imsi}: consent changes (oldest first)", *consent]
                     if consent else []):
            print(line, file=out)
        print(f"no decisions for IMSI {imsi} on {topics['decisions']}", file=out)
    else:
        print(explain(imsi, decisions, outcomes, last, responses), file=out)
    reader.note(out)
    return 0
