"""SMS channel rows: submit_sm per second from one process against the loopback SMSC (smpp34's
Server in its own process, ``sim/smsc_server.py --plain --delay-ms 5``: it accepts every submit
after 5 ms, as an SMSC across a network would, and sends nothing back), with the default window
of 10 submits in flight and with a window of 1 (one at a time, the naive way); no rate limit.

The channel alone (``cjo.adapters.gateways.sms``): no Kafka, no claim ledger, which the runner
adds per offer whatever the channel. ``python -m bench.sms`` prints the two rows alone.
"""

from __future__ import annotations

import asyncio
import time

from bench.report import Row
from cjo.adapters.gateways.sms import SmsChannel, SmsSettings
from cjo.delivery import OfferMessage, Outcome, Response, Status
from sim.smsc import SmscProcess

OFFERS = 3000
SMSC_DELAY_MS = 5
TEXT = "Welcome to France! Stay connected with our Travel Pass: 1 GB for 7 days."


class _Nothing:
    async def __call__(self, response: Response) -> None:
        return None


async def _submits_per_s(port: int, window: int, offers: int) -> tuple[float, int]:
    channel = SmsChannel(SmsSettings(port=port, window=window, rate_per_s=0, reconnect_s=0.2))
    await channel.open(_Nothing())
    valid = int(time.time() * 1000) + 3_600_000
    messages = [OfferMessage(f"bench-{window}-{n}", f"23415{n:010d}", "sms", f"+4477009{n:05d}",
                             TEXT, "en", "TRAVEL", "roaming_welcome", valid, 0)
                for n in range(offers)]
    try:
        await channel.send(messages[0])  # bound, warm
        started = time.perf_counter()
        results = await asyncio.gather(*(channel.send(m) for m in messages[1:]))
        seconds = time.perf_counter() - started
    finally:
        await channel.close()
    sent = sum(1 for r in results if isinstance(r, Outcome) and r.status is Status.SENT)
    return sent / seconds, sent


def bench_sms(offers: int = OFFERS) -> list[Row]:
    smsc = SmscProcess("--plain", "--quiet", "--delay-ms", str(SMSC_DELAY_MS))
    try:
        rows = []
        for key, window, label in (("sms_window", 10, "SMS channel, 1 process, window 10"),
                                   ("sms_serial", 1, "SMS channel, 1 process, one at a time")):
            started = time.perf_counter()
            rate, sent = asyncio.run(_submits_per_s(smsc.port, window, offers))
            rows.append(Row(key, label, rate, "submits/s", sent,
                            time.perf_counter() - started,
                            note=f"loopback SMSC (smpp34) answering after {SMSC_DELAY_MS} ms, "
                            "no receipts, no Kafka"))
        return rows
    finally:
        smsc.stop()


if __name__ == "__main__":
    for row in bench_sms():
        print(f"{row.label:<45} {row.value:>10,.0f} {row.unit}  ({row.events} in "
              f"{row.seconds:.1f} s; {row.note})")
