"""The SMS channel against a real SMSC on loopback (smpp34's Server in a child process,
``tests/integration/smsc.py``), its responses written to ``cjo.offers.responses`` on the session's
Apache Kafka and read back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Producer

from cjo import codec
from cjo.adapters.broker import Broker
from cjo.adapters.gateways.sms import SmsChannel, SmsSettings
from cjo.adapters.kafka_admin import create_topics, producer_config, read_all
from cjo.delivery import OfferMessage, Response, Status
from cjo.delivery.sms_text import decode_part
from cjo.settings import load
from cjo.state import Position, SubscriberState, apply_record
from tests.integration.smsc_process import SmscProcess

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

LONG_POLISH = "Witamy w Polsce! Zostań w kontakcie z pakietem Travel Pass: 1 GB na 7 dni. " * 2


@pytest.fixture
def smsc() -> Iterator[SmscProcess]:
    process = SmscProcess()
    try:
        yield process
    finally:
        process.stop()


class KafkaInbound:
    """Inbound responses produced to the responses topic, returning once acknowledged."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.producer = Producer(producer_config(bootstrap))
        self.topic = topic

    async def __call__(self, response: Response) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        loop = asyncio.get_running_loop()

        def acked(err: Any, _msg: Any) -> None:
            loop.call_soon_threadsafe(
                done.set_exception if err else done.set_result, err and RuntimeError(str(err)))

        self.producer.produce(self.topic, key=response.imsi.encode(),
                              value=codec.encode("OfferResponse", response.record()),
                              on_delivery=acked)
        while not done.done():
            self.producer.poll(0)
            await asyncio.sleep(0.005)
        await done


def offer(n: int, destination: str, text: str = "Welcome to France! 1 GB for 7 days: €5.") -> (
        OfferMessage):
    return OfferMessage(
        offer_id=f"offer-{n}", imsi=f"23415{n:010d}", channel="sms", destination=destination,
        text=text, language="en", offer_code="TRAVEL", trigger_id="roaming_welcome",
        valid_until=int(time.time() * 1000) + 3_600_000, published_at=0)


def test_sms_reaches_the_smsc_and_what_comes_back_is_on_the_responses_topic(
        broker: Broker, unique_prefix: str, smsc: SmscProcess) -> None:
    settings = load(broker=broker.bootstrap, topic_prefix=unique_prefix)
    topic = settings.topics["responses"]
    create_topics(broker.bootstrap, [topic], 1)
    offers = {
        "delivered": offer(1, "+447700900001"),  # TLV receipt, hex ids
        "throttled_once": offer(2, "+447700900009"),
        "refused": offer(3, "+447700900008"),
        "undeliverable": offer(4, "+447700900007"),
        "answers_stop": offer(5, "+447700900006"),
        "receipt_first": offer(6, "+447700900005"),
        "long_ucs2": offer(7, "+447700900004", LONG_POLISH),  # text-only receipts, decimal ids
    }
    channel = SmsChannel(SmsSettings(
        port=smsc.port, submit_id_base="hex", receipt_id_base="dec", window=4, rate_per_s=0,
        reconnect_s=0.2, throttle_backoff_s=0.05, receipt_wait_s=3.0))

    async def run() -> dict[str, Any]:
        await channel.open(KafkaInbound(broker.bootstrap, topic))
        try:
            results = await asyncio.gather(*(channel.send(o) for o in offers.values()))
            await asyncio.to_thread(smsc.wait_for, lambda e: e["event"] in ("receipt", "mo"), 8,
                                    60)
            return dict(zip(offers, results, strict=True))
        finally:
            await channel.close()

    outcomes = asyncio.run(run())
    assert {k: v.status for k, v in outcomes.items()} == {
        "delivered": Status.SENT, "throttled_once": Status.SENT, "refused": Status.FAILED,
        "undeliverable": Status.SENT, "answers_stop": Status.SENT, "receipt_first": Status.SENT,
        "long_ucs2": Status.SENT}
    assert outcomes["refused"].reason == "smpp:0x0000000b"

    # what the SMSC received: GSM-7 in one part; UCS-2 in concatenated parts with one UDH ref;
    # the throttled submit resubmitted once; a receipt asked for
    [gsm] = smsc.where("submit_sm", destination="447700900001")
    assert (gsm["data_coding"], gsm["esm_class"], gsm["registered_delivery"]) == (0, 0, 1)
    assert decode_part(bytes.fromhex(gsm["short_message"]), 0, 0)[0] == offers["delivered"].text
    parts = smsc.where("submit_sm", destination="447700900004")
    assert len(parts) == 3 and {(p["data_coding"], p["esm_class"]) for p in parts} == {(8, 0x40)}
    decoded = [decode_part(bytes.fromhex(p["short_message"]), 8, 0x40) for p in parts]
    assert {udh[:4] for _, udh in decoded} == {decoded[0][1][:4]}  # one reference
    assert sorted((udh[4], udh[5]) for _, udh in decoded) == [(3, 1), (3, 2), (3, 3)]
    by_seq = sorted(decoded, key=lambda d: d[1][5])
    assert "".join(text for text, _ in by_seq) == LONG_POLISH
    assert [s["answer"] for s in smsc.where("submit_sm", destination="447700900009")] == [
        "throttled", "accepted"]
    # every receipt and the MO was acknowledged ESME_ROK at once (the receipt sent before its
    # submit_sm_resp waited for it instead of being refused)
    assert {(e["attempt"], e["resp_status"]) for e in smsc.where("receipt")} == {(0, 0)}

    responses = [codec.decode(r.value, expected="OfferResponse")[1]
                 for r in read_all(broker.bootstrap, [topic])]
    got = {(r["offer_id"], r["status"], r["reason"]) for r in responses}
    assert got == {
        ("offer-1", "DELIVERED", None), ("offer-2", "DELIVERED", None),
        ("offer-4", "FAILED", "stat:UNDELIV err:001"),
        ("offer-5", "OPTED_OUT", "sms_keyword:STOP"), ("offer-6", "DELIVERED", None),
        ("offer-7", "DELIVERED", None)}
    assert all(r["channel"] == "SMS" for r in responses)

    # the STOP withdraws the subscriber's SMS consent
    stop = next(r for r in responses if r["status"] == "OPTED_OUT")
    state = SubscriberState(imsi=stop["imsi"], consent={"sms": True, "email": True,
                                                        "push": False, "location": False})
    after = apply_record(state, "responses", stop, Position(topic, 0))
    assert after is not None and after.consent["sms"] is False and after.consent["email"]
