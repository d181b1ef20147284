"""cjo.codec: recorded-log lines and dead letters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cjo.codec import (
    RECORD_OF_STREAM,
    LogRecord,
    checked_key,
    dead_letter,
    decode,
    encode,
    key_matches,
    parse_log_line,
)
from cjo.errors import InvalidRecord

from .test_codec import IMSI, SAMPLES, T0

# The example line of docs/data-contract.md ("Recorded logs"), verbatim.
CONTRACT_LINE = (
    '{"topic": "location", "key": "234150000000001", "value": {"event_id": "e1", "event_time": '
    '1767261600000, "imsi": "234150000000001", "event_type": "ATTACH", "home_plmn": "23415", '
    '"serving_plmn": "310260", "msisdn": null, "tac": null, "cell_id": null, "lat": null, '
    '"lon": null, "imeisv": null}}'
)


def line(topic: Any = "charging", value: Any = None, **extra: Any) -> str:
    document = {"topic": topic, "key": IMSI, **extra}
    document["value"] = SAMPLES["ChargingEvent"] if value is None else value
    return json.dumps(document)


def error_of(text: str | bytes) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as raised:
        parse_log_line(text)
    return raised.value


def test_the_events_md_example_parses() -> None:
    record = parse_log_line(CONTRACT_LINE)
    assert record == LogRecord(
        stream="location",
        key=b"234150000000001",
        record_name="LocationEvent",
        value={
            "event_id": "e1", "event_time": 1767261600000, "imsi": "234150000000001",
            "msisdn": None, "event_type": "ATTACH", "home_plmn": "23415",
            "serving_plmn": "310260", "tac": None, "cell_id": None, "lat": None, "lon": None,
            "imeisv": None,
        },
        event_time=1767261600000,
    )


@pytest.mark.parametrize(("stream", "name"), sorted(RECORD_OF_STREAM.items()))
def test_every_stream_parses_from_bytes_and_encodes(stream: str, name: str) -> None:
    record = parse_log_line(line(stream, SAMPLES[name]).encode() + b"\n")
    assert (record.stream, record.record_name, record.key) == (stream, name, IMSI.encode())
    assert record.value == SAMPLES[name]
    assert decode(encode(name, record.value)) == (name, SAMPLES[name])


def test_event_time_of_a_profile_is_its_updated_at() -> None:
    profile = {**SAMPLES["SubscriberProfile"], "updated_at": T0 + 42}
    assert parse_log_line(line("subscribers", profile)).event_time == T0 + 42


def test_omitted_fields_are_filled() -> None:
    value = {k: v for k, v in SAMPLES["LocationEvent"].items() if v is not None}
    assert parse_log_line(line("location", value)).value == SAMPLES["LocationEvent"]


@pytest.mark.parametrize("key", ["absent", None])
def test_a_missing_key_defaults_to_the_imsi(key: str | None) -> None:
    document = json.loads(line())
    if key == "absent":
        del document["key"]
    else:
        document["key"] = None
    assert parse_log_line(json.dumps(document)).key == IMSI.encode()


@pytest.mark.parametrize("key", ["234150000000002", 234150000000001, ""])
def test_a_key_other_than_the_imsi_is_refused(key: Any) -> None:
    error = error_of(line(key=key))
    assert error.field == "key"
    assert IMSI in error.reason


@pytest.mark.parametrize(("key", "shown"), [
    (b"234150000000002", "bytes b'234150000000002'"),  # as the worker reads it
    ("234150000000002", "str '234150000000002'"),  # as a recorded log holds it
    (234150000000001, "int 234150000000001"),
])
def test_the_worker_and_the_log_refuse_a_wrong_key_in_the_same_words(key: Any, shown: str) -> None:
    with pytest.raises(InvalidRecord) as raised:
        checked_key(key, IMSI)
    assert str(raised.value) == f"key: {shown} does not match imsi '{IMSI}'"
    if not isinstance(key, bytes):
        assert str(error_of(line(key=key))) == str(raised.value)


def test_the_key_rule_takes_the_imsi_as_bytes_or_text() -> None:
    assert checked_key(IMSI.encode(), IMSI) == checked_key(IMSI, IMSI) == IMSI.encode()
    assert key_matches(IMSI.encode(), IMSI) and key_matches(IMSI, IMSI)
    assert not key_matches(None, IMSI) and not key_matches(IMSI.encode() + b" ", IMSI)
    with pytest.raises(InvalidRecord, match=r"^key: missing: records must be keyed by imsi$"):
        checked_key(None, IMSI)


@pytest.mark.parametrize("text", ['{"topic": "charging",', "", b"\xff\xfe", "nan"])
def test_a_line_that_is_not_json_is_refused(text: str | bytes) -> None:
    error = error_of(text)
    assert error.field == ""
    assert error.reason.startswith("not JSON")


def test_a_line_that_is_not_an_object_is_refused() -> None:
    error = error_of("[1, 2]")
    assert (error.field, error.reason) == ("", "a log line must be a JSON object, got list [1, 2]")


@pytest.mark.parametrize("topic", ["cjo.events.charging", "Charging", 3, None])
def test_an_unknown_topic_is_refused_listing_the_streams(topic: Any) -> None:
    error = error_of(line(topic))
    assert error.field == "topic"
    assert "charging, location, usage, subscribers, responses" in error.reason


def test_a_missing_topic_is_refused() -> None:
    error = error_of(json.dumps({"value": SAMPLES["ChargingEvent"]}))
    assert error.field == "topic"
    assert "required field missing" in error.reason


@pytest.mark.parametrize(
    ("stream", "changes", "field"),
    [
        ("charging", {"imsi": "x"}, "value.imsi"),
        ("charging", {"event_time": "2026-01-01T00:00:00Z"}, "value.event_time"),
        ("subscribers", {"consent": {"sms": 1}}, "value.consent.sms"),
        ("subscribers", {"trials": [{"product_id": "a", "expires_at": 1, "status": "X"}]},
         "value.trials[0].status"),
    ],
)
def test_an_invalid_value_names_the_field_under_value(
    stream: str, changes: dict[str, Any], field: str
) -> None:
    value = {**SAMPLES[RECORD_OF_STREAM[stream]], **changes}
    assert error_of(line(stream, value)).field == field


def test_a_value_that_is_not_an_object_or_missing_is_refused() -> None:
    assert error_of(line(value=[1])).field == "value"
    assert error_of(json.dumps({"topic": "usage", "key": IMSI})).field == "value"


# --- dead letters ------------------------------------------------------------------------------


def test_dead_letter_carries_the_original_bytes_and_why() -> None:
    original = b"\xc3\x01\x00garbage \xff"
    data = dead_letter("cjo.events.charging", 3, 1234, IMSI.encode(), original, "imsi: bad", T0)
    assert decode(data, "DeadLetter") == ("DeadLetter", {
        "source_topic": "cjo.events.charging", "source_partition": 3, "source_offset": 1234,
        "key": IMSI.encode(), "payload": original, "error": "imsi: bad", "failed_at": T0,
    })


def test_dead_letter_of_a_log_line_without_key_or_partition() -> None:
    bad = b'{"topic": "nope"}'
    error = error_of(bad)
    _, letter = decode(dead_letter("replay.jsonl", -1, 17, None, bad, str(error), T0))
    assert letter["key"] is None
    assert letter["payload"] == bad
    assert letter["error"].startswith("topic: unknown stream")
