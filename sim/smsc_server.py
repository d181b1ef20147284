"""A scripted SMSC for the SMS gateway's tests: smpp34's ``Server`` (an independent SMPP 3.4
implementation, Rust) in its own process (the research note saw the interpreter crash at exit
with server and client in one process).

``python -m sim.smsc_server PORT`` prints ``listening`` and then one JSON line per event
on stdout: each ``submit_sm`` received (destination, data_coding, esm_class, short_message hex,
the answer given) and each receipt or MO sent with the ESME's ``deliver_sm_resp`` status.

What it does, by the destination's last digit:
- 9: the first submit_sm to it is answered ESME_RTHROTTLED (0x58), the next accepted;
- 8: refused with ESME_RINVDSTADR (0x0b), permanently;
- 7: accepted, its receipt says ``stat:UNDELIV err:001`` (TLV message_state 5);
- 6: accepted, then the subscriber answers ``Stop`` (an MO deliver_sm);
- 5: its receipt is sent *before* the submit_sm_resp;
- 4: its receipt has no TLVs: the text alone, with the id in decimal;
- any other: accepted, receipt ``stat:DELIVRD`` with TLVs receipted_message_id and
  message_state, and the text.
Message ids are hex in submit_sm_resp and receipted_message_id (``%08X``), decimal in the
receipt's text. A receipt answered ESME_RX_T_APPN is sent again 0.3 s later (at most 5 times).
``--demo``: no throttling or refusals, a DELIVRD receipt for every submit, and one MO STOP (from
the first number ending in 6). ``--no-receipts`` sends nothing back; ``--plain`` also accepts
every submit, ``--delay-ms N`` after N ms (a network's and an SMSC's time; submits overlap);
``--quiet`` prints no events (the benchmark). ``--cross``: receipts and MO go to another bound
session than the one that submitted (as an SMSC may, to another gateway instance).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from typing import Any

import smpp34

RECEIPT = 0x04
TLV_RECEIPTED_MESSAGE_ID, TLV_MESSAGE_STATE = 0x001E, 0x0427
ESME_RTHROTTLED, ESME_RINVDSTADR = 0x58, 0x0B


_OUT = threading.Lock()


def emit(**event: Any) -> None:
    with _OUT:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def _pongs() -> None:
    """Each line on stdin is answered ``pong`` after every event printed before it: a barrier
    for the tests (``SmscProcess.sync``)."""
    for line in sys.stdin:
        emit(event="pong", n=line.strip())


class Smsc:
    def __init__(self, receipts: bool, plain: bool = False, delay_s: float = 0.0,
                 demo: bool = False, quiet: bool = False, cross: bool = False) -> None:
        self.receipts = receipts
        self.cross = cross
        self.quiet = quiet
        self.demo = demo
        self.stopped = False
        self.plain = plain
        self.delay_s = delay_s
        self.sessions: dict[str, Any] = {}
        self.next_id = 0xA0
        self.throttled: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def deliver(self, esme: Any, kind: str, **pdu: Any) -> None:
        for attempt in range(6):
            resp = await esme.deliver_sm(**pdu)
            emit(event=kind, attempt=attempt, resp_status=resp.command_status,
                 text=pdu["short_message"].decode("latin-1"), session=esme.session_id)
            if resp.command_status != 0x64:
                return
            await asyncio.sleep(0.3)

    async def receipt(self, esme: Any, dest: str, number: int, delay: float,
                      last: str = "") -> None:
        await asyncio.sleep(delay)
        last = last or dest[-1]
        stat, state, err = ("UNDELIV", 5, "001") if last == "7" else ("DELIVRD", 2, "000")
        text = (f"id:{number} sub:001 dlvrd:{int(state == 2):03d} submit date:2612080100 "
                f"done date:2612080101 stat:{stat} err:{err} text:")
        tlvs = [] if last == "4" else [
            smpp34.Tlv(TLV_RECEIPTED_MESSAGE_ID, f"{number:08X}".encode() + b"\x00"),
            smpp34.Tlv(TLV_MESSAGE_STATE, bytes((state,)))]
        await self.deliver(esme, "receipt", destination_addr="CJO", source_addr=dest,
                           short_message=text.encode(), esm_class=RECEIPT, tlvs=tlvs)

    async def plain_accept(self, event: Any, dest: str, record: dict[str, Any]) -> None:
        if self.delay_s:
            if not self.quiet:
                emit(event="submit_received", destination=dest)
            await asyncio.sleep(self.delay_s)
        self.next_id += 1
        if not self.quiet:  # printed before the answer: a test that has it can read it
            emit(**record, answer="accepted", message_id=f"{self.next_id:08X}")
        event.accept(f"{self.next_id:08X}")

    def demo_accept(self, event: Any, esme: Any, dest: str, record: dict[str, Any]) -> None:
        self.next_id += 1
        emit(**record, answer="accepted", message_id=f"{self.next_id:08X}")
        event.accept(f"{self.next_id:08X}")
        if esme is not None and dest.endswith("6") and not self.stopped:
            self.stopped = True
            self.spawn(self.deliver(esme, "mo", destination_addr="CJO", source_addr=dest,
                                    short_message=b"STOP", data_coding=0))
        elif esme is not None:
            self.spawn(self.receipt(esme, dest, self.next_id, 0.05, last="0"))

    async def submitted(self, event: Any) -> None:
        dest = event.destination_addr
        esme = self.sessions.get(event.session_id)
        if self.cross:
            esme = next((e for sid, e in self.sessions.items() if sid != event.session_id),
                        esme)
        record = {"event": "submit_sm", "destination": dest, "data_coding": event.data_coding,
                  "esm_class": event.esm_class, "short_message": event.short_message.hex(),
                  "registered_delivery": event.registered_delivery,
                  "session": event.session_id}
        if self.plain:
            await self.plain_accept(event, dest, record)
            return
        if self.demo:
            self.demo_accept(event, esme, dest, record)
            return
        if dest.endswith("9") and dest not in self.throttled:
            self.throttled.add(dest)
            emit(**record, answer="throttled")
            event.reject(ESME_RTHROTTLED)
            return
        if dest.endswith("8"):
            emit(**record, answer="rejected")
            event.reject(ESME_RINVDSTADR)
            return
        self.next_id += 1
        number = self.next_id
        if self.receipts and esme is not None and dest.endswith("5"):
            self.spawn(self.receipt(esme, dest, number, 0.0))  # before the submit_sm_resp
            await asyncio.sleep(0.2)
        emit(**record, answer="accepted", message_id=f"{number:08X}")
        event.accept(f"{number:08X}")
        if not self.receipts or esme is None:
            return
        if dest.endswith("6"):
            self.spawn(self.deliver(esme, "mo", destination_addr="CJO", source_addr=dest,
                                    short_message=b"Stop", data_coding=0))
        elif not dest.endswith("5"):
            self.spawn(self.receipt(esme, dest, number, 0.05))

    async def run(self, port: int) -> None:
        server = smpp34.Server("127.0.0.1", port, system_id="smsc")
        await server.start()
        threading.Thread(target=_pongs, daemon=True).start()
        emit(event="listening", port=port)
        while True:
            item = await server.next()
            if isinstance(item, smpp34.Esme):
                self.sessions[item.session_id] = item
                emit(event="bound", system_id=item.system_id, session=item.session_id)
            elif isinstance(item, smpp34.SubmitSmEvent):
                self.spawn(self.submitted(item))
            elif isinstance(item, smpp34.Unbound):
                self.sessions.pop(item.session_id, None)
                emit(event="unbound", session=item.session_id)


def main() -> None:
    port = int(sys.argv[1])
    plain = "--plain" in sys.argv
    delay = float(sys.argv[sys.argv.index("--delay-ms") + 1]) / 1000 if (
        "--delay-ms" in sys.argv) else 0.0
    receipts = "--no-receipts" not in sys.argv and not plain
    asyncio.run(Smsc(receipts, plain=plain, delay_s=delay, demo="--demo" in sys.argv,
                     quiet="--quiet" in sys.argv, cross="--cross" in sys.argv).run(port))


if __name__ == "__main__":
    main()
