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


def test_tokens_name_offer_and_subscriber_fit_an_address_and_refuse_forgeries() -> None:
    from cjo.delivery.tokens import seal, unseal

    offer = "6f1c3a52-5d1e-4c1f-9a3e-0c6a7e3b2d10"
    for imsi in ("208150000000001", "00101", "001010123456789"):
        token = seal(offer, imsi, b"k")
        assert unseal(token, b"k") == (offer, imsi)
        assert imsi not in token
        assert len(f"bounce+{token}") <= 64
    token = seal(offer, "208150000000001", b"k")
    assert unseal(token, b"other key") is None
    assert unseal(token[:-1] + ("a" if token[-1] != "a" else "b"), b"k") is None
    assert unseal("nonsense", b"k") is None


def test_webhook_signatures_verify_with_the_standardwebhooks_package() -> None:
    import base64

    from standardwebhooks.webhooks import Webhook

    from cjo.delivery.webhooks import headers, secret_key

    secret = "whsec_" + base64.b64encode(b"s" * 32).decode()
    body = b'{"a": 1}'
    import time

    now = int(time.time())
    Webhook(secret).verify(body, headers(secret_key(secret), "offer-1", now, body))
    with pytest.raises(ValueError, match="whsec_"):
        secret_key("plain")
    with pytest.raises(ValueError, match="24 to 64"):
        secret_key("whsec_" + base64.b64encode(b"short").decode())


DSN = b"""From: MAILER-DAEMON@relay.example
To: bounce+TOKEN@op.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example
Original-Envelope-Id: ENVTOKEN

Final-Recipient: rfc822; gone@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>:
    Recipient address rejected: User unknown

Final-Recipient: rfc822; slow@example.org
Action: delayed
Status: 4.4.1
--B--
"""


def test_a_dsn_gives_its_permanent_failures_only() -> None:
    from cjo.delivery.bounces import permanent_failures

    [failure] = permanent_failures(DSN)
    assert (failure.recipient, failure.status, failure.envelope_id) == (
        "gone@example.org", "5.1.1", "ENVTOKEN")
    assert "User unknown" in failure.diagnostic
    assert permanent_failures(DSN.replace(b"Status: 5.1.1", b"Status: 4.2.2")) == []
    assert permanent_failures(b"Subject: hello\n\njust a reply\n") == []


def test_an_offer_mail_in_the_subscribers_language_with_one_click_unsubscribe() -> None:
    from email import message_from_bytes, policy

    from cjo.delivery.mail import Sender, compose

    message = OfferMessage.from_offer({**OFFER, "message": "Voyage serein. 5 Go <offerts>."})
    sender = Sender("offers@op.example", "Op", unsubscribe_url="https://op.example/u/{token}")
    mail = message_from_bytes(compose(message, sender, "tok"), policy=policy.default)
    assert mail["Message-ID"] == "<o-1@op.example>"
    assert mail["Subject"] == "Voyage serein."
    assert mail["Content-Language"] == "pt"
    assert mail["List-Unsubscribe"].strip() == (
        "<https://op.example/u/tok>, <mailto:unsubscribe+tok@op.example>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sender.bounce_address("tok") == "bounce+tok@op.example"
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None
    assert "Voyage serein. 5 Go <offerts>." in text.get_content()
    assert "Cancelar subscrição" in text.get_content()
    assert "5 Go &lt;offerts&gt;." in html.get_content()
    assert 'lang="pt"' in html.get_content()


def test_offsets_commit_behind_the_oldest_offer_not_finished() -> None:
    from cjo.delivery.offsets import OffsetTracker

    tracker = OffsetTracker()
    assert tracker.committable() is None
    for offset in (3, 4, 7):  # gaps: compacted away, or transaction markers
        tracker.start(offset)
    tracker.finish(7)
    tracker.finish(4)
    assert tracker.committable() == 3 and tracker.busy()
    tracker.finish(3)
    assert tracker.committable() == 8 and not tracker.busy()
    tracker.start(4)  # read again after a seek back: already done
    assert tracker.committable() == 8


def test_an_offer_mail_with_non_ascii_subject_and_sender_name_reads_back() -> None:
    from email import message_from_bytes, policy

    from cjo.delivery.mail import Sender, compose

    text = "Ihre Testphase für cloud_200gb endet bald. Behalten Sie sie mit 20 % Rabatt."
    message = OfferMessage.from_offer({**OFFER, "message": text, "language": "de"})
    raw = compose(message, Sender("offers@op.example", "Opérateur"), "tok")
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\r\n"))
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == "Ihre Testphase für cloud_200gb endet bald."
    assert mail["From"].addresses[0].display_name == "Opérateur"
    body = mail.get_body(("plain",))
    assert body is not None and text in body.get_content() and "Abmelden" in body.get_content()
