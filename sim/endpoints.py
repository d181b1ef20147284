"""Loopback endpoints for the gateways' tests, bench and demo: a push service and SMTP relays.

- :class:`PushEndpoint`: an aiohttp server checking each request's Standard Webhooks signature
  with the ``standardwebhooks`` package (an implementation independent of cjo's), answering
  by a script per ``app_user_id`` (``{"flaky": [503, 200]}``: 503 first, then 200), 200 else.
- :class:`SmtpEndpoint`: an aiosmtpd server capturing every message; a script per recipient
  answers RCPT with an SMTP reply instead (``{"gone@x.org": ["550 5.1.1 No such user"]}``),
  each scripted reply once, in order.

Both run on their own event loop in a thread (``start()``/``stop()``, or ``with``), so a test,
the bench or the demo can keep them while gateway processes come and go.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cjo.adapters.broker import HOST, free_port


@dataclass
class PushRequest:
    webhook_id: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class PushEndpoint:
    """``accepted`` counts each ``webhook-id`` answered 2xx; ``requests`` keeps every request
    whose signature held; ``bad_signatures`` counts the others (answered 401)."""

    secret: str
    script: Mapping[str, Sequence[int]] = field(default_factory=dict)
    delay_s: float = 0.0
    retry_after: str = "0"  # the Retry-After of a 429 or 503
    port: int = 0
    requests: list[PushRequest] = field(default_factory=list)
    accepted: Counter[str] = field(default_factory=Counter)
    bad_signatures: int = 0

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self._left: dict[str, list[int]] = {k: list(v) for k, v in self.script.items()}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/notify"

    async def _notify(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            payload = Webhook(self.secret).verify(raw, dict(request.headers))
        except WebhookVerificationError:
            with self._lock:
                self.bad_signatures += 1
            return web.Response(status=401, text="bad signature")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        user = str(payload["data"]["app_user_id"])
        with self._lock:
            left = self._left.get(user)
            status = left.pop(0) if left else 200
            webhook_id = request.headers["webhook-id"]
            self.requests.append(PushRequest(webhook_id, status, payload, dict(request.headers)))
            if 200 <= status < 300:
                self.accepted[webhook_id] += 1
        extra = {"Retry-After": self.retry_after} if status in (429, 503) else {}
        return web.Response(status=status, headers=extra, text="ok" if status < 300 else "no")

    def start(self) -> Self:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True,
                                        name="push-endpoint")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the push endpoint did not start")
        return self

    def _serve(self, ready: threading.Event) -> None:
        self._loop = loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/notify", self._notify)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        loop.run_until_complete(web.TCPSite(self._runner, HOST, self.port).start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


class _Handler:
    def __init__(self, owner: SmtpEndpoint) -> None:
        self.owner = owner

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,  # noqa: N802
                          address: str, rcpt_options: list[str]) -> str:
        del server, session, rcpt_options
        with self.owner.lock:
            left = self.owner.left.get(address)
            if left:
                return left.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session,  # noqa: N802
                          envelope: Envelope) -> str:
        del server, session
        if self.owner.delay_s:
            await asyncio.sleep(self.owner.delay_s)
        raw = envelope.original_content or b""
        if not self.owner.keep:  # the bench: count by Message-ID, parse nothing
            found = _MESSAGE_ID.search(raw)
            with self.owner.lock:
                self.owner.by_message_id[found.group(1).decode() if found else ""] += 1
            return "250 2.0.0 OK queued"
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        mail = Mail(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, raw)
        with self.owner.lock:
            self.owner.mails.append(mail)
            self.owner.by_message_id[str(parsed["Message-ID"])] += 1
        return "250 2.0.0 OK queued"


@dataclass
class SmtpEndpoint:
    """``mails`` in arrival order (parsed; not kept when ``keep`` is false); ``by_message_id``
    counts each ``Message-ID`` received."""

    script: Mapping[str, Sequence[str]] = field(default_factory=dict)
    keep: bool = True
    delay_s: float = 0.0
    port: int = 0
    mails: list[Mail] = field(default_factory=list)
    by_message_id: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        # aiosmtpd's readiness probe connects to the port it was given: pick one first
        self.port = self.port or free_port()
        self.left: defaultdict[str, list[str]] = defaultdict(list)
        self.left.update({k: list(v) for k, v in self.script.items()})
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> Self:
        self._controller = Controller(_Handler(self), hostname=HOST, port=self.port,
                                      decode_data=False)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
