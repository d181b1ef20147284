"""SMS over SMPP 3.4: the ``sms`` channel of ``cjo gateway`` (see ``cjo.adapters.gateways``).

One transceiver session to the SMSC (``bind_transceiver``), kept alive with ``enquire_link`` and
bound again after a loss (``CJO_SMS_RECONNECT_S``). An offer's text becomes one ``submit_sm`` per
part (``cjo.delivery.sms_text``: GSM-7 or UCS-2, UDH-concatenated when long), at most
``CJO_SMS_WINDOW`` submits awaiting their response at once and at most ``CJO_SMS_RATE_PER_S``
started per second. A throttling answer (``ESME_RTHROTTLED``, ``ESME_RMSGQFUL``) pauses the
session and resubmits the same part with a doubling backoff; any other error status is FAILED
``smpp:0x...``. A connection lost while a submit awaits its response leaves the offer in doubt:
UNKNOWN, never resent.

What the SMSC sends back (``deliver_sm``), answered only after the response is on
``cjo.offers.responses`` (``inbound`` returned):
- a delivery receipt (``cjo.delivery.sms_inbound``) is matched to its offer by the SMSC's message
  id (``CJO_SMS_SUBMIT_ID_BASE`` / ``CJO_SMS_RECEIPT_ID_BASE``: hex or decimal ids) and becomes
  DELIVERED (every part delivered) or FAILED (``stat:UNDELIV err:...``). A receipt may come before
  its ``submit_sm_resp``: it waits ``CJO_SMS_RECEIPT_WAIT_S`` for it; an id still unknown is
  answered ``ESME_RX_T_APPN``, so that the SMSC delivers it again later (to this session or to
  another instance's);
- a mobile-originated text that is a stop keyword (STOP, ... and ``CJO_SMS_STOP_KEYWORDS``) is an
  OPTED_OUT response, a start keyword (START, UNSTOP, ``CJO_SMS_START_KEYWORDS``) an OPTED_IN, for
  the subscriber last sent an offer from this instance at that number.

The message-id and number maps (``_Correlation``) are shared by the instances through a compacted
topic (``cjo.adapters.gateways.sms_shared``), so a receipt or STOP reaching another instance, or
this one after a restart, finds its offer; one still unknown is answered ``ESME_RX_T_APPN``
(receipts) or acknowledged and logged (MO).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cjo.adapters.gateways.channel import Inbound
from cjo.adapters.gateways.sms_shared import SharedCorrelation
from cjo.delivery import Attempt, OfferMessage, Response, Retry, failed, response_id, sent
from cjo.delivery import smpp_pdu as smpp
from cjo.delivery import unknown as in_doubt
from cjo.delivery.sms_inbound import (
    START_KEYWORDS,
    STOP_KEYWORDS,
    id_key,
    is_receipt,
    keyword,
    parse_receipt,
)
from cjo.delivery.sms_text import Part, decode_part, split
from cjo.settings import load

log = logging.getLogger("cjo.gateway.sms")
IdBase = Literal["text", "hex", "dec"]
_TLV_MESSAGE_PAYLOAD = 0x0424


class SmsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CJO_SMS_", frozen=True, extra="ignore")

    host: str = Field(default="127.0.0.1", description="SMSC host (SMPP 3.4)")
    port: int = Field(default=2775, ge=1, le=65535, description="SMSC port")
    system_id: str = Field(default="cjo", max_length=15, description="bind system_id")
    password: str = Field(default="", max_length=8, description="bind password")
    system_type: str = Field(default="", max_length=12, description="bind system_type")
    source_addr: str = Field(default="CJO", max_length=20, description="sender: an "
                             "alphanumeric name (TON 5) or a short code / number")
    source_ton: int = Field(default=5, ge=0, le=6, description="source_addr_ton: 5 "
                            "alphanumeric, 3 short code, 1 international")
    source_npi: int = Field(default=0, ge=0, le=18, description="source_addr_npi")
    dest_ton: int = Field(default=1, ge=0, le=6, description="dest_addr_ton (1: "
                          "international, E.164 without +)")
    dest_npi: int = Field(default=1, ge=0, le=18, description="dest_addr_npi (1: E.164)")
    window: int = Field(default=10, ge=1, le=1000, description="submit_sm awaiting their "
                        "response at once (the SMSC's window)")
    rate_per_s: float = Field(default=100.0, ge=0, description="submit_sm started per "
                              "second at most (0: no limit); the operator's contracted rate")
    enquire_link_s: float = Field(default=30.0, gt=0, description="enquire_link interval")
    response_timeout_s: float = Field(default=30.0, gt=0, description="wait for a "
                                      "response; past it the session is dropped and bound again")
    reconnect_s: float = Field(default=10.0, gt=0, description="wait before binding again "
                               "after a lost or refused session")
    bind_wait_s: float = Field(default=5.0, ge=0, description="how long a send waits for a "
                               "bound session before the runner retries it later")
    throttle_retries: int = Field(default=6, ge=0, description="resubmits of a part the "
                                  "SMSC throttled (ESME_RTHROTTLED, ESME_RMSGQFUL)")
    throttle_backoff_s: float = Field(default=1.0, gt=0, description="pause after a "
                                      "throttling answer; doubles on each for the same part")
    submit_id_base: IdBase = Field(default="text", description="how the SMSC writes message "
                                   "ids in submit_sm_resp (and receipted_message_id): hex, "
                                   "dec or text")
    receipt_id_base: IdBase = Field(default="text", description="how it writes the id: of "
                                    "a receipt's text: hex, dec or text")
    receipt_wait_s: float = Field(default=2.0, ge=0, description="how long a receipt for an "
                                  "unknown id waits for its submit_sm_resp before "
                                  "ESME_RX_T_APPN")
    stop_keywords: str = Field(default="", description="local opt-out keywords, "
                               "comma-separated, on top of STOP, STOPALL, UNSUBSCRIBE, CANCEL, "
                               "END, QUIT, OPTOUT, REVOKE")
    start_keywords: str = Field(default="", description="local opt-in keywords, "
                                "comma-separated, on top of START, UNSTOP")
    shared_hours: float = Field(default=72.0, gt=0, description="retention of the "
                                "correlation topic the instances share (message id -> offer, "
                                "number -> subscriber): how late a receipt or a STOP may come")
    remembered: int = Field(default=200_000, ge=1000, description="message ids and numbers "
                            "each instance keeps in memory (the newest)")

    def keywords(self, extra: str, defaults: tuple[str, ...]) -> tuple[str, ...]:
        return defaults + tuple(k.strip() for k in extra.split(",") if k.strip())


def now_ms() -> int:
    return int(time.time() * 1000)


def digits(number: str) -> str:
    return "".join(c for c in number if c.isdigit())


@dataclass
class _Sent:
    """An offer whose parts the SMSC accepted: its receipts' bookkeeping."""

    offer_id: str
    imsi: str
    parts: int
    delivered: set[str] = field(default_factory=set)
    reported: bool = False


class _Correlation:
    """SMSC message id -> offer, and number -> the subscriber last sent an offer there."""

    def __init__(self, remembered: int = 200_000) -> None:
        self.remembered = remembered
        self.by_id: OrderedDict[str, _Sent] = OrderedDict()
        self.by_number: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._waiting: dict[str, asyncio.Event] = {}

    def add(self, key: str, sent_: _Sent) -> None:
        self.by_id[key] = sent_
        while len(self.by_id) > self.remembered:
            self.by_id.popitem(last=False)
        event = self._waiting.pop(key, None)
        if event is not None:
            event.set()

    def number(self, number: str, imsi: str, offer_id: str) -> None:
        key = digits(number)
        self.by_number[key] = (imsi, offer_id)
        self.by_number.move_to_end(key)
        while len(self.by_number) > self.remembered:
            self.by_number.popitem(last=False)
        event = self._waiting.pop(f"n:{key}", None)
        if event is not None:
            event.set()

    async def find_number(self, number: str, wait_s: float) -> tuple[str, str] | None:
        """The subscriber last sent an offer at ``number``, waiting up to ``wait_s`` for it."""
        key = digits(number)
        if key not in self.by_number and wait_s > 0:
            await self._wait(f"n:{key}", wait_s)
        return self.by_number.get(key)

    async def _wait(self, key: str, wait_s: float) -> None:
        event = self._waiting.setdefault(key, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), wait_s)
        self._waiting.pop(key, None)

    async def find(self, key: str, wait_s: float) -> _Sent | None:
        """The offer of ``key``, waiting up to ``wait_s`` for its submit_sm_resp."""
        if key not in self.by_id and wait_s > 0:
            await self._wait(key, wait_s)
        return self.by_id.get(key)


class _Lost(ConnectionError):
    """The session is gone (the request may or may not have reached the SMSC)."""


class _NotSent(_Lost):
    """No session to write the request to: it surely did not reach the SMSC."""


class _Session:
    """One bound SMPP session: requests with their responses matched by sequence number."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.pending: dict[int, asyncio.Future[tuple[int, bytes]]] = {}
        self._sequence = itertools.count(1)
        self.closed = asyncio.Event()

    def next_sequence(self) -> int:
        return next(self._sequence) % 0x7FFFFFFF or next(self._sequence)

    async def read_pdu(self) -> tuple[smpp.Header, bytes]:
        head = await self.reader.readexactly(smpp.HEADER.size)
        h = smpp.header(head)
        return h, await self.reader.readexactly(h.length - smpp.HEADER.size)

    def write(self, data: bytes) -> None:
        if self.closed.is_set():
            raise _NotSent("SMPP session closed")
        self.writer.write(data)

    async def request(self, build: bytes, sequence: int, timeout_s: float) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[int, bytes]] = loop.create_future()
        self.pending[sequence] = future
        # a timer, not asyncio.wait_for (a task per submit: a third of the channel's CPU)
        timer = loop.call_later(timeout_s, self._expire, future, timeout_s)
        try:
            self.write(build)
            return await future
        finally:
            timer.cancel()
            self.pending.pop(sequence, None)

    def _expire(self, future: asyncio.Future[tuple[int, bytes]], timeout_s: float) -> None:
        if not future.done():
            future.set_exception(_Lost(f"no response in {timeout_s} s"))
            self.close()

    def answer(self, h: smpp.Header, body: bytes) -> None:
        future = self.pending.get(h.sequence)
        if future is not None and not future.done():
            future.set_result((h.status, body))

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for future in self.pending.values():
            if not future.done():
                future.set_exception(_Lost("SMPP session lost"))
        self.writer.close()


class _Rate:
    """At most ``per_s`` starts a second, evenly spaced (0: no limit)."""

    def __init__(self, per_s: float) -> None:
        self.gap = 1.0 / per_s if per_s > 0 else 0.0
        self.next_at = 0.0

    async def take(self) -> None:
        if not self.gap:
            return
        loop = asyncio.get_running_loop()
        at = max(loop.time(), self.next_at)
        self.next_at = at + self.gap
        if at > loop.time():
            await asyncio.sleep(at - loop.time())


class SmsChannel:
    name = "sms"

    def __init__(self, settings: SmsSettings | None = None,
                 shared: SharedCorrelation | None = None) -> None:
        self.settings = s = settings or SmsSettings()
        self.shared = shared  # None: this process's maps alone (tests, one instance)
        # offers the runner may have in flight: more than the SMPP window, so that the claims
        # being written to the ledger never leave the window idle (the window caps the submits)
        self.concurrency = 4 * s.window
        self.addressing = smpp.Addressing(s.source_addr, s.source_ton, s.source_npi, s.dest_ton,
                                          s.dest_npi)
        self.stop_words = s.keywords(s.stop_keywords, STOP_KEYWORDS)
        self.start_words = s.keywords(s.start_keywords, START_KEYWORDS)
        self.correlation = _Correlation(s.remembered)
        self._window = asyncio.Semaphore(s.window)
        self._rate = _Rate(s.rate_per_s)
        self._paused_until = 0.0
        self._ref = itertools.count()
        self._session: _Session | None = None
        self._bound = asyncio.Event()
        self._inbound: Inbound | None = None
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.binds = 0  # sessions bound so far (a reconnect is one more)
        self.enquire_links = 0  # enquire_link answered by the SMSC

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self, inbound: Inbound) -> None:
        self._inbound = inbound
        if self.shared is not None:
            await asyncio.to_thread(self.shared.start, asyncio.get_running_loop(),
                                    self._shared_entries)
        self._runner = asyncio.create_task(self._keep_bound(), name="smpp-session")

    async def close(self) -> None:
        self._closing = True
        session = self._session
        if session is not None and not session.closed.is_set():
            with contextlib.suppress(_Lost, OSError, TimeoutError):
                seq = session.next_sequence()
                await session.request(smpp.pdu(smpp.UNBIND, seq), seq, 2.0)
            session.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for task in list(self._tasks):
            task.cancel()
        self._bound.clear()
        if self.shared is not None:
            await asyncio.to_thread(self.shared.close)

    def _shared_entries(self, entries: list[tuple[str, dict[str, Any]]]) -> None:
        """Entries of the shared topic (other instances', and this one's own) into the maps."""
        by_id, by_number = self.correlation.by_id, self.correlation.by_number
        for key, entry in entries:
            try:
                offer_id, imsi = str(entry["offer_id"]), str(entry["imsi"])
                record = _Sent(offer_id, imsi, int(entry["parts"]))
                for msg_id in entry["ids"]:
                    if msg_id not in by_id:
                        self.correlation.add(str(msg_id), record)
                number = str(entry["number"])
                if by_number.get(number) != (imsi, offer_id):
                    self.correlation.number(number, imsi, offer_id)
            except (KeyError, TypeError, ValueError):
                log.warning("SMS correlation entry %s not understood: %r", key, entry)

    async def _share(self, message: OfferMessage, keys: list[str], parts: int) -> None:
        """What this send taught, for the other instances (and this one after a restart): one
        record per offer, keyed by its id."""
        if self.shared is None:
            return
        try:
            await self.shared.put(message.offer_id, {
                "offer_id": message.offer_id, "imsi": message.imsi, "parts": parts,
                "ids": keys, "number": digits(message.destination)})
        except Exception as err:  # sent all the same; only another instance's receipt waits
            log.warning("SMS correlation of offer %s not shared: %s", message.offer_id, err)

    async def _keep_bound(self) -> None:
        s = self.settings
        while not self._closing:
            try:
                session = await self._bind()
            except (OSError, smpp.PduError, TimeoutError, asyncio.IncompleteReadError) as err:
                log.warning("SMPP bind to %s:%s failed (%s); again in %s s", s.host, s.port,
                            err, s.reconnect_s)
                await asyncio.sleep(s.reconnect_s)
                continue
            self._session = session
            self.binds += 1
            self._bound.set()
            log.info("SMPP bound as transceiver to %s:%s (system_id %s)", s.host, s.port,
                     s.system_id)
            keeper = asyncio.create_task(self._enquire_links(session))
            try:
                await self._read(session)
            except (OSError, asyncio.IncompleteReadError, smpp.PduError, _Lost) as err:
                if not self._closing:
                    log.warning("SMPP session to %s:%s lost (%s); binding again in %s s",
                                s.host, s.port, err, s.reconnect_s)
            except Exception:  # a bug here must not leave the gateway unbound for good
                log.exception("SMPP session to %s:%s ended by an error; binding again in %s s",
                              s.host, s.port, s.reconnect_s)
            finally:
                self._bound.clear()
                session.close()
                keeper.cancel()
            if not self._closing:
                await asyncio.sleep(s.reconnect_s)

    async def _bind(self) -> _Session:
        s = self.settings
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(s.host, s.port), s.response_timeout_s)
        session = _Session(reader, writer)
        writer.write(smpp.bind_transceiver(1, s.system_id, s.password, s.system_type))
        h, _body = await asyncio.wait_for(session.read_pdu(), s.response_timeout_s)
        if h.command_id != smpp.BIND_TRANSCEIVER | smpp.RESP or h.status != smpp.ESME_ROK:
            session.close()
            raise _Lost(f"bind_transceiver refused: command 0x{h.command_id:08x} status "
                        f"0x{h.status:08x}")
        session.next_sequence()  # 1 was the bind
        return session

    async def _enquire_links(self, session: _Session) -> None:
        s = self.settings
        with contextlib.suppress(_Lost, OSError):
            while not session.closed.is_set():
                await asyncio.sleep(s.enquire_link_s)
                seq = session.next_sequence()
                await session.request(smpp.pdu(smpp.ENQUIRE_LINK, seq), seq,
                                      s.response_timeout_s)
                self.enquire_links += 1

    async def _read(self, session: _Session) -> None:
        while True:
            h, body = await session.read_pdu()
            if h.command_id & smpp.RESP:
                session.answer(h, body)
            elif h.command_id == smpp.DELIVER_SM:
                self._spawn(self._deliver(session, h, body))
            elif h.command_id == smpp.ENQUIRE_LINK:
                session.write(smpp.response(h))
            elif h.command_id == smpp.UNBIND:
                session.write(smpp.response(h))
                raise _Lost("SMSC unbound")
            else:
                session.write(smpp.pdu(smpp.GENERIC_NACK, h.sequence, status=0x03))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- sending -----------------------------------------------------------------------------

    async def send(self, message: OfferMessage) -> Attempt:
        try:
            parts = split(message.text, next(self._ref))
        except ValueError as err:
            return failed(f"sms:{err}")
        if not self._bound.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._bound.wait(), self.settings.bind_wait_s)
        if not self._bound.is_set():
            return Retry("network: no SMPP session bound")
        self.correlation.number(message.destination, message.imsi, message.offer_id)
        record = _Sent(message.offer_id, message.imsi, len(parts))
        ids: list[str] = []
        for part in parts:
            got = await self._submit_part(message, part, record)
            if not isinstance(got, str):
                await self._share(message, [id_key(i, self.settings.submit_id_base)
                                            for i in ids], len(parts))
                return _partial(got, ids, len(parts))
            ids.append(got)
        await self._share(message, [id_key(i, self.settings.submit_id_base) for i in ids],
                          len(parts))
        return sent(" ".join(ids))

    async def _submit_part(self, message: OfferMessage, part: Part,
                           record: _Sent) -> str | Attempt:
        """The SMSC's message id for ``part``, or what ends the offer's attempt."""
        s = self.settings
        pdu = smpp.submit_sm(0, self.addressing, message.destination, part.short_message,
                             part.data_coding, part.esm_class, 1,
                             smpp.absolute_time(message.valid_until))
        throttled = 0
        while True:
            try:
                status, body = await self._submit(pdu)
            except _NotSent:
                return Retry("network: no SMPP session bound")
            except _Lost as err:
                return in_doubt(f"smpp:session_lost_awaiting_submit_sm_resp ({err})")
            if status == smpp.ESME_ROK:
                msg_id = smpp.message_id(body)
                self.correlation.add(id_key(msg_id, s.submit_id_base), record)
                return msg_id
            if status not in smpp.THROTTLED:
                return failed(f"smpp:0x{status:08x}")
            if throttled >= s.throttle_retries:
                return Retry(f"smpp:0x{status:08x}")
            pause = s.throttle_backoff_s * 2 ** throttled
            throttled += 1
            loop = asyncio.get_running_loop()
            self._paused_until = max(self._paused_until, loop.time() + pause)
            log.info("SMSC throttled offer %s (0x%08x): resubmitting in %.1f s",
                     message.offer_id, status, pause)

    async def _submit(self, pdu_without_sequence: bytes) -> tuple[int, bytes]:
        """One submit_sm under the window, the rate and any throttling pause; raises _NotSent
        when there is no session to write it to, _Lost when it was written (in doubt)."""
        async with self._window:
            loop = asyncio.get_running_loop()
            while self._paused_until > loop.time():
                await asyncio.sleep(self._paused_until - loop.time())
            await self._rate.take()
            session = self._session
            if session is None or session.closed.is_set():
                raise _NotSent("not bound")
            seq = session.next_sequence()
            data = pdu_without_sequence[:12] + seq.to_bytes(4, "big") + pdu_without_sequence[16:]
            return await session.request(data, seq, self.settings.response_timeout_s)

    # -- receipts and MO ---------------------------------------------------------------------

    async def _deliver(self, session: _Session, h: smpp.Header, body: bytes) -> None:
        status = smpp.ESME_ROK
        try:
            deliver = smpp.deliver_sm(body)
            status = await self._inbound_event(deliver)
        except smpp.PduError as err:
            log.warning("deliver_sm that does not decode (%s): %s", err, body.hex())
            status = smpp.ESME_RSYSERR
        except Exception:  # the response could not be published: the SMSC sends it again
            log.exception("deliver_sm not recorded; answered ESME_RX_T_APPN")
            status = smpp.ESME_RX_T_APPN
        with contextlib.suppress(_Lost, OSError):
            session.write(smpp.deliver_sm_resp(h.sequence, status))

    async def _inbound_event(self, d: smpp.DeliverSm) -> int:
        """The deliver_sm's response published (if any): the deliver_sm_resp status."""
        assert self._inbound is not None
        payload = d.tlvs.get(_TLV_MESSAGE_PAYLOAD) or d.short_message
        text, _udh = decode_part(payload, d.data_coding, d.esm_class)
        if is_receipt(d.esm_class):
            return await self._receipt(d, text)
        stop, start = keyword(text, self.stop_words), keyword(text, self.start_words)
        if stop is None and start is None:
            return smpp.ESME_ROK  # an ordinary MO text: not ours to act on
        target = await self.correlation.find_number(d.source_addr,
                                                    self.settings.receipt_wait_s)
        if target is None:  # the SMSC delivers it again later (maybe to another instance)
            log.warning("MO %r from %s: no offer known sent to that number; answered "
                        "ESME_RX_T_APPN", text, d.source_addr)
            return smpp.ESME_RX_T_APPN
        imsi, offer_id = target
        status = "OPTED_OUT" if stop else "OPTED_IN"
        at = now_ms()
        reason = f"sms_keyword:{stop or start}"
        await self._inbound(Response(offer_id, imsi, "sms", status, at, reason, None,
                                     response_id(offer_id, status, f"{reason}:{at}")))
        return smpp.ESME_ROK

    async def _receipt(self, d: smpp.DeliverSm, text: str) -> int:
        assert self._inbound is not None
        receipt = parse_receipt(d.tlvs, text)
        if receipt is None:
            log.warning("receipt without a message id: %r", text)
            return smpp.ESME_ROK
        if receipt.status is None:
            return smpp.ESME_ROK  # ENROUTE, ACCEPTD: not final
        s = self.settings
        base = s.submit_id_base if receipt.id_source == "submit" else s.receipt_id_base
        record = await self.correlation.find(id_key(receipt.message_id, base), s.receipt_wait_s)
        if record is None:
            return smpp.ESME_RX_T_APPN  # redelivered later, maybe to the instance that knows
        if receipt.status == "DELIVERED":
            record.delivered.add(id_key(receipt.message_id, base))
            if len(record.delivered) < record.parts:
                return smpp.ESME_ROK  # the other parts' receipts decide
        if record.reported:
            return smpp.ESME_ROK
        reason = None if receipt.status == "DELIVERED" else receipt.reason
        await self._inbound(Response(record.offer_id, record.imsi, "sms", receipt.status,
                                     now_ms(), reason, receipt.message_id))
        record.reported = True
        return smpp.ESME_ROK


def _partial(attempt: Attempt, ids: list[str], total: int) -> Attempt:
    """A part's failure as the offer's: once a part was accepted nothing may be resent, so a
    retry becomes UNKNOWN and a FAILED names the part."""
    if not ids:
        return attempt
    where = f" after part {len(ids)}/{total} ({' '.join(ids)})"
    if isinstance(attempt, Retry) or attempt.status.value == "UNKNOWN":
        return in_doubt(f"{getattr(attempt, 'reason', '')}{where}")
    return failed(f"{attempt.reason}{where}", " ".join(ids))


def make_channel() -> SmsChannel:
    settings = SmsSettings()
    return SmsChannel(settings, SharedCorrelation(load(), settings.shared_hours))
