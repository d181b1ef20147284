"""`cjo gateway sms` on the session's Apache Kafka against a real SMSC on loopback (smpp34's
Server in a child process, ``sim/smsc_server.py``): what the SMSC receives, and the
responses on ``cjo.offers.responses``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cjo.adapters.broker import Broker
from cjo.adapters.gateways.sms import SmsChannel, SmsSettings
from cjo.adapters.gateways.sms_shared import SharedCorrelation
from cjo.delivery import OfferMessage, Response, Status
from cjo.delivery.sms_text import decode_part
from cjo.settings import Settings
from cjo.state import Position, SubscriberState, apply_record
from sim.smsc import SmscProcess
from tests.integration.test_gateways import Run, offer

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

LONG_POLISH = "Witamy w Polsce! Zostań w kontakcie z pakietem Travel Pass: 1 GB na 7 dni. " * 2


@pytest.fixture
def smsc() -> Iterator[SmscProcess]:
    process = SmscProcess()
    try:
        yield process
    finally:
        process.stop()


def test_sms_reaches_the_smsc_and_what_comes_back_is_on_the_responses_topic(
        broker: Broker, unique_prefix: str, smsc: SmscProcess, tmp_path: Path) -> None:
    run = Run(broker, unique_prefix, "sms", tmp_path, {
        "CJO_SMS_PORT": str(smsc.port), "CJO_SMS_SUBMIT_ID_BASE": "hex",
        "CJO_SMS_RECEIPT_ID_BASE": "dec", "CJO_SMS_WINDOW": "4", "CJO_SMS_RATE_PER_S": "0",
        "CJO_SMS_THROTTLE_BACKOFF_S": "0.05", "CJO_SMS_RECEIPT_WAIT_S": "3"})
    texts = {7: LONG_POLISH}
    offers = {name: {**offer("sms", f"+4477009000{last}", n),
                     "message": texts.get(n, "Welcome to France! 1 GB for 7 days: €5.")}
              for n, (name, last) in enumerate([
                  ("delivered", "01"),  # TLV receipt, hex ids
                  ("throttled_once", "09"),
                  ("refused", "08"),
                  ("undeliverable", "07"),
                  ("answers_stop", "06"),
                  ("receipt_first", "05"),
                  ("long_ucs2", "04")], start=1)}  # text-only receipts, decimal ids
    ids = {name: o["offer_id"] for name, o in offers.items()}
    run.produce(offers.values())
    run.start()
    try:
        found = run.wait_responses(13)
        smsc.wait_for(lambda e: e["event"] in ("receipt", "mo"), 8, timeout_s=30)
    finally:
        run.stop()

    # what the SMSC received: GSM-7 in one part; UCS-2 in concatenated parts with one UDH ref;
    # the throttled submit resubmitted once; a receipt asked for
    [gsm] = smsc.where("submit_sm", destination="447700900001")
    assert (gsm["data_coding"], gsm["esm_class"], gsm["registered_delivery"]) == (0, 0, 1)
    assert decode_part(bytes.fromhex(gsm["short_message"]), 0, 0)[0] == offers["delivered"][
        "message"]
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

    got = {(r["offer_id"], r["status"], r["reason"]) for r in found}
    assert got == {
        (ids["delivered"], "SENT", None), (ids["delivered"], "DELIVERED", None),
        (ids["throttled_once"], "SENT", None), (ids["throttled_once"], "DELIVERED", None),
        (ids["refused"], "FAILED", "smpp:0x0000000b"),
        (ids["undeliverable"], "SENT", None),
        (ids["undeliverable"], "FAILED", "stat:UNDELIV err:001"),
        (ids["answers_stop"], "SENT", None),
        (ids["answers_stop"], "OPTED_OUT", "sms_keyword:STOP"),
        (ids["receipt_first"], "SENT", None), (ids["receipt_first"], "DELIVERED", None),
        (ids["long_ucs2"], "SENT", None), (ids["long_ucs2"], "DELIVERED", None)}
    assert len(found) == 13 and all(r["channel"] == "SMS" for r in found)
    responses = found

    # the STOP withdraws the subscriber's SMS consent
    stop = next(r for r in responses if r["status"] == "OPTED_OUT")
    state = SubscriberState(imsi=stop["imsi"], consent={"sms": True, "email": True,
                                                        "push": False, "location": False})
    after = apply_record(state, "responses", stop, Position("responses", 0))
    assert after is not None and after.consent["sms"] is False and after.consent["email"]


def test_a_receipt_and_a_stop_reaching_another_instance_find_their_offer(
        broker: Broker, unique_prefix: str) -> None:
    """Two gateway instances bound to one SMSC that sends each receipt and MO to the instance
    that did not submit: the shared correlation topic tells the other one the offer."""
    settings = Settings(broker=broker.bootstrap, topic_prefix=unique_prefix, partitions=2)
    got: dict[str, list[Response]] = {"a": [], "b": []}

    def inbound(name: str) -> object:
        class Collect:
            async def __call__(self, response: Response) -> None:
                got[name].append(response)
        return Collect()

    with SmscProcess("--cross") as smsc:
        sms = SmsSettings(port=smsc.port, reconnect_s=0.2, receipt_wait_s=5.0)
        a = SmsChannel(sms, SharedCorrelation(settings, 1.0))
        b = SmsChannel(sms, SharedCorrelation(settings, 1.0))
        valid = int(time.time() * 1000) + 3_600_000
        offers = [OfferMessage(f"x-{n}", f"23415{n:010d}", "sms", f"+4477009100{n}{last}",
                               "Hello", "en", "C", "t", valid, 0)
                  for n, last in ((1, "1"), (2, "1"), (3, "6"))]

        async def run() -> list[object]:
            await a.open(inbound("a"))  # type: ignore[arg-type]
            await b.open(inbound("b"))  # type: ignore[arg-type]
            try:
                while not (a.binds and b.binds):
                    await asyncio.sleep(0.05)
                results = [await a.send(o) for o in offers]
                deadline = time.monotonic() + 30
                while len(got["b"]) < 3 and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                return results
            finally:
                await a.close()
                await b.close()

        results = asyncio.run(run())
    assert [getattr(r, "status", None) for r in results] == [Status.SENT] * 3
    assert got["a"] == []
    assert sorted((r.offer_id, r.status, r.imsi) for r in got["b"]) == [
        ("x-1", "DELIVERED", "234150000000001"), ("x-2", "DELIVERED", "234150000000002"),
        ("x-3", "OPTED_OUT", "234150000000003")]
