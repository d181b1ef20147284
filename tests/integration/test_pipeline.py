"""The backbone end to end: a recorded log through a real worker on the embedded broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cjo import codec
from cjo.adapters.broker import Broker
from cjo.adapters.kafka_admin import read_all
from cjo.codec import fingerprint
from cjo.offers import offer_id
from tests.integration.pipeline import Pipeline, write_log
from tests.unit.test_codec_apache_avro import apache_read

pytestmark = pytest.mark.integration

T0 = 1_767_261_600_000  # 2026-01-01T10:00Z
HOUR = 3_600_000
HOME = "23415"


def imsi(n: int) -> str:
    return f"23415{n:010d}"


def profile(n: int, **consent: bool) -> dict[str, Any]:
    return {"topic": "subscribers", "key": imsi(n), "value": {
        "imsi": imsi(n), "msisdn": f"4477009{n:05d}", "email": f"s{n}@example.com",
        "app_user_id": f"app-{n}", "payment_type": "POSTPAID", "plan_id": "p1",
        "language": "fr" if n == 2 else "en", "timezone": "Europe/London", "home_plmn": HOME,
        "consent": consent, "updated_at": T0 - HOUR}}


def loc(n: int, serving: str, at: int, stream: str = "location") -> dict[str, Any]:
    value: dict[str, Any] = {"event_id": f"{stream}-{n}-{at}", "event_time": at,
                             "imsi": imsi(n), "home_plmn": HOME, "serving_plmn": serving}
    if stream == "location":
        value["event_type"] = "ATTACH"
    else:
        value.update(session_id=f"s{n}", request_type="UPDATE", used_total_octets=100)
    return {"topic": stream, "key": imsi(n), "value": value}


def scenario() -> list[Any]:
    lines: list[Any] = [profile(1, sms=True), profile(2, push=True, email=True),
                        profile(3), profile(4, sms=True)]
    for n in (1, 2, 3, 4):
        lines.append(loc(n, HOME, T0))
    # 1: two trips (France, then the US after coming home), a country change inside trip 1
    lines += [loc(1, "20801", T0 + HOUR), loc(1, "21401", T0 + 2 * HOUR, "charging"),
              loc(1, HOME, T0 + 5 * HOUR), loc(1, "310260", T0 + 9 * HOUR)]
    # 2: one trip seen first by charging, then many events abroad
    lines += [loc(2, "26201", T0 + HOUR, "charging")]
    lines += [loc(2, "26201", T0 + HOUR + k * 60_000) for k in range(1, 6)]
    # 3: abroad, but consented to nothing
    lines += [loc(3, "20801", T0 + 2 * HOUR)]
    # 4: home only
    lines += [loc(4, HOME, T0 + k * HOUR, "charging") for k in range(1, 8)]
    lines.sort(key=lambda line: line["value"].get("event_time", 0))
    bad = ['{"topic": "location", "key": "1", "value": {"event_id": "x"',  # not JSON
           '{"topic": "weather", "key": "234150000000001", "value": {}}',  # unknown stream
           '{"topic": "location", "value": {"event_id": "b", "event_time": "noon", '
           '"imsi": "234150000000001", "event_type": "ATTACH", "home_plmn": "23415", '
           '"serving_plmn": "23415"}}']  # wrong type
    return lines[:6] + bad[:2] + lines[6:] + bad[2:]


@pytest.fixture
def pipeline(broker: Broker, unique_prefix: str, tmp_path: Path) -> Iterator[Pipeline]:
    p = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=4)
    yield p
    p.stop()


def test_recorded_log_becomes_exactly_the_expected_offers(pipeline: Pipeline,
                                                          tmp_path: Path) -> None:
    log = write_log(tmp_path / "scenario.jsonl", scenario())
    pipeline.start_worker()
    summary = pipeline.replay(log)
    garbage = b"\x00not an avro record"
    pipeline.produce_raw("charging", imsi(9).encode(), garbage)
    pipeline.wait()
    result = pipeline.collect()

    # 1's second trip the same day is not offered the same travel pass again (dedupe: 14 days)
    expected = {
        (imsi(1), "trip-" + str(T0 + HOUR), "SMS"),
        (imsi(2), "trip-" + str(T0 + HOUR), "PUSH"),
    }
    got = {(o["imsi"], f"trip-{o['trigger_time']}", o["channel"]) for o in result.offers}
    assert got == expected
    assert len(result.offers) == 2  # one per trip, none twice
    for o in result.offers:
        assert o["offer_id"] == offer_id(o["imsi"], "roaming_welcome", f"trip-{o['trigger_time']}")
        assert o["published_at"] >= o["ingested_at"]
    by_imsi = {o["imsi"]: o for o in result.offers}
    assert by_imsi[imsi(2)]["destination"] == "app-2"
    assert by_imsi[imsi(2)]["message"].startswith("Bienvenue") and "Germany" in by_imsi[
        imsi(2)]["message"]

    # what the engine published is plain Avro single-object encoding: an independent decoder agrees
    published = read_all(pipeline.settings.broker, [pipeline.topics["sms"], pipeline.topics["push"],
                                                    pipeline.topics["decisions"]])
    for record in published:
        name = "Decision" if record.topic == pipeline.topics["decisions"] else "Offer"
        assert record.value[:2] == b"\xc3\x01" and record.value[2:10] == fingerprint(name)
        independent = apache_read(name, record.value)
        assert independent["offer_id"] == codec.decode(record.value, name)[1]["offer_id"]
        assert independent["imsi"] == record.key.decode()

    suppressed = [d for d in result.decisions if d["outcome"] == "SUPPRESSED"]
    assert sorted((d["imsi"], d["reasons"]) for d in suppressed) == [
        (imsi(1), ["dedupe:TRAVEL_PASS_1GB_7D/14d"]), (imsi(3), ["no_consent:push,sms,email"])]
    assert sorted(d["outcome"] for d in result.decisions) == ["SENT"] * 2 + ["SUPPRESSED"] * 2

    # every bad input is one dead letter carrying its original bytes and a reason naming the field
    assert summary.bad_lines == 3
    letters = pipeline.dead_letters()
    assert len(letters) == 4
    raw_lines = log.read_bytes().splitlines()
    from_replay = sorted((d for d in letters if d["source_topic"].startswith("replay:")),
                         key=lambda d: d["source_offset"])
    assert [d["payload"] for d in from_replay] == [raw_lines[d["source_offset"] - 1]
                                                   for d in from_replay]
    assert "topic" in from_replay[1]["error"] and "event_time" in from_replay[2]["error"]
    from_worker = [d for d in letters if d["source_topic"] == pipeline.topics["charging"]]
    assert [(d["payload"], d["key"]) for d in from_worker] == [(garbage, imsi(9).encode())]
    assert "Avro" in from_worker[0]["error"]
