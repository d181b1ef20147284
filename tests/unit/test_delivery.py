"""The pure half of the gateways: offer -> message, retry policy, claim ledger, responses."""

from __future__ import annotations

import pytest

from cjo.codec import decode, encode
from cjo.delivery import (
    Action,
    Claim,
    Entry,
    LedgerTable,
    OfferMessage,
    Response,
    RetryPolicy,
    action_for,
    delivered,
    failed,
    parse_retry_after,
)

OFFER = {
    "offer_id": "o-1", "imsi": "208150000000001", "channel": "EMAIL",
    "destination": "ana@example.org", "trigger_id": "t", "offer_code": "ROAM5",
    "message": "Olá", "trigger_event_id": "e", "trigger_time": 1_000, "ingested_at": 1_000,
    "published_at": 2_000, "valid_until": 10_000, "reason": "roaming", "language": "pt",
}


def test_message_from_an_offer_record_read_off_the_wire() -> None:
    _, record = decode(encode("Offer", OFFER), "Offer")
    message = OfferMessage.from_offer(record)
    assert (message.channel, message.destination, message.text, message.language) == (
        "email", "ana@example.org", "Olá", "pt")
    assert not message.expired(9_999)
    assert message.expired(10_000)
    assert OfferMessage.from_offer({**OFFER, "language": None}).language == "en"


def test_backoff_doubles_up_to_its_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(base_s=1.0, max_s=5.0, jitter=0.2)
    assert [policy.backoff_s(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.backoff_s(1, rand=0.0) == pytest.approx(0.8)
    assert policy.backoff_s(1, rand=0.999) == pytest.approx(1.2, abs=1e-3)


def test_retry_honours_the_servers_wait_and_gives_up_on_attempts_validity_and_long_waits() -> (
        None):
    policy = RetryPolicy(max_attempts=3, base_s=1.0, max_retry_after_s=60)
    assert policy.next_wait_s(1, None, now_ms=0, valid_until_ms=100_000) == 1.0
    assert policy.next_wait_s(1, 7.0, now_ms=0, valid_until_ms=100_000) == 7.0
    assert policy.next_wait_s(3, None, now_ms=0, valid_until_ms=100_000) is None
    assert policy.next_wait_s(1, 61.0, now_ms=0, valid_until_ms=100_000) is None
    assert policy.next_wait_s(1, 7.0, now_ms=94_000, valid_until_ms=100_000) is None


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after("120", now_s=0) == 120.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now_s=40.0) == 60.0
    assert parse_retry_after("soon", now_s=0) is None
    assert parse_retry_after(None, now_s=0) is None


def test_ledger_an_offer_in_doubt_is_reported_never_sent_again() -> None:
    assert action_for(None) is Action.SEND
    assert action_for(Entry("o", Claim.CLAIMED, 1)) is Action.REPORT_UNKNOWN
    assert action_for(Entry("o", Claim.RELEASED, 1, attempts=1)) is Action.SEND
    assert action_for(Entry("o", Claim.DONE, 1, status="DELIVERED")) is Action.SKIP
    table = LedgerTable()
    table.apply(Entry("o", Claim.CLAIMED, 1))
    table.apply(Entry("o", Claim.DONE, 2, status="FAILED"))
    assert table.action("o") is Action.SKIP
    assert table.action("other") is Action.SEND


def test_ledger_entries_round_trip_and_garbage_is_refused() -> None:
    entry = Entry("o", Claim.DONE, 5, owner="gw-1", attempts=2, status="SENT",
                  provider_message_id="abc")
    assert Entry.from_bytes(entry.to_bytes()) == entry
    with pytest.raises(ValueError, match="ledger entry"):
        Entry.from_bytes(b"{}")
    with pytest.raises(ValueError, match="ledger entry"):
        Entry.from_bytes(b'{"offer_id": "o", "claim": "LOST", "at_ms": 1}')


def test_responses_encode_as_offer_responses_with_stable_ids() -> None:
    message = OfferMessage.from_offer(OFFER)
    bad = Response.of(message, failed("smtp:550 5.1.1"), 3_000)
    _, record = decode(encode("OfferResponse", bad.record()), "OfferResponse")
    assert (record["channel"], record["status"], record["reason"]) == (
        "EMAIL", "FAILED", "smtp:550 5.1.1")
    again = Response.of(message, failed("smtp:550 5.1.1"), 9_000).record()
    assert again["event_id"] == record["event_id"]
    good = Response.of(message, delivered("m-1"), 3_000).record()
    assert good["event_id"] != record["event_id"]
    assert good["provider_message_id"] == "m-1"
