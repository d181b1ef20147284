"""The contract every channel gateway keeps (``cjo.adapters.gateways.Channel``), checked on every
channel against a real server on loopback (no Kafka: the runner is tested in
tests/integration/test_gateways.py).

Per channel: a send to a willing endpoint hands over the offer's text once, under its offer id,
and is SENT or DELIVERED; a temporary refusal is a ``Retry`` (never an exception) and the next
attempt goes through; a permanent refusal is FAILED with a reason; an endpoint that is down is a
``Retry``; close is idempotent. A new channel adds a ``Harness`` to ``HARNESSES``.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import pytest

from cjo.adapters.broker import free_port
from cjo.adapters.gateways import Channel
from cjo.delivery import OfferMessage, Outcome, Response, Retry, Status

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@dataclass
class Harness:
    """A channel wired to a loopback endpoint. ``destinations``: ``ok``, ``once`` (refused
    once, temporarily), ``never`` (refused for good). ``received(offer_id)``: the texts the
    endpoint took under that offer id."""

    channel: Channel
    destinations: dict[str, str]
    received: Callable[[str], list[str]]


def _message(channel: str, destination: str, text: str = "Roam like home: 5 GB for 5 €.") -> (
        OfferMessage):
    return OfferMessage(
        offer_id=str(uuid.uuid4()), imsi="208150000000001", channel=channel,
        destination=destination, text=text, language="fr", offer_code="ROAM5",
        trigger_id="roaming", valid_until=2**41, published_at=1_767_261_600_000)


@contextmanager
def push_harness(down: bool = False) -> Iterator[Harness]:
    from cjo.adapters.gateways.push import PushChannel, PushSettings
    from sim.endpoints import PushEndpoint

    with PushEndpoint(SECRET, script={"u-once": [503], "u-never": [400]}) as endpoint:
        url = f"http://127.0.0.1:{free_port()}/notify" if down else endpoint.url
        channel = PushChannel(PushSettings(url=url, secret=SECRET, timeout_s=5, connections=4))

        def received(offer_id: str) -> list[str]:
            return [str(r.body["data"]["text"]) for r in endpoint.requests
                    if r.webhook_id == offer_id and 200 <= r.status < 300]

        yield Harness(channel, {"ok": "u-ok", "once": "u-once", "never": "u-never"}, received)


@contextmanager
def email_harness(down: bool = False) -> Iterator[Harness]:
    from cjo.adapters.gateways.email import EmailChannel, EmailSettings
    from sim.endpoints import SmtpEndpoint

    script = {"once@example.org": ["451 4.3.0 try later"],
              "never@example.org": ["550 5.1.1 no such user"]}
    with SmtpEndpoint(script=script) as endpoint:
        port = free_port() if down else endpoint.port
        channel = EmailChannel(EmailSettings(port=port, tls="none", timeout_s=5,
                                             connections=2, from_address="offers@op.example"))

        def received(offer_id: str) -> list[str]:
            texts = []
            for mail in endpoint.mails:
                if mail.message["Message-ID"] == f"<{offer_id}@op.example>":
                    part = mail.message.get_body(("plain",))
                    assert part is not None
                    texts.append(part.get_content().splitlines()[0].strip())
            return texts

        yield Harness(channel, {"ok": "ana@example.org", "once": "once@example.org",
                                "never": "never@example.org"}, received)


@contextmanager
def sms_harness(down: bool = False) -> Iterator[Harness]:
    from cjo.adapters.gateways.sms import SmsChannel, SmsSettings, digits
    from cjo.delivery.sms_text import decode_part
    from sim.smsc import SmscProcess

    smsc = SmscProcess("--no-receipts")  # last digit 9: throttled once, 8: refused for good
    try:
        port = free_port() if down else smsc.port
        channel = SmsChannel(SmsSettings(port=port, throttle_retries=0, reconnect_s=0.2,
                                         bind_wait_s=1.0))

        def received(offer_id: str) -> list[str]:
            smsc.sync()
            numbers = {n for n, (_, o) in channel.correlation.by_number.items() if o == offer_id}
            return [decode_part(bytes.fromhex(e["short_message"]), e["data_coding"],
                                e["esm_class"])[0]
                    for e in smsc.where("submit_sm", answer="accepted")
                    if digits(e["destination"]) in numbers]

        yield Harness(channel, {"ok": "+447700900001", "once": "+447700900009",
                                "never": "+447700900008"}, received)
    finally:
        smsc.stop()


HARNESSES: dict[str, Callable[..., AbstractContextManager[Harness]]] = {
    "push": push_harness, "email": email_harness, "sms": sms_harness}


async def _nothing_inbound(response: Response) -> None:
    raise AssertionError(f"no inbound event expected, got {response}")


def _send_all(harness: Harness, messages: list[OfferMessage]) -> list[Outcome | Retry]:
    async def run() -> list[Outcome | Retry]:
        await harness.channel.open(_nothing_inbound)
        try:
            return [await harness.channel.send(m) for m in messages]
        finally:
            await harness.channel.close()
            await harness.channel.close()

    return asyncio.run(run())


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_a_willing_endpoint_takes_the_offer_once_under_its_id(name: str) -> None:
    with HARNESSES[name]() as harness:
        assert isinstance(harness.channel, Channel)
        assert harness.channel.name == name and harness.channel.concurrency >= 1
        message = _message(name, harness.destinations["ok"])
        [outcome] = _send_all(harness, [message])
        assert isinstance(outcome, Outcome), outcome
        assert outcome.status in (Status.SENT, Status.DELIVERED)
        assert harness.received(message.offer_id) == [message.text]


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_a_temporary_refusal_is_a_retry_and_the_next_attempt_goes_through(name: str) -> None:
    with HARNESSES[name]() as harness:
        message = _message(name, harness.destinations["once"])
        first, second = _send_all(harness, [message, message])
        assert isinstance(first, Retry) and first.reason, first
        assert isinstance(second, Outcome) and second.status in (Status.SENT, Status.DELIVERED)
        assert harness.received(message.offer_id) == [message.text]


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_a_permanent_refusal_fails_with_the_endpoints_reason(name: str) -> None:
    with HARNESSES[name]() as harness:
        message = _message(name, harness.destinations["never"])
        ok = _message(name, harness.destinations["ok"])
        refused, after = _send_all(harness, [message, ok])
        assert isinstance(refused, Outcome) and refused.status is Status.FAILED, refused
        assert any(code in refused.reason for code in ("400", "550", "0x0000000b"))
        assert harness.received(message.offer_id) == []
        assert isinstance(after, Outcome) and after.status is not Status.FAILED  # still usable


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_an_endpoint_that_is_down_is_retried_not_raised(name: str) -> None:
    with HARNESSES[name](down=True) as harness:
        [outcome] = _send_all(harness, [_message(name, harness.destinations["ok"])])
        assert isinstance(outcome, Retry) and outcome.reason.startswith("network"), outcome


def test_push_honours_retry_after_and_does_not_retry_a_410() -> None:
    from cjo.adapters.gateways.push import PushChannel, PushSettings
    from sim.endpoints import PushEndpoint

    script = {"u-busy": [429], "u-gone": [410]}
    with PushEndpoint(SECRET, script=script, retry_after="7") as endpoint:
        harness = Harness(PushChannel(PushSettings(url=endpoint.url, secret=SECRET)), {},
                          lambda _: [])
        busy, gone = _send_all(harness, [_message("push", "u-busy"), _message("push", "u-gone")])
    assert busy == Retry("http:429", 7.0)
    assert isinstance(gone, Outcome) and (gone.status, gone.reason) == (Status.FAILED, "http:410")
