"""The SMS channel's session against the scripted SMSC (sim/smsc_server.py, smpp34's Server in a
child process): enquire_link keeps it, a lost SMSC is bound again, and a submit whose response
is lost with the session is UNKNOWN (never resent)."""

from __future__ import annotations

import asyncio
import time

from cjo.adapters.gateways.sms import SmsChannel, SmsSettings, _partial
from cjo.delivery import OfferMessage, Response, Retry, Status, failed, unknown
from sim.smsc import SmscProcess


async def _no_inbound(_response: Response) -> None:
    return None


def _message(n: int) -> OfferMessage:
    return OfferMessage(f"o-{n}", f"23415{n:010d}", "sms", f"+44770090{n:04d}", f"Offer {n}",
                        "en", "C", "t", int(time.time() * 1000) + 3_600_000, 0)


async def _until(test: object, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_enquire_link_keeps_the_session_and_a_lost_smsc_is_bound_again() -> None:
    first = SmscProcess("--plain")
    channel = SmsChannel(SmsSettings(port=first.port, enquire_link_s=0.1, reconnect_s=0.2,
                                     response_timeout_s=5, bind_wait_s=0.3))

    async def run() -> tuple[object, object]:
        await channel.open(_no_inbound)
        try:
            await _until(lambda: channel.enquire_links >= 3)
            assert channel.binds == 1
            before = await channel.send(_message(1))
            first.stop()  # SIGKILL: the session drops
            await _until(lambda: not channel._bound.is_set())
            down = await channel.send(_message(2))  # nothing bound within bind_wait_s
            second = SmscProcess("--plain", port=first.port)
            try:
                await _until(lambda: channel.binds == 2)
                after = await channel.send(_message(3))
                await _until(lambda: second.where("submit_sm"))  # its line may come after
                assert [e["destination"] for e in second.where("submit_sm")] == ["447700900003"]
            finally:
                second.stop()
            return before, (down, after)
        finally:
            await channel.close()

    before, (down, after) = asyncio.run(run())
    assert getattr(before, "status", None) is Status.SENT
    assert isinstance(down, Retry) and down.reason.startswith("network")
    assert getattr(after, "status", None) is Status.SENT


def test_a_submit_whose_response_is_lost_with_the_session_is_unknown_not_resent() -> None:
    smsc = SmscProcess("--plain", "--delay-ms", "3000")  # answers late
    channel = SmsChannel(SmsSettings(port=smsc.port, reconnect_s=0.2))

    async def run() -> object:
        await channel.open(_no_inbound)
        try:
            pending = asyncio.create_task(channel.send(_message(4)))
            await _until(lambda: smsc.where("submit_received") or smsc.proc.poll() is not None)
            smsc.stop()
            return await pending
        finally:
            await channel.close()

    outcome = asyncio.run(run())
    assert getattr(outcome, "status", None) is Status.UNKNOWN, outcome
    assert "session_lost" in getattr(outcome, "reason", "")


def test_a_part_refused_after_others_were_accepted_is_never_a_retry() -> None:
    # nothing accepted yet: the part's answer is the offer's
    assert isinstance(_partial(Retry("smpp:0x00000058"), [], 3), Retry)
    assert _partial(failed("smpp:0x0000000b"), [], 3) == failed("smpp:0x0000000b")
    # a part already with the SMSC: a retry would send it twice, so it is UNKNOWN
    doubt = _partial(Retry("smpp:0x00000058"), ["A1"], 3)
    assert getattr(doubt, "status", None) is Status.UNKNOWN
    assert getattr(doubt, "reason", "") == "smpp:0x00000058 after part 1/3 (A1)"
    lost = _partial(unknown("smpp:session_lost"), ["A1", "A2"], 3)
    assert getattr(lost, "status", None) is Status.UNKNOWN
    refused = _partial(failed("smpp:0x0000000b"), ["A1"], 2)
    assert (refused, getattr(refused, "provider_message_id", None)) == (
        failed("smpp:0x0000000b after part 1/2 (A1)", "A1"), "A1")
