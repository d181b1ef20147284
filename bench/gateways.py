"""Gateway rows: offers/s of one ``cjo gateway push|email|sms`` process against loopback endpoints.

Offers are produced to a fresh ``cjo.offers.<channel>`` first; the gateway (a child process)
then claims, sends and records each. The rate is taken between the first and the last
response's event time, so process start-up and the group join are left out. The endpoints
(sim/endpoints.py) run in this process: the push service checks every signature, the SMTP relay
parses every mail.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from pathlib import Path

from confluent_kafka import Producer

from bench.report import Row
from cjo.adapters.kafka_admin import (
    committed_offsets,
    create_topics,
    end_offsets,
    producer_config,
    read_all,
)
from cjo.adapters.worker_process import WorkerProcess
from cjo.codec import decode, encode
from cjo.errors import CjoError
from sim.endpoints import PushEndpoint, SmtpEndpoint
from sim.smsc import SmscProcess

SECRET = "whsec_" + base64.b64encode(b"bench-push-secret-0123456789").decode()
COUNTS = {"push": 20_000, "email": 5_000, "sms": 10_000}  # --quick: a quarter
LABELS = {"push": "gateway push (HTTPS webhook), 1 process", "email":
          "gateway email (SMTP), 1 process", "sms": "gateway sms (SMPP), 1 process"}
SMSC_DELAY_MS = "5"  # the loopback SMSC answers each submit_sm after this (a network's time)


def encoded_offers(channel: str, count: int) -> list[tuple[bytes, bytes]]:
    """``count`` offers for ``channel``, each (key, Avro bytes), valid an hour from now."""
    now = int(time.time() * 1000)
    out = []
    for n in range(count):
        imsi = f"20815{n:010d}"
        destination = {"push": f"u-{n}", "sms": f"+4477009{n:05d}"}.get(
            channel, f"s{n}@example.org")
        record = {"offer_id": str(uuid.uuid4()), "imsi": imsi, "channel": channel.upper(),
                  "destination": destination, "trigger_id": "bench", "offer_code": "B1",
                  "message": f"Bench offer {n}: 1 GB for 1 €.", "trigger_event_id": f"e{n}",
                  "trigger_time": now, "ingested_at": now, "published_at": now,
                  "valid_until": now + 3_600_000, "reason": "bench", "language": "en"}
        out.append((imsi.encode(), encode("Offer", record)))
    return out


def measure(channel: str, bootstrap: str, partitions: int, count: int, tmp: Path,
            budget_s: float) -> Row:
    prefix = f"gw{uuid.uuid4().hex[:8]}"
    topic, responses = f"{prefix}.offers.{channel}", f"{prefix}.offers.responses"
    create_topics(bootstrap, [topic, responses, f"{prefix}.dlq"], partitions)
    producer = Producer(producer_config(bootstrap, linger_ms=20))
    for key, value in encoded_offers(channel, count):
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(60)
    ends = {tp: end for tp, end in end_offsets(bootstrap, [topic]).items() if end > 0}
    env = {"CJO_BROKER": bootstrap, "CJO_TOPIC_PREFIX": prefix, "CJO_APP_ID": prefix,
           "CJO_PARTITIONS": str(partitions), "CJO_LOG_LEVEL": "WARNING"}
    endpoint: PushEndpoint | SmtpEndpoint | SmscProcess
    if channel == "sms":
        endpoint = SmscProcess("--plain", "--quiet", "--delay-ms", SMSC_DELAY_MS)
        env |= {"CJO_SMS_PORT": str(endpoint.port), "CJO_SMS_RATE_PER_S": "0"}
    elif channel == "push":
        endpoint = PushEndpoint(SECRET)
        env |= {"CJO_PUSH_URL": endpoint.url, "CJO_PUSH_SECRET": SECRET}
    else:
        endpoint = SmtpEndpoint(keep=False)
        env |= {"CJO_EMAIL_PORT": str(endpoint.port), "CJO_EMAIL_TLS": "none",
                "CJO_EMAIL_HELO_NAME": "bench.example"}
    with endpoint:
        gateway = WorkerProcess(env, tmp / f"gateway-{channel}.log",
                                ("-m", "cjo", "gateway", channel)).start()
        try:
            _wait(bootstrap, f"{prefix}-gateway-{channel}", topic, ends, gateway, budget_s)
            cpu_s = _cpu_seconds(gateway.pid)
        finally:
            gateway.stop(10)
    times = sorted(decode(r.value, "OfferResponse")[1]["event_time"]
                   for r in read_all(bootstrap, [responses]) if r.value)
    if len(times) < count:
        raise CjoError(f"{len(times)} responses of {count}")
    seconds = max(1e-3, (times[-1] - times[0]) / 1000)
    note = f"{count / cpu_s:,.0f} offers per CPU-second of the gateway" if cpu_s else ""
    return Row(f"gateway_{channel}", LABELS[channel], (count - 1) / seconds, "offers/s",
               count, seconds, note=note)


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (Linux), to read a rate on a busy machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait(bootstrap: str, group: str, topic: str, ends: dict[tuple[str, int], int],
          gateway: WorkerProcess, budget_s: float) -> None:
    deadline = time.monotonic() + budget_s
    while True:
        committed = committed_offsets(bootstrap, group, [topic])
        if all(committed.get(tp, -1) >= end for tp, end in ends.items()):
            return
        if not gateway.alive:
            raise CjoError(f"the gateway stopped: {gateway.log_tail(5)}")
        if time.monotonic() > deadline:
            raise CjoError(f"the gateway did not finish within {budget_s:.0f} s")
        time.sleep(0.5)
