"""cjo.logs: personal data (IMSI, MSISDN, email) never leaves a log line in clear."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from cjo import logs

IMSI = "234150000000001"
IMSI_14 = "23415000000002"
MSISDN = "447700900123"
E164 = "+447700900456"
EMAIL = "jane.doe+offers@mail.example.co.uk"
PERSONAL = (IMSI, IMSI_14, MSISDN, E164, EMAIL, "447700900456")


@pytest.mark.parametrize("value", [IMSI, IMSI_14, MSISDN, E164, EMAIL, "12345678"])
def test_mask_replaces_the_value_by_its_hash(value: str) -> None:
    assert logs.mask(value) == f"<masked:{logs.hash_id(value)}>"


def test_mask_finds_values_inside_messages() -> None:
    reason = (f"key: b'{IMSI}' does not match imsi '{IMSI_14}'; msisdn={MSISDN}, "
              f"to {E164} or <{EMAIL}>")
    masked = logs.mask(reason)
    assert not any(value in masked for value in PERSONAL)
    assert masked == (f"key: b'<masked:{logs.hash_id(IMSI)}>' does not match imsi "
                      f"'<masked:{logs.hash_id(IMSI_14)}>'; msisdn=<masked:"
                      f"{logs.hash_id(MSISDN)}>, to <masked:{logs.hash_id(E164)}> or "
                      f"<<masked:{logs.hash_id(EMAIL)}>>")


@pytest.mark.parametrize("text", [
    "cjo.events.charging", "t1-4f2a.events.usage[3]", "offset 1234567", "plmn 23415 / 310260",
    "2026-01-01T10:00:00.123456Z", "score 0.123456789012", "digest 3f2a9c0012345678ab",
    "a1234567890bcdef", "1234567890123456", "partitions [0, 1, 2]", "version 12.34567890",
    "event c-1-1767261600000x",
])
def test_mask_leaves_what_is_not_personal(text: str) -> None:
    assert logs.mask(text) == text


@pytest.fixture
def stderr() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    saved = logging.getLogRecordFactory()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stderr", buffer)
        logs.configure("INFO", "json", "test-salt")
        yield buffer
    logs.configure()  # the defaults again, on the real stderr
    logging.setLogRecordFactory(saved)
    logs._base_factory = None


def test_every_worker_log_line_is_masked(stderr: io.StringIO) -> None:
    log = logs.get("cjo.test")
    log.warning("dead_letter", topic="cjo.events.location", partition=3, offset=12345678,
                error=f"key: b'{IMSI}' does not match imsi '{IMSI_14}'",
                nested={"to": [EMAIL, MSISDN]}, key=IMSI.encode())
    try:
        raise ValueError(f"bad profile {E164}")
    except ValueError:
        log.exception("crashed")

    text = stderr.getvalue()
    assert not any(value in text for value in PERSONAL), text
    first = json.loads(text.splitlines()[0])
    assert (first["topic"], first["partition"], first["offset"]) == (
        "cjo.events.location", 3, 12345678)
    assert logs.hash_id(IMSI) in first["error"]
    assert "ValueError: bad profile <masked:" in text


def test_standard_logging_records_are_masked(stderr: io.StringIO) -> None:
    handler = logging.StreamHandler(stderr)
    other = logging.getLogger("aiokafka.test")
    other.addHandler(handler)
    try:
        other.warning("fetch of key %s failed for %s", IMSI.encode(), EMAIL)
    finally:
        other.removeHandler(handler)
    text = stderr.getvalue()
    assert "fetch of key b'<masked:" in text
    assert not any(value in text for value in PERSONAL), text


def test_loggers_are_masked_without_explicit_configure() -> None:
    """A CLI command never calls configure: its first logger configures the masking."""
    structlog.reset_defaults()
    assert not structlog.is_configured()
    logs.get("cjo.cli")
    processors = structlog.get_config()["processors"]
    assert logs.mask_event in processors


def test_the_demo_prints_offers_without_their_destination_in_clear() -> None:
    from cjo.summary import offer_line

    for destination in (MSISDN, EMAIL):
        line = offer_line({"channel": "SMS", "destination": destination, "trigger_id": "t",
                           "offer_code": "O", "message": "hello"})
        assert destination not in line and f"<masked:{logs.hash_id(destination)}>" in line
    push = offer_line({"channel": "PUSH", "destination": "app-7", "trigger_id": "t",
                       "offer_code": "O", "message": "hello"})
    assert "app-7" in push


# -- by field, never inside an id (issue 20, point 8) ---------------------------------------------

# about 1 in 9 UUIDs start with 8 decimal digits: an IMSI-like run to the old masking
UUID = "17672616-6b10-5fc4-9d2e-0123456789ab"


@pytest.mark.parametrize("text", [UUID, f"offer {UUID} sent", UUID.upper()])
def test_mask_never_cuts_into_a_uuid(text: str) -> None:
    assert logs.mask(text) == text


def test_log_lines_mask_by_field(stderr: io.StringIO) -> None:
    log = logs.get("cjo.test")
    log.info("offer", subscriber=logs.hash_id(IMSI), offer_id=UUID, trigger_id="t_12345678",
             imsi="12ab", msisdn="0", destination="app-7", note=f"for {MSISDN}")
    line = json.loads(stderr.getvalue().splitlines()[0])
    assert line["offer_id"] == UUID and line["trigger_id"] == "t_12345678"  # ids as they are
    assert line["subscriber"] == logs.hash_id(IMSI)
    # a personal field is masked whole, whatever it looks like
    assert line["imsi"] == f"<masked:{logs.hash_id('12ab')}>"
    assert line["msisdn"] == f"<masked:{logs.hash_id('0')}>"
    assert line["destination"] == f"<masked:{logs.hash_id('app-7')}>"
    assert line["note"] == f"for <masked:{logs.hash_id(MSISDN)}>"  # any other text: by its look


def test_an_error_shows_the_user_s_own_value_unless_it_is_personal() -> None:
    assert logs.mask_error("value.event_time", "expected long, got string '12345678901'") == (
        "expected long, got string '12345678901'")
    masked = logs.mask_error("value.imsi", "expected 14 or 15 digits, got '12ab'")
    assert masked == f"expected 14 or 15 digits, got <masked:{logs.hash_id('12ab')}>"
    assert IMSI not in logs.mask_error("", f"a record for {IMSI}")


def test_replay_shows_the_bad_value_of_a_field_that_is_not_personal() -> None:
    from pathlib import Path

    from cjo.adapters.replay import ReplaySummary
    from cjo.errors import InvalidRecord

    summary = ReplaySummary(path=Path("log.jsonl"))
    summary.note_bad(3, InvalidRecord("value.event_time",
                                      "expected long, got string '17672616000'"))
    summary.note_bad(4, InvalidRecord("value.msisdn", f"expected text, got '{MSISDN}'"))
    text = summary.render(end_offsets=False)
    assert "line 3: value.event_time: expected long, got string '17672616000'" in text
    assert MSISDN not in text and "line 4: value.msisdn: expected text, got <masked:" in text
