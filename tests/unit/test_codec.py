"""cjo.codec: single-object encoding, decoding and the checks of normalise."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
from fastavro import schemaless_writer
from fastavro.schema import parse_schema, to_parsing_canonical_form
from hypothesis import given, settings
from hypothesis import strategies as st

from cjo.codec import (
    decode,
    encode,
    fingerprint,
    normalise,
    record_names,
    register_writer_schema,
    schema,
)
from cjo.codec.checks import MAX_TIMESTAMP_MS
from cjo.codec.schemas import fingerprint_of, schema_json, strip_logical_types, wire_schema
from cjo.errors import DecodeError, InvalidRecord

IMSI = "234150000000001"
T0 = 1767261600000  # 2026-01-01T10:00:00Z

SAMPLES: dict[str, dict[str, Any]] = {
    "ChargingEvent": {
        "event_id": "c1", "event_time": T0, "imsi": IMSI, "msisdn": "447700900001",
        "session_id": "s1", "request_type": "UPDATE", "rating_group": 10,
        "used_total_octets": 123456, "home_plmn": "23415", "serving_plmn": "310260",
        "rat_type": "NR", "balance": 4.25, "currency": "GBP", "bundle_id": "b1",
        "bundle_total_octets": 10**9, "bundle_remaining_octets": 5 * 10**8,
    },
    "LocationEvent": {
        "event_id": "l1", "event_time": T0, "imsi": IMSI, "msisdn": None, "event_type": "ATTACH",
        "home_plmn": "23415", "serving_plmn": "310260", "tac": "1a2b", "cell_id": "c-9",
        "lat": 51.5, "lon": -0.12, "imeisv": "3569871234567801",
    },
    "UsageEvent": {
        "event_id": "u1", "event_time": T0, "imsi": IMSI, "app_id": "yt", "app_category": "VIDEO",
        "bytes_uplink": 10, "bytes_downlink": 2**40, "duration_ms": 60000, "dropped": True,
        "throughput_kbps": 2**31 - 1, "serving_plmn": None,
    },
    "SubscriberProfile": {
        "imsi": IMSI, "msisdn": "447700900001", "email": "a@example.com", "app_user_id": None,
        "payment_type": "POSTPAID", "plan_id": "plan-l", "age_band": "A25_34", "language": "en",
        "timezone": "Europe/London", "home_plmn": "23415",
        "consent": {"sms": True, "email": False, "push": True, "location": False},
        "contract_end": 20455,
        "trials": [
            {"product_id": "tv", "expires_at": T0 + 1, "status": "ACTIVE"},
            {"product_id": "music", "expires_at": 0, "status": "CANCELLED"},
        ],
        "updated_at": T0, "segment": "youth", "attributes": {},
        "opted_in_at": {"sms": None, "email": None, "push": None, "location": None},
    },
    "OfferResponse": {
        "event_id": "r1", "event_time": T0, "offer_id": "o1", "imsi": IMSI, "channel": "SMS",
        "status": "CLICKED", "provider_message_id": "pm-1", "reason": None,
    },
    "Offer": {
        "offer_id": "o1", "imsi": IMSI, "channel": "PUSH", "destination": "app-1",
        "trigger_id": "roaming_welcome", "offer_code": "RW10", "message": "Welcome!",
        "score": 0.75, "trigger_event_id": "l1", "trigger_time": T0, "ingested_at": T0 + 5,
        "published_at": T0 + 9, "valid_until": T0 + 86_400_000, "reason": "roaming",
        "language": "en",
    },
    "Decision": {
        "offer_id": "o1", "decision_id": "d1", "imsi": IMSI, "channel": None, "destination": None,
        "trigger_id": "roaming_welcome", "offer_code": None, "message": None, "score": None,
        "trigger_event_id": "l1", "trigger_time": T0, "ingested_at": T0, "published_at": T0,
        "valid_until": None, "reason": None, "language": "en", "outcome": "SUPPRESSED",
        "reasons": ["no_consent", "frequency_cap:2/24h"], "propensity": 0.25, "model_version": 3,
        "features": {"abroad": 1.0}, "deferred_until": None,
        "action": None, "actions": [], "policy_version": None,  # since 0.2 (previous: defaults)
    },
    "DeadLetter": {
        "source_topic": "cjo.events.charging", "source_partition": -1, "source_offset": 7,
        "key": b"234150000000001", "payload": b"\xc3\x01\xff\x00", "error": "imsi: bad",
        "failed_at": T0,
    },
    "Outcome": {
        "offer_id": "o1", "imsi": IMSI, "trigger_id": "roaming_welcome",
        "offer_code": "TRAVEL_PASS_1GB_7D", "group": "HOLDOUT", "responded": False,
        "converted": True, "decided_at": T0, "closed_at": T0 + 1,
    },
    "LearningExample": {
        "model_id": "roaming_welcome", "offer_id": "o1", "imsi": IMSI,
        "offer_code": "TRAVEL_PASS_1GB_7D", "features": {"abroad": 1.0, "balance": 3.5},
        "label": True, "model_version": 4, "at": T0,
    },
}


def sample(name: str, **changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(SAMPLES[name])
    record.update(changes)
    return record


def digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=low, max_size=high)


def charging_events(max_time: int = MAX_TIMESTAMP_MS - 1) -> st.SearchStrategy[dict[str, Any]]:
    """Arbitrary valid ChargingEvents (complete records)."""
    counters = st.integers(0, 2**63 - 1)
    return st.fixed_dictionaries({
        "event_id": st.text(), "event_time": st.integers(0, max_time), "imsi": digits(5, 15),
        "msisdn": st.none() | st.text(), "session_id": st.text(),
        "request_type": st.sampled_from(["INITIAL", "UPDATE", "TERMINATION", "EVENT", "UNKNOWN"]),
        "rating_group": st.none() | st.integers(-(2**63), 2**63 - 1),
        "used_total_octets": counters, "home_plmn": digits(5, 6), "serving_plmn": digits(5, 6),
        "rat_type": st.none() | st.sampled_from(["GERAN", "UTRAN", "EUTRAN", "NR", "UNKNOWN"]),
        "balance": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        "currency": st.none() | st.text(),
        "bundle_id": st.none() | st.text(), "bundle_total_octets": st.none() | counters,
        "bundle_remaining_octets": st.none() | counters,
    })


# --- round trips -------------------------------------------------------------------------------


def test_samples_cover_every_schema() -> None:
    assert set(SAMPLES) == set(record_names())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_record_round_trips(name: str) -> None:
    assert decode(encode(name, SAMPLES[name])) == (name, SAMPLES[name])


def test_a_decision_keeps_its_behaviour_policy() -> None:
    """What off-policy evaluation reads: the action taken, every eligible action with its
    probability under the deciding policy, and that policy's version."""
    record = {**SAMPLES["Decision"], "action": "X", "policy_version": "thompson/0123456789ab/1",
              "actions": [{"action": "X", "probability": 0.675},
                          {"action": "Y", "probability": 0.225},
                          {"action": "_holdout", "probability": 0.1}]}
    assert decode(encode("Decision", record)) == ("Decision", record)


@settings(max_examples=200)
@given(charging_events())
def test_any_valid_charging_event_round_trips(record: dict[str, Any]) -> None:
    assert decode(encode("ChargingEvent", record), "ChargingEvent") == ("ChargingEvent", record)


@settings(max_examples=100)
@given(
    st.lists(st.fixed_dictionaries({
        "product_id": st.text(), "expires_at": st.integers(0, MAX_TIMESTAMP_MS - 1),
        "status": st.sampled_from(["ACTIVE", "CONVERTED", "CANCELLED", "UNKNOWN"]),
    }), max_size=4),
    st.fixed_dictionaries({k: st.booleans() for k in ("sms", "email", "push", "location")}),
    st.none() | st.integers(-(2**31), 2**31 - 1),
)
def test_any_profile_round_trips(trials: list[Any], consent: dict[str, bool], end: int) -> None:
    record = sample("SubscriberProfile", trials=trials, consent=consent, contract_end=end)
    assert decode(encode("SubscriberProfile", record))[1] == record


def test_timestamps_and_dates_decode_as_ints_not_datetimes() -> None:
    _, record = decode(encode("SubscriberProfile", SAMPLES["SubscriberProfile"]))
    assert type(record["updated_at"]) is int
    assert type(record["contract_end"]) is int
    assert type(record["trials"][0]["expires_at"]) is int


def test_encode_fills_defaults_and_decodes_complete() -> None:
    minimal = _without("UsageEvent", "dropped")
    del minimal["serving_plmn"]
    _, record = decode(encode("UsageEvent", minimal))
    assert record["dropped"] is False
    assert record["serving_plmn"] is None


# --- header ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_header_is_magic_and_schema_fingerprint(name: str) -> None:
    data = encode(name, SAMPLES[name])
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == fingerprint(name)
    assert len(fingerprint(name)) == 8


def test_fingerprints_tell_every_record_apart() -> None:
    assert len({fingerprint(name) for name in record_names()}) == len(record_names())


def test_fingerprint_ignores_docs_and_logical_types() -> None:
    """Parsing Canonical Form drops doc and logicalType, so stripping them keeps the fingerprint."""
    bare = strip_logical_types(schema_json("ChargingEvent"))
    for field in bare["fields"]:
        field.pop("doc", None)
    assert fingerprint_of(to_parsing_canonical_form(parse_schema(bare))) == fingerprint(
        "ChargingEvent"
    )


# --- what decode refuses -----------------------------------------------------------------------

GOOD = encode("ChargingEvent", SAMPLES["ChargingEvent"])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not Avro single-object"),
        (b"\xc3", "not Avro single-object"),
        (GOOD[:9], "not Avro single-object"),
        (b"\xc3\x00" + GOOD[2:], "not Avro single-object"),
        (b"{" + GOOD[1:], "not Avro single-object"),
        (GOOD[:2] + b"\x00" * 8 + GOOD[10:], "unknown schema fingerprint 0000000000000000"),
        (GOOD[:10] + b"\xff" * 30, "ChargingEvent body does not decode"),
        (GOOD + b"\x00", "1 bytes left after the ChargingEvent"),
    ],
)
def test_decode_refuses_what_is_not_a_record(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as raised:
        decode(data)
    assert raised.value.field == ""
    assert reason in raised.value.reason


@pytest.mark.parametrize("cut", range(10, len(GOOD)))
def test_decode_refuses_every_truncation(cut: int) -> None:
    with pytest.raises(DecodeError, match="body does not decode"):
        decode(GOOD[:cut])


@settings(max_examples=300)
@given(st.binary(max_size=60))
def test_garbage_after_a_good_header_never_escapes_as_another_error(body: bytes) -> None:
    try:
        name, _ = decode(GOOD[:10] + body)
    except InvalidRecord:  # DecodeError is one
        return
    assert name == "ChargingEvent"


def test_decode_refuses_another_record_than_expected() -> None:
    data = encode("LocationEvent", SAMPLES["LocationEvent"])
    with pytest.raises(DecodeError) as raised:
        decode(data, expected="ChargingEvent")
    assert raised.value.reason == "expected ChargingEvent, got LocationEvent"
    assert decode(data, expected="LocationEvent")[0] == "LocationEvent"


def _written_by_another_producer(name: str, record: dict[str, Any]) -> bytes:
    """Bytes with our header and a body fastavro writes without any of our checks."""
    stream = io.BytesIO()
    schemaless_writer(stream, wire_schema(name), record)
    return b"\xc3\x01" + fingerprint(name) + stream.getvalue()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"imsi": "23415000000000x"}, "imsi"),
        ({"serving_plmn": "3102"}, "serving_plmn"),
        ({"event_time": -1}, "event_time"),
        ({"bundle_remaining_octets": -5}, "bundle_remaining_octets"),
    ],
)
def test_decode_applies_the_semantic_checks(changes: dict[str, Any], field: str) -> None:
    data = _written_by_another_producer("ChargingEvent", sample("ChargingEvent", **changes))
    with pytest.raises(InvalidRecord) as raised:
        decode(data)
    assert type(raised.value) is InvalidRecord  # it decoded: the record is wrong, not the bytes
    assert raised.value.field == field


def test_decode_checks_nested_fields_too() -> None:
    trials = [{"product_id": "tv", "expires_at": MAX_TIMESTAMP_MS, "status": "ACTIVE"}]
    profile = sample("SubscriberProfile", trials=trials)
    data = _written_by_another_producer("SubscriberProfile", profile)
    with pytest.raises(InvalidRecord) as raised:
        decode(data)
    assert raised.value.field == "trials[0].expires_at"


# --- a newer producer --------------------------------------------------------------------------


def test_registered_newer_writer_schema_reads_unknown_symbols_as_unknown() -> None:
    newer = json.loads(json.dumps(schema_json("ChargingEvent")))
    request_type = next(f for f in newer["fields"] if f["name"] == "request_type")
    request_type["type"]["symbols"].insert(0, "INTERIM_TEST_ONLY")
    newer["fields"].append({"name": "slice_id", "type": "string", "default": ""})
    parsed = parse_schema(strip_logical_types(newer))
    stream = io.BytesIO()
    written = sample("ChargingEvent", request_type="INTERIM_TEST_ONLY", slice_id="embb")
    schemaless_writer(stream, parsed, written)
    data = b"\xc3\x01" + fingerprint_of(to_parsing_canonical_form(parsed)) + stream.getvalue()

    with pytest.raises(DecodeError, match="unknown schema fingerprint"):
        decode(data)
    assert register_writer_schema(json.dumps(newer)) == "ChargingEvent"
    _, record = decode(data, expected="ChargingEvent")
    assert record == sample("ChargingEvent", request_type="UNKNOWN")


def test_register_refuses_a_record_that_is_not_ours() -> None:
    foreign = {"type": "record", "name": "ChargingEvent", "namespace": "other", "fields": []}
    with pytest.raises(ValueError, match="none of our records"):
        register_writer_schema(foreign)


# --- schema() ----------------------------------------------------------------------------------


def test_schema_is_the_parsed_avsc_cached() -> None:
    parsed = schema("SubscriberProfile")
    assert parsed["name"] == "cjo.v1.SubscriberProfile"
    assert schema("SubscriberProfile") is parsed
    updated_at = next(f for f in parsed["fields"] if f["name"] == "updated_at")
    assert updated_at["type"]["logicalType"] == "timestamp-millis"


def test_schema_of_an_unknown_record_is_an_error() -> None:
    with pytest.raises(ValueError, match="no schema named 'Nope'"):
        schema("Nope")


# --- normalise ---------------------------------------------------------------------------------


def test_normalise_fills_omitted_nullable_and_defaulted_fields() -> None:
    given_fields = {
        "event_id": "c1", "event_time": T0, "imsi": IMSI, "session_id": "s1",
        "request_type": "INITIAL", "home_plmn": "23415", "serving_plmn": "23415",
    }
    record = normalise("ChargingEvent", given_fields)
    assert record["used_total_octets"] == 0
    for nullable in ("msisdn", "rating_group", "rat_type", "balance", "currency", "bundle_id",
                     "bundle_total_octets", "bundle_remaining_octets"):
        assert record[nullable] is None
    assert list(record) == [f["name"] for f in schema("ChargingEvent")["fields"]]


def test_normalise_fills_nested_defaults_with_fresh_copies() -> None:
    value = _without("SubscriberProfile", "consent")
    del value["trials"]
    first, second = normalise("SubscriberProfile", value), normalise("SubscriberProfile", value)
    assert first["consent"] == {"sms": False, "email": False, "push": False, "location": False}
    assert first["trials"] == []
    first["consent"]["sms"] = True
    first["trials"].append("x")
    assert second["consent"]["sms"] is False
    assert second["trials"] == []


def test_normalise_accepts_explicit_nulls_and_drops_unknown_fields() -> None:
    value = sample("LocationEvent", tac=None, lat=None, vendor_extra={"x": 1})
    record = normalise("LocationEvent", value)
    assert record["tac"] is None
    assert "vendor_extra" not in record


def test_normalise_turns_an_int_into_a_double() -> None:
    record = normalise("ChargingEvent", sample("ChargingEvent", balance=10))
    assert record["balance"] == 10.0
    assert type(record["balance"]) is float


@pytest.mark.parametrize(
    ("given_date", "days"),
    [("2026-01-02", 20455), (20455, 20455), ("1970-01-01", 0), ("1969-12-31", -1), (None, None)],
)
def test_normalise_accepts_dates_in_both_forms(given_date: Any, days: int | None) -> None:
    record = normalise("SubscriberProfile", sample("SubscriberProfile", contract_end=given_date))
    assert record["contract_end"] == days


def test_normalise_accepts_bytes_as_latin1_text() -> None:
    record = normalise("DeadLetter", sample("DeadLetter", payload="\u00ff\u0000a", key=None))
    assert record["payload"] == b"\xff\x00a"


def _error(name: str, value: Any) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as raised:
        normalise(name, value)
    return raised.value


def _without(name: str, field: str) -> dict[str, Any]:
    return {k: v for k, v in SAMPLES[name].items() if k != field}


def _trial(**changes: Any) -> list[dict[str, Any]]:
    good = {"product_id": "tv", "expires_at": T0, "status": "ACTIVE"}
    return [good, {**good, **changes}]


BAD_VALUES: list[tuple[str, dict[str, Any], str, str]] = [
    # (record, changes, field, words in the reason)
    ("ChargingEvent", {"event_time": "abc"}, "event_time", "expected long, got str 'abc'"),
    ("ChargingEvent", {"event_time": 1.5}, "event_time", "expected long, got float 1.5"),
    ("ChargingEvent", {"used_total_octets": True}, "used_total_octets", "got bool True"),
    ("ChargingEvent", {"used_total_octets": None}, "used_total_octets", "expected long, got null"),
    ("ChargingEvent", {"rating_group": 2**63}, "rating_group", "long out of range"),
    ("ChargingEvent", {"session_id": 7}, "session_id", "expected string, got int 7"),
    ("ChargingEvent", {"balance": "1.0"}, "balance", "expected double, got str '1.0'"),
    ("ChargingEvent", {"request_type": "FOO"}, "request_type",
     "unknown RequestType symbol 'FOO', "
     "expected one of INITIAL, UPDATE, TERMINATION, EVENT, UNKNOWN"),
    ("ChargingEvent", {"request_type": 1}, "request_type", "got int 1"),
    ("ChargingEvent", {"rat_type": "5G"}, "rat_type", "GERAN, UTRAN, EUTRAN, NR, UNKNOWN"),
    ("ChargingEvent", {"imsi": "23415abc"}, "imsi", "5 to 15 digits"),
    ("ChargingEvent", {"imsi": "1234"}, "imsi", "5 to 15 digits"),
    ("ChargingEvent", {"imsi": "1" * 16}, "imsi", "5 to 15 digits"),
    ("ChargingEvent", {"imsi": "\uff12\uff13\uff14\uff11\uff15"}, "imsi", "5 to 15 digits"),
    ("ChargingEvent", {"imsi": 234150000000001}, "imsi", "expected string"),
    ("ChargingEvent", {"home_plmn": "2341"}, "home_plmn", "5 or 6 digits"),
    ("ChargingEvent", {"serving_plmn": "3102601"}, "serving_plmn", "5 or 6 digits"),
    ("LocationEvent", {"serving_plmn": "23a15"}, "serving_plmn", "5 or 6 digits"),
    ("UsageEvent", {"serving_plmn": "1"}, "serving_plmn", "5 or 6 digits"),
    ("ChargingEvent", {"event_time": -1}, "event_time", ">= 0 and before year 9999"),
    ("ChargingEvent", {"event_time": MAX_TIMESTAMP_MS}, "event_time", "before year 9999"),
    ("ChargingEvent", {"used_total_octets": -1}, "used_total_octets", ">= 0"),
    ("ChargingEvent", {"bundle_remaining_octets": -1}, "bundle_remaining_octets", ">= 0"),
    ("UsageEvent", {"bytes_downlink": -1}, "bytes_downlink", ">= 0"),
    ("UsageEvent", {"throughput_kbps": 2**31}, "throughput_kbps", "int out of range"),
    ("LocationEvent", {"lat": 90.5}, "lat", "[-90, 90]"),
    ("LocationEvent", {"lat": float("nan")}, "lat", "[-90, 90]"),
    ("LocationEvent", {"lon": -181}, "lon", "[-180, 180]"),
    ("SubscriberProfile", {"updated_at": -5}, "updated_at", ">= 0"),
    ("SubscriberProfile", {"consent": {"sms": "yes"}}, "consent.sms", "expected boolean, got str"),
    ("SubscriberProfile", {"consent": "all"}, "consent", "expected record Consent"),
    ("SubscriberProfile", {"trials": {}}, "trials", "expected array"),
    ("SubscriberProfile", {"trials": _trial(expires_at="soon")}, "trials[1].expires_at",
     "expected long, got str 'soon'"),
    ("SubscriberProfile", {"trials": _trial(expires_at=-1)}, "trials[1].expires_at", ">= 0"),
    ("SubscriberProfile", {"trials": _trial(status="GONE")}, "trials[1].status",
     "ACTIVE, CONVERTED, CANCELLED, UNKNOWN"),
    ("SubscriberProfile", {"trials": [{"expires_at": 1, "status": "ACTIVE"}]},
     "trials[0].product_id", "required field missing"),
    ("SubscriberProfile", {"contract_end": "2026-13-01"}, "contract_end", "not a calendar date"),
    ("SubscriberProfile", {"contract_end": "01/02/2026"}, "contract_end", "expected date"),
    ("SubscriberProfile", {"contract_end": True}, "contract_end", "expected date"),
    ("SubscriberProfile", {"payment_type": None}, "payment_type", "got null"),
    ("DeadLetter", {"payload": "\u20ac"}, "payload", "code points 0-255"),
    ("Decision", {"reasons": ["ok", 3]}, "reasons[1]", "expected string, got int 3"),
]


@pytest.mark.parametrize(("name", "changes", "field", "reason"), BAD_VALUES)
def test_normalise_names_the_field_that_is_wrong(
    name: str, changes: dict[str, Any], field: str, reason: str
) -> None:
    error = _error(name, sample(name, **changes))
    assert (error.field, type(error)) == (field, InvalidRecord)
    assert reason in error.reason
    assert str(error) == f"{field}: {error.reason}"


@pytest.mark.parametrize(("name", "field"), [
    ("ChargingEvent", "event_id"), ("ChargingEvent", "imsi"), ("SubscriberProfile", "updated_at"),
    ("UsageEvent", "bytes_uplink"), ("OfferResponse", "channel"), ("DeadLetter", "payload"),
])
def test_normalise_names_a_missing_required_field(name: str, field: str) -> None:
    error = _error(name, _without(name, field))
    assert (error.field, error.reason) == (field, "required field missing")


def test_normalise_refuses_a_value_that_is_not_an_object() -> None:
    error = _error("ChargingEvent", [1, 2])
    assert error.field == ""
    assert "expected record ChargingEvent (an object), got list" in error.reason


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("ChargingEvent", {"event_time": 0, "imsi": "12345", "home_plmn": "123456"}),
        ("ChargingEvent", {"event_time": MAX_TIMESTAMP_MS - 1, "imsi": "1" * 15}),
        ("LocationEvent", {"lat": -90, "lon": 180.0}),
        ("UsageEvent", {"bytes_uplink": 0, "duration_ms": 0, "throughput_kbps": 0}),
    ],
)
def test_normalise_accepts_the_edges(name: str, changes: dict[str, Any]) -> None:
    assert normalise(name, sample(name, **changes)) == {
        **sample(name, **changes),
        **{k: float(v) for k, v in changes.items() if k in ("lat", "lon")},
    }


def test_encode_refuses_what_normalise_refuses() -> None:
    with pytest.raises(InvalidRecord) as raised:
        encode("SubscriberProfile", sample("SubscriberProfile", consent={"push": 1}))
    assert raised.value.field == "consent.push"
