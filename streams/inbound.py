"""The inbound API: any worker may be asked about any subscriber.

- ``GET /v1/subscribers/{imsi}/next-best-offer``: her offers ranked now (``cjo.engine.inbound``);
  nothing sent, her state unchanged; the answer is logged on ``cjo.decisions`` as ``INBOUND``.
- ``GET /v1/subscribers/{imsi}``: her state, readable (``cjo.report.state_view``).
- ``PUT`` / ``DELETE /v1/subscribers/{imsi}/do-not-contact`` (mutating: ``CJO_API_TOKEN``
  required): she is put on, or taken off, the do-not-contact list (its control topic).

Her state lives in the partition her IMSI hashes to with Kafka's murmur2
(``cjo.partitioning``), the partition the producer contract requires, not faust's routing (which
hashes the key of the table as faust would send it). The worker that owns that partition answers;
another forwards the request once to the owner's URL (faust's assignor publishes each member's
``CJO_WEB_URL`` with the assignment), marked with ``X-Cjo-Forwarded`` so that it is never
forwarded twice, and waits ``CJO_INBOUND_FORWARD_TIMEOUT_MS`` at most. During a rebalance or a
recovery, when the owner does not answer in time, or when a forwarded request reaches a worker that
no longer owns the partition, the answer is the degraded default: ``"degraded": true`` with the
reason, HTTP 200 and the header ``X-Cjo-Degraded``, the catalogue's offers by value and priority
(``cjo.engine.inbound.default_answer``). Never an error page.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
import uuid
from typing import Any

import aiohttp
import faust
import orjson
from aiohttp.web import Response
from faust.types import TP

from cjo import codec, logs
from cjo.adapters.control_topics import publish_dnc
from cjo.engine import inbound
from cjo.partitioning import partition_of
from cjo.report.state_view import readable
from cjo.settings import Settings
from cjo.state import SubscriberState
from cjo.timers import TIMER_PREFIX, Timer
from streams import faust_pins
from streams.health import Health
from streams.processor import Processor

log = logs.get("cjo.http")

FORWARDED = "X-Cjo-Forwarded"
DEGRADED = "X-Cjo-Degraded"
ANSWERED_BY = "X-Cjo-Answered-By"
_IMSI = re.compile(r"\d{5,15}")
TIMER_SCAN_CAP = 200_000  # timer keys of a partition read to find hers (GET /v1/subscribers)


class InboundApi:
    def __init__(self, app: faust.App, settings: Settings, processor: Processor, table: Any,
                 health: Health, url: str) -> None:
        self._app = app
        self._settings = settings
        self._processor = processor
        self._table = table
        self._health = health
        self.url = url
        self._input = next(iter(settings.topics.inputs().values()))
        self._changelog = faust_pins.changelog_topic(table)
        self._timeout = aiohttp.ClientTimeout(total=settings.inbound_forward_timeout_ms / 1000)
        self._session: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Future[None]] = set()

    # -- who answers --

    def partition(self, imsi: str) -> int:
        return partition_of(imsi.encode(), self._settings.partitions)

    def owner(self, partition: int) -> str | None:
        """The URL of the worker that owns the partition's state, as the group last said."""
        urls: dict[TP, str] = getattr(self._app.assignor, "_tps_url", {})
        return urls.get(TP(self._changelog, partition))

    def local(self, partition: int) -> bool:
        return TP(self._input, partition) in self._app.consumer.assignment()

    async def answer(self, request: Any, imsi: str, path: str,
                     here: Any) -> tuple[int, dict[str, Any] | bytes, str]:
        """(status, body, who answered: owner, forwarded or degraded:<why>). ``here``: the
        owner's answer, as an awaitable made when it is this worker."""
        partition = self.partition(imsi)
        ready, why = self._health.ready()
        if not ready:
            return 200, {}, f"degraded:{why}"
        if self.local(partition):
            return 200, await here(partition), "owner"
        owner = self.owner(partition)
        if request.headers.get(FORWARDED) or owner is None or owner == self.url:
            return 200, {}, "degraded:not_owner" if owner else "degraded:owner_unknown"
        try:
            status, body, degraded = await self._forward(f"{owner}{path}", request)
        except TimeoutError:
            status, body, degraded = 0, b"owner_timeout", None
        except aiohttp.ClientError:
            status, body, degraded = 0, b"owner_unreachable", None
        if status == 200:  # the owner's answer, degraded or not, as it gave it
            return 200, body, f"degraded:{degraded}" if degraded else "forwarded"
        return 200, {}, f"degraded:{body.decode() if not status else f'owner_status_{status}'}"

    async def _forward(self, url: str, request: Any) -> tuple[int, bytes, str | None]:
        """(status, body, the owner's degraded reason or None)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers = {FORWARDED: self.url}
        if "Authorization" in request.headers:
            headers["Authorization"] = request.headers["Authorization"]
        async with self._session.get(url, headers=headers) as response:
            return response.status, await response.read(), response.headers.get(DEGRADED)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- what the owner answers --

    def _state(self, partition: int, imsi: str) -> SubscriberState | None:
        raw = faust_pins.partition_db(self._table, partition).get(imsi.encode())
        return SubscriberState.from_bytes(bytes(raw)) if raw else None

    def _now(self, state: SubscriberState | None) -> int:
        """Live mode: the wall clock. Replay mode: event time (her newest event), as the
        triggered path measures caps and cooldowns."""
        if self._settings.time_mode == "replay" and state is not None \
                and state.last_event_time >= 0:
            return state.last_event_time
        return time.time_ns() // 1_000_000

    async def best_offers(self, partition: int, imsi: str) -> dict[str, Any]:
        state = self._state(partition, imsi)
        known = state is not None
        state = state or SubscriberState(imsi=imsi)
        now = self._now(state if known else None)
        knowledge = self._processor.knowledge
        answer = inbound.rank(state, knowledge, now)
        self._log_decision(inbound.decision(imsi, answer, uuid.uuid4().hex, now))
        return {"imsi": imsi, "degraded": False, "known": known, "answered_by": self.url,
                "partition": partition, "offers": [r.as_dict() for r in answer.offers],
                "not_eligible": answer.not_eligible, "model_version": answer.model_version,
                "catalogue": knowledge.catalogue.digest, "at": now}

    def degraded_offers(self, imsi: str, why: str) -> dict[str, Any]:
        catalogue = self._processor.knowledge.catalogue
        now = time.time_ns() // 1_000_000
        offers = inbound.default_answer(catalogue)
        answer = inbound.Answer(offers=offers)
        record = inbound.decision(imsi, answer, uuid.uuid4().hex, now)
        record["reasons"] = [f"degraded:{why}", *record["reasons"]]
        self._log_decision(record)
        return {"imsi": imsi, "degraded": True, "reason": why, "answered_by": self.url,
                "offers": [r.as_dict() for r in offers], "catalogue": catalogue.digest,
                "at": now}

    async def subscriber(self, partition: int, imsi: str) -> dict[str, Any]:
        state = self._state(partition, imsi)
        if state is None:
            return {"imsi": imsi, "known": False, "answered_by": self.url,
                    "partition": partition}
        db = faust_pins.partition_db(self._table, partition)
        timers = await asyncio.to_thread(_timers_of, db, imsi)
        view = readable(state, self._processor.knowledge.catalogue, self._now(state), timers)
        return {**view, "known": True, "answered_by": self.url, "partition": partition}

    def _log_decision(self, record: dict[str, Any]) -> None:
        """On ``cjo.decisions``, keyed by her IMSI; not awaited (the answer does not wait)."""
        value = codec.encode("Decision", record)
        topic = self._settings.topics["decisions"]

        async def send() -> None:
            try:
                for delivery in await faust_pins.send_records(
                        self._app, [(topic, record["imsi"].encode(), value, None)]):
                    await delivery
            except Exception as exc:  # the answer stands; the log line says what was lost
                log.warning("inbound_decision_not_logged", error=repr(exc))

        task = asyncio.ensure_future(send())
        self._pending.add(task)  # kept until it ends (asyncio holds tasks weakly)
        task.add_done_callback(self._pending.discard)


def _timers_of(db: Any, imsi: str) -> list[Timer]:
    """Her durable timers in a partition's database (keys: prefix, due, IMSI, ...)."""
    found = []
    mine = imsi.encode() + b"\x00"
    start = len(TIMER_PREFIX) + 8  # the due time: 8 bytes
    for count, raw in enumerate(db.keys(from_key=TIMER_PREFIX)):
        key = bytes(raw)
        if not key.startswith(TIMER_PREFIX) or count >= TIMER_SCAN_CAP:
            break
        if key[start:].startswith(mine):
            found.append(Timer.from_key(key))
    return found


def install_inbound(app: faust.App, api: InboundApi, settings: Settings) -> None:
    tally = api._processor.tally

    def json(status: int, body: dict[str, Any] | bytes, answer: str) -> Response:
        headers = {"Content-Type": "application/json", ANSWERED_BY: api.url}
        if answer.startswith("degraded"):
            headers[DEGRADED] = answer.split(":", 1)[1]
        return Response(status=status, headers=headers,
                        body=body if isinstance(body, bytes) else orjson.dumps(body))

    def bad_imsi(imsi: str) -> Response | None:
        if _IMSI.fullmatch(imsi):
            return None
        return Response(status=400, content_type="application/json", body=orjson.dumps(
            {"error": "the IMSI must be 5 to 15 digits"}))

    def access(route: str, request: Any, imsi: str, status: int, began: float,
               answer: str = "") -> None:
        log.info("http", method=request.method, route=route, status=status, answer=answer,
                 subscriber=logs.hash_id(imsi),
                 ms=round((time.perf_counter() - began) * 1000, 2))

    @app.page("/v1/subscribers/{imsi}/next-best-offer", name="next_best_offer")
    async def next_best_offer(self: Any, request: Any, imsi: str) -> Any:
        began = time.perf_counter()
        refused = bad_imsi(imsi)
        if refused is not None:
            return refused
        try:
            status, body, answer = await api.answer(
                request, imsi, f"/v1/subscribers/{imsi}/next-best-offer",
                lambda p: api.best_offers(p, imsi))
        except Exception as exc:  # never an error page: the default, said why
            log.warning("inbound_failed", error=type(exc).__name__)
            status, body, answer = 200, {}, "degraded:error"
        if answer.startswith("degraded") and not body:  # else the owner's own, passed on
            body = api.degraded_offers(imsi, answer.split(":", 1)[1])
        tally.answered(answer.split(":", 1)[0], time.perf_counter() - began)
        access("next-best-offer", request, imsi, status, began, answer)
        return json(status, body, answer)

    @app.page("/v1/subscribers/{imsi}", name="subscriber")
    async def subscriber(self: Any, request: Any, imsi: str) -> Any:
        began = time.perf_counter()
        refused = bad_imsi(imsi)
        if refused is not None:
            return refused
        status, body, answer = await api.answer(request, imsi, f"/v1/subscribers/{imsi}",
                                                lambda p: api.subscriber(p, imsi))
        if answer.startswith("degraded") and not body:  # her state is only where it is
            status = 503
            body = {"imsi": imsi, "degraded": True, "reason": answer.split(":", 1)[1],
                    "answered_by": api.url}
        access("subscriber", request, imsi, status, began, answer)
        return json(status, body, answer)

    @app.page("/v1/subscribers/{imsi}/do-not-contact", name="do_not_contact")
    class DoNotContact(faust.web.View):
        async def put(self, request: Any, imsi: str) -> Any:
            return await self._change(request, imsi, block=True)

        async def delete(self, request: Any, imsi: str) -> Any:
            return await self._change(request, imsi, block=False)

        async def _change(self, request: Any, imsi: str, block: bool) -> Any:
            began = time.perf_counter()
            refused = bad_imsi(imsi) or unauthorised(request, settings)
            if refused is None:
                await asyncio.to_thread(publish_dnc, settings, [imsi], block)
                refused = Response(status=200, content_type="application/json",
                                   body=orjson.dumps({"imsi": imsi, "do_not_contact": block}))
            access("do-not-contact", request, imsi, refused.status, began)
            return refused


def unauthorised(request: Any, settings: Settings) -> Response | None:
    """None when the request carries ``Authorization: Bearer <CJO_API_TOKEN>``; else 401 (403
    when no token is set: mutating endpoints are then off)."""
    token = settings.api_token.get_secret_value()
    if not token:
        return Response(status=403, content_type="application/json", body=orjson.dumps(
            {"error": "mutating endpoints are off: set CJO_API_TOKEN"}))
    given = request.headers.get("Authorization", "")
    if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return None
    return Response(status=401, content_type="application/json",
                    headers={"WWW-Authenticate": "Bearer"},
                    body=orjson.dumps({"error": "a valid bearer token is required"}))
