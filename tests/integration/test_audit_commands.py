"""`cjo report` and `cjo explain` on the embedded broker: records produced, figures read."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pytest
from confluent_kafka import Producer

from cjo import codec
from cjo.adapters.audit_commands import run_explain, run_report
from cjo.adapters.kafka_admin import create_topics, producer_config
from cjo.errors import ConfigError
from cjo.settings import Settings, load

if TYPE_CHECKING:
    from cjo.adapters.broker import Broker

pytestmark = pytest.mark.integration

ALICE = "234150000000001"
BOB = "234150000000002"
T0 = 1_767_600_000_000  # 2026-01-05 08:00:00 UTC


def _decision(n: int, imsi: str, outcome: str, **extra: Any) -> dict[str, Any]:
    return {"offer_id": f"offer-{n}", "decision_id": f"dec-{n}", "imsi": imsi,
            "trigger_id": "roaming_welcome", "offer_code": "ROAM_DAY",
            "trigger_event_id": f"ev-{n}", "trigger_time": T0 + n * 60_000,
            "ingested_at": T0 + n * 60_000 + 10, "published_at": T0 + n * 60_000 + 20,
            "outcome": outcome, "channel": "SMS" if outcome == "SENT" else None, **extra}


def _outcome(n: int, imsi: str, group: str, converted: bool, responded: bool = False
             ) -> dict[str, Any]:
    return {"offer_id": f"offer-{n}", "imsi": imsi, "trigger_id": "roaming_welcome",
            "offer_code": "ROAM_DAY", "group": group, "responded": responded,
            "converted": converted, "decided_at": T0 + n * 60_000,
            "closed_at": T0 + n * 60_000 + 86_400_000}


def _produce(settings: Settings, records: list[tuple[str, str, dict[str, Any]]]) -> None:
    producer = Producer(producer_config(settings.broker))
    for logical, name, record in records:
        producer.produce(settings.topics[logical], codec.encode(name, record),
                         record["imsi"].encode())
    assert producer.flush(10) == 0


@pytest.fixture
def settings(broker: Broker, unique_prefix: str) -> Settings:
    settings = load(broker=broker.bootstrap, topic_prefix=unique_prefix, partitions=2)
    topics = settings.topics
    create_topics(broker.bootstrap, [topics["decisions"], topics["outcomes"],
                                     topics["responses"]], partitions=2)
    return settings


def test_report_and_explain_read_the_topics(settings: Settings) -> None:
    records: list[tuple[str, str, dict[str, Any]]] = []
    # Alice: 3 SENT (2 converted, 1 responded), 1 suppressed, 1 sent but still open.
    for n, converted in ((1, True), (2, True), (3, False)):
        records.append(("decisions", "Decision", _decision(
            n, ALICE, "SENT", score=0.9, propensity=0.3, model_version=4,
            features={"roaming_days": 2.0, "arpu": 31.5})))
        records.append(("outcomes", "Outcome", _outcome(n, ALICE, "TREATED", converted, n == 1)))
    records.append(("decisions", "Decision", _decision(
        4, ALICE, "SUPPRESSED", reasons=["frequency_cap:2/24h"])))
    records.append(("decisions", "Decision", _decision(5, ALICE, "SENT")))
    # Bob: 2 held out, 1 converted.
    for n, converted in ((6, True), (7, False)):
        records.append(("decisions", "Decision", _decision(n, BOB, "HOLDOUT",
                                                           reasons=["holdout"])))
        records.append(("outcomes", "Outcome", _outcome(n, BOB, "HOLDOUT", converted)))
    records.append(("responses", "OfferResponse", {
        "event_id": "r1", "event_time": T0 + 61_000, "offer_id": "offer-1", "imsi": ALICE,
        "channel": "SMS", "status": "CLICKED"}))
    _produce(settings, records)

    out = io.StringIO()
    assert run_report(settings, out) == 0
    text = out.getvalue()
    uplift, counts = text.split("Closed offers", 1)
    row = next(line for line in uplift.splitlines() if line.startswith("  ROAM_DAY "))
    # sent holdout take-upT take-upH uplift
    assert row.split()[1:6] == ["4", "2", "66.7%", "50.0%", "+16.7"]
    assert row.endswith("too small")
    row = next(line for line in counts.splitlines() if line.startswith("  ROAM_DAY "))
    # closedT closedH convT convH responded
    assert row.split()[1:6] == ["3", "2", "2", "1", "1"]
    wide = [line for line in text.splitlines() if len(line) > 100]
    assert wide == [], wide
    assert "CLICKED" in text

    out = io.StringIO()
    assert run_explain(settings, ALICE, 3, out) == 0
    text = out.getvalue()
    assert text.startswith(f"IMSI {ALICE}: 5 decisions, the 3 newest shown")
    heads = [line for line in text.splitlines() if " UTC  roaming_welcome  " in line]
    assert [h.split()[-1] for h in heads] == ["SENT", "SUPPRESSED", "SENT"]
    assert heads[0].startswith("2026-01-05 08:05:00 UTC")
    assert "response window still open" in text
    assert "frequency_cap:2/24h" in text
    assert "arpu=31.5, roaming_days=2" in text
    assert "(treated): responded no, converted no" in text  # offer-3
    assert BOB not in text

    out = io.StringIO()
    assert run_explain(settings, BOB, 20, out) == 0
    assert "(holdout): responded no, converted yes" in out.getvalue()

    out = io.StringIO()
    assert run_explain(settings, "234150000000099", 20, out) == 0
    assert out.getvalue().startswith("no decisions for IMSI 234150000000099 on ")

    with pytest.raises(ConfigError, match="5 to 15 digits"):
        run_explain(settings, "12ab", 20, io.StringIO())


def test_nothing_to_report_without_topics(broker: Broker, unique_prefix: str) -> None:
    settings = load(broker=broker.bootstrap, topic_prefix=f"{unique_prefix}-none")
    out = io.StringIO()
    assert run_report(settings, out) == 0
    assert "nothing to report" in out.getvalue()
    out = io.StringIO()
    assert run_explain(settings, ALICE, 20, out) == 0
    assert out.getvalue().startswith(f"no decisions for IMSI {ALICE}")
