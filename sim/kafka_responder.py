"""`cjo respond`: a simulated population answering the offers the engine published.

It reads every offer on the channel topics, looks up each subscriber's segment in the profiles
topic, draws an answer from hidden propensities (``sim.responder``: one offer is much better
for one segment) and produces ``OfferResponse`` records (ACCEPTED or DECLINED; no answer at all
is an implicit negative when the response window closes), ``delay_ms`` of event time after the
offer's moment. The closed-loop learning test drives it; run it beside a worker and a replay to
watch the bandit learn.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field

from confluent_kafka import Producer

from cjo import codec
from cjo.adapters.kafka_admin import producer_config, read_all
from cjo.errors import BrokerError
from cjo.settings import Settings
from sim.responder import DEFAULT_HIDDEN, HiddenPropensities


@dataclass
class Responder:
    settings: Settings
    seed: int = 7
    delay_ms: int = 10 * 60_000
    hidden: HiddenPropensities = DEFAULT_HIDDEN
    buys: bool = True  # an ACCEPTED offer is also bought: a charging record shows the bundle
    answered: set[str] = field(default_factory=set)  # offer ids already answered
    counts: dict[str, int] = field(default_factory=dict)

    def answer_new_offers(self) -> int:
        """Answer every offer not answered yet; returns how many were answered."""
        topics = self.settings.topics
        segments = {}
        for record in read_all(self.settings.broker, [topics["subscribers"]]):
            if record.value:
                profile = codec.decode(record.value, "SubscriberProfile")[1]
                segments[profile["imsi"]] = profile.get("segment")
        producer = Producer(producer_config(self.settings.broker))
        errors: list[str] = []
        new = 0
        for record in read_all(self.settings.broker, list(topics.offers().values())):
            offer = codec.decode(record.value or b"", "Offer")[1]
            if offer["offer_id"] in self.answered:
                continue
            self.answered.add(offer["offer_id"])
            new += 1
            rng = random.Random(hashlib.sha256(f"{self.seed}|{offer['offer_id']}".encode())
                                .digest())
            segment = segments.get(offer["imsi"])
            answer = self.hidden.respond(offer["offer_code"], {f"seg={segment}": 1.0}, rng)
            self.counts[answer or "NONE"] = self.counts.get(answer or "NONE", 0) + 1
            if answer is None:
                continue
            at = int(offer["trigger_time"]) + self.delay_ms
            value = codec.encode("OfferResponse", {
                "event_id": f"r-{offer['offer_id']}", "event_time": at,
                "offer_id": offer["offer_id"], "imsi": offer["imsi"],
                "channel": offer["channel"], "status": answer})
            producer.produce(topics["responses"], key=offer["imsi"].encode(), value=value,
                             on_delivery=lambda err, _m: errors.append(str(err)) if err else None)
            if answer == "ACCEPTED" and self.buys:
                producer.produce(topics["charging"], key=offer["imsi"].encode(),
                                 value=purchase(offer["imsi"], offer["offer_code"], at + 60_000),
                                 on_delivery=lambda err, _m: errors.append(str(err))
                                 if err else None)
        if producer.flush(30) or errors:
            raise BrokerError(f"responses not delivered: {errors or 'timed out'}")
        return new


def purchase(imsi: str, bundle_id: str, at: int) -> bytes:
    """A charging record showing ``bundle_id`` bought (what the offer's conversion matches),
    seen on the home network (the simulation does not know where she is)."""
    return codec.encode("ChargingEvent", {
        "event_id": f"buy-{imsi}-{at}", "event_time": at, "imsi": imsi,
        "session_id": f"buy-{imsi}", "request_type": "EVENT", "home_plmn": imsi[:5],
        "serving_plmn": imsi[:5], "bundle_id": bundle_id, "bundle_total_octets": 1_000_000_000,
        "bundle_remaining_octets": 1_000_000_000})


def progress_line(new: int, counts: dict[str, int]) -> str:
    """``answered 12 new offers; so far 30 accepted, 50 declined, 20 without an answer``."""
    names = {"ACCEPTED": "accepted", "DECLINED": "declined", "NONE": "without an answer"}
    so_far = ", ".join(f"{counts.get(key, 0)} {name}" for key, name in names.items())
    return f"answered {new} new offers; so far {so_far}"


def run_responder(settings: Settings, seed: int, every_s: float, once: bool) -> int:
    responder = Responder(settings, seed)
    while True:
        new = responder.answer_new_offers()
        print(progress_line(new, responder.counts), flush=True)
        if once:
            return 0
        time.sleep(every_s)
