"""Rows ``receipt_p50``/``receipt_p99``: the whole chain, from the production of the triggering
event to the DELIVERED response on ``cjo.offers.responses``.

A cjo worker of its own (inputs under the prefix ``benchrcpt``) catches up on every profile, as
the latency stage's does (:mod:`bench.live`); then ``cjo gateway sms`` against the loopback SMSC
issuing a delivery receipt for every submit (``sim/smsc_server.py --demo``: 50 ms after the
submit_sm_resp) and ``cjo gateway push`` against the loopback push service (``sim/endpoints.py``)
join their groups on the worker's offer topics, and the events are produced at the latency
stage's pace, each stamped with its production wall time. Meanwhile each gateway is brought to
half the issue's per-process target rate (``LOAD``: sms 250 offers/s, push 500) by offers
written straight to its topic besides the worker's; only the worker's offers are measured.

For every DELIVERED response, the delay is the response record's timestamp (its production by
the gateway) less the production time of the offer's triggering record; the offer's own
``published_at`` less the same gives the baseline of the same run (production to offer, as
row 5), so the gateways' share is the difference. The gateways run with
``CJO_TIME_MODE=replay`` as the worker does: the event set's offers are valid in January's
event time, which a live gateway would call expired; and they write their responses to a topic
the worker does not read (``benchrcpt-rcpt.responses``), whose wall-time event times would mix
into the worker's replay of January.
"""

from __future__ import annotations

import base64
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Producer

from bench.brokers import open_broker
from bench.children import cjo_worker, time_commits
from bench.events import EventSet, generate
from bench.gateways import encoded_offers
from bench.produce import produce_all, produce_paced
from bench.stages import Broker, input_ends, stage_env
from cjo import codec
from cjo.adapters.kafka_admin import (
    committed_offsets,
    create_topics,
    end_offsets,
    producer_config,
    read_all,
)
from cjo.adapters.worker_process import WorkerProcess
from cjo.errors import CjoError
from cjo.summary import percentile
from sim.endpoints import PushEndpoint
from sim.smsc import SmscProcess

PREFIX, STAGE = "benchrcpt", "rcpt"
CHANNELS = ("sms", "push")  # the channels whose endpoint answers with a delivery
SECRET = "whsec_" + base64.b64encode(b"bench-receipt-secret-000000").decode()
DRAIN_S = 30.0  # after the gateways committed every offer: receipts still on their way
# offers/s each gateway carries while the events are paced: half the per-process
# targets (sms 500/s, push 1,000/s); the worker's offers are part of it, offers written straight
# to the offer topics the rest (their responses are not measured: no triggering record)
LOAD = {"sms": 250.0, "push": 500.0}
WORKER_SHARE = 0.04  # offers per event the worker publishes on each of sms and push (about)


@dataclass
class Receipts:
    rate: float  # events/s produced
    events: int
    seconds: float
    offers: Counter[str] = field(default_factory=Counter)  # per channel, the worker's
    series: list[tuple[int, int]] = field(default_factory=list)  # (produced at, delay) ms
    filler: Counter[str] = field(default_factory=Counter)  # per channel, written to the topics
    to_receipt: dict[str, list[int]] = field(default_factory=dict)  # channel -> ms, sorted
    to_offer: list[int] = field(default_factory=list)  # the same offers, production to offer
    statuses: Counter[str] = field(default_factory=Counter)  # final responses, by status

    @property
    def all_receipts(self) -> list[int]:
        return sorted(d for delays in self.to_receipt.values() for d in delays)

    def p(self, q: float, channel: str | None = None) -> float | None:
        values = self.all_receipts if channel is None else self.to_receipt.get(channel, [])
        return float(percentile(values, q)) if values else None

    def thirds(self) -> list[float]:
        """p50 of the delay to receipt in each third of the production time: steady or
        growing (a gateway falling behind)?"""
        if not self.series:
            return []
        first, last = min(a for a, _ in self.series), max(a for a, _ in self.series) + 1
        step = (last - first) / 3
        return [float(percentile(sorted(d for a, d in self.series
                                        if first + n * step <= a < first + (n + 1) * step)
                                 or [0], 50)) for n in range(3)]

    def p_offer(self, q: float) -> float | None:
        return float(percentile(self.to_offer, q)) if self.to_offer else None


def _gateways(env: dict[str, str], tmp: Path, smsc: SmscProcess,
              push: PushEndpoint) -> dict[str, WorkerProcess]:
    own = {"sms": {"CJO_SMS_PORT": str(smsc.port), "CJO_SMS_RATE_PER_S": "0",
                   "CJO_SMS_RECEIPT_WAIT_S": "10"},
           "push": {"CJO_PUSH_URL": push.url, "CJO_PUSH_SECRET": SECRET}}
    return {c: WorkerProcess({**env, "CJO_LOG_LEVEL": "INFO", **own[c]}, tmp / f"gw-{c}.log",
                             ("-m", "cjo", "gateway", c)).start() for c in CHANNELS}


def _until_assigned(gateways: dict[str, WorkerProcess], tmp: Path, budget_s: float) -> None:
    """Until each gateway logged its partitions assigned (offers produced before would wait
    out the group join, which is not the chain's delay)."""
    deadline = time.monotonic() + budget_s
    for channel, process in gateways.items():
        log = tmp / f"gw-{channel}.log"
        while "partitions assigned" not in (log.read_text() if log.exists() else ""):
            if not process.alive or time.monotonic() > deadline:
                raise CjoError(f"the {channel} gateway did not join: {process.log_tail(5)}")
            time.sleep(0.2)


def _until_sent(bootstrap: str, app_id: str, topics: dict[str, str],
                gateways: dict[str, WorkerProcess], budget_s: float) -> None:
    """Until each gateway committed its offers topic to the end."""
    deadline = time.monotonic() + budget_s
    for channel, topic in topics.items():
        ends = {tp: e for tp, e in end_offsets(bootstrap, [topic]).items() if e > 0}
        group = f"{app_id}-gateway-{channel}"
        while not all(committed_offsets(bootstrap, group, [topic]).get(tp, -1) >= e
                      for tp, e in ends.items()):
            if not gateways[channel].alive or time.monotonic() > deadline:
                raise CjoError(f"the {channel} gateway did not finish: "
                               f"{gateways[channel].log_tail(5)}")
            time.sleep(0.5)


def run_receipts(run: Broker, events: EventSet, rate: float, seconds: float,
                 budget_s: float, load: dict[str, float] | None = None) -> Receipts:
    """``load``: offers/s each channel's gateway carries in all (default ``LOAD``)."""
    load = LOAD if load is None else load
    inputs = run.inputs(PREFIX)
    create_topics(run.bootstrap, inputs.values(), run.partitions)
    produced = produce_all(run.bootstrap, inputs, events.profiles)
    env = stage_env(run, STAGE, run.tmp / STAGE, prefix=PREFIX)
    offer_topics = {c: env[f"CJO_TOPIC_{c.upper()}"] for c in CHANNELS}
    # the gateways' responses on a topic of their own, which the worker does not read: their
    # event times are wall time, the worker's replay is in January's event time
    env["CJO_TOPIC_RESPONSES"] = responses = f"{PREFIX}-{STAGE}.responses"
    create_topics(run.bootstrap, [*offer_topics.values(), responses], run.partitions)
    worker = cjo_worker({k: v for k, v in env.items() if k != "CJO_TOPIC_RESPONSES"},
                        run.tmp / f"{STAGE}.log").start()
    group, marks = env["CJO_APP_ID"], [env["CJO_TOPIC_TICKS"]]
    count = min(len(events.events), max(1_000, int(rate * seconds)))
    try:
        time_commits(run.bootstrap, group, input_ends(produced.ends, inputs, ("subscribers",)),
                     [worker], budget_s, marks=marks)
        with SmscProcess("--demo") as smsc, PushEndpoint(SECRET) as push:
            gateways = _gateways(env, run.tmp, smsc, push)
            try:
                _until_assigned(gateways, run.tmp, 120.0)
                stop = threading.Event()
                filler: Counter[str] = Counter()
                loader = threading.Thread(target=_load, args=(
                    run.bootstrap, offer_topics, load, rate, stop, filler), daemon=True)
                loader.start()
                try:
                    paced = produce_paced(run.bootstrap, inputs, events.events[:count], rate)
                finally:
                    stop.set()
                    loader.join(60)
                ends = input_ends({**produced.ends, **paced.ends}, inputs)
                time_commits(run.bootstrap, group, ends, [worker], budget_s, marks=marks)
                _until_sent(run.bootstrap, group, offer_topics, gateways, budget_s)
                result = _collect(run.bootstrap, responses, offer_topics,
                                  paced.produced_at, time.monotonic() + DRAIN_S)
            finally:
                for process in gateways.values():
                    process.stop(10)
    finally:
        worker.stop()
    result.rate, result.events, result.seconds = rate, count, paced.seconds
    result.filler = filler
    return result


def _load(bootstrap: str, topics: dict[str, str], load: dict[str, float], event_rate: float,
          stop: threading.Event, sent: Counter[str]) -> None:
    """Offers straight to each channel's topic until ``stop``, at the channel's ``load`` less
    what the worker makes of ``event_rate`` events/s (about 4 % of the events give an offer
    on each of these channels: measured, docs/benchmarks.md)."""
    producer = Producer(producer_config(bootstrap))
    rates = {c: max(0.0, r - WORKER_SHARE * event_rate) for c, r in load.items()}
    started = time.monotonic()
    while not stop.is_set():
        elapsed = time.monotonic() - started
        for channel, rate in rates.items():
            due = int(elapsed * rate) - sent[channel]
            for key, value in encoded_offers(channel, due) if due > 0 else ():
                while True:
                    try:
                        producer.produce(topics[channel], value, key)
                        break
                    except BufferError:
                        producer.poll(0.05)
            sent[channel] += max(0, due)
        producer.poll(0.02)
    producer.flush(30)


def _collect(bootstrap: str, responses: str, offer_topics: dict[str, str],
             produced_at: dict[str, int], drain_until: float) -> Receipts:
    offers: dict[str, tuple[str, int, int]] = {}  # offer id -> channel, produced, published
    result = Receipts(0.0, 0, 0.0)
    for channel, topic in offer_topics.items():
        for record in read_all(bootstrap, [topic]):
            if record.value is None:
                continue
            offer = codec.decode(record.value)[1]
            at = produced_at.get(offer["trigger_event_id"])
            if at is not None:  # the worker's (not the offers written besides)
                result.offers[channel] += 1
                offers[offer["offer_id"]] = (channel, at, offer["published_at"])
    final = _final_responses(bootstrap, responses, drain_until)
    result.statuses = Counter(status for status, _ in final.values())
    for offer_id, (status, at_ms) in final.items():
        if status != "DELIVERED" or offer_id not in offers:
            continue
        channel, produced, published = offers[offer_id]
        result.to_receipt.setdefault(channel, []).append(at_ms - produced)
        result.series.append((produced, at_ms - produced))
        result.to_offer.append(published - produced)
    for delays in result.to_receipt.values():
        delays.sort()
    result.to_offer.sort()
    return result


def _final_responses(bootstrap: str, responses: str,
                     drain_until: float) -> dict[str, tuple[str, int]]:
    """Offer id -> its first response after SENT (status, record timestamp), once every offer
    reported SENT has one (its receipt) or at ``drain_until``."""
    while True:
        sent: set[str] = set()
        final: dict[str, tuple[str, int]] = {}
        for record in read_all(bootstrap, [responses]):
            if record.value is None:
                continue
            response = codec.decode(record.value, "OfferResponse")[1]
            if response["status"] == "SENT":
                sent.add(response["offer_id"])
            else:
                final.setdefault(response["offer_id"], (response["status"], record.timestamp_ms))
        if sent <= set(final) or time.monotonic() > drain_until:
            return final
        time.sleep(1.0)


def main() -> None:
    """``python -m bench.receipts [RATE] [SECONDS] [SHARE]``: this stage alone, on Apache
    Kafka, 20,000 subscribers, at RATE events/s (default 400) for SECONDS (default 30), the
    gateways carrying SHARE (default 1) of ``LOAD``."""
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 400.0
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    load = {c: float(sys.argv[3]) * r for c, r in LOAD.items()} if len(sys.argv) > 3 else None
    events = generate(20_000, max(40_000, int(rate * seconds)))
    with tempfile.TemporaryDirectory() as tmp, open_broker(embedded=False) as broker:
        run = Broker(broker.bootstrap, 4, Path(tmp), workarounds=broker.workarounds)
        got = run_receipts(run, events, rate, seconds, 600.0, load)
    print(f"{got.events:,} events at {got.rate:,.0f}/s in {got.seconds:.1f} s; offers from "
          f"the worker {dict(got.offers)}, written besides {dict(got.filler)}; final "
          f"responses {dict(got.statuses)}")
    print(f"production to offer p50/p99: {got.p_offer(50)}/{got.p_offer(99)} ms")
    print(f"event to receipt p50/p99:    {got.p(50)}/{got.p(99)} ms")
    print("p50 to receipt by thirds of the run: " + ", ".join(f"{x:,.0f}" for x in got.thirds()))
    for channel in sorted(got.to_receipt):
        print(f"  {channel}: {len(got.to_receipt[channel]):,} receipts, p50/p99 "
              f"{got.p(50, channel)}/{got.p(99, channel)} ms")


if __name__ == "__main__":
    import os

    os.environ.setdefault("CJO_DEVELOPMENT", "true")  # as python -m bench: public default keys
    main()
