"""Email over SMTP to the operator's relay: a pool of reused connections, STARTTLS and auth.

Each offer is one mail (``cjo.delivery.mail``): text and HTML in the subscriber's language,
``Message-ID <offer id@domain>``, ``List-Unsubscribe`` (https and mailto) with one-click
``List-Unsubscribe-Post`` (RFC 8058), and the envelope sender ``bounce+<token>@<bounce domain>``
whose token (``cjo.delivery.tokens``) names the offer and subscriber. When the relay advertises
DSN, ``ENVID`` carries the token too and ``NOTIFY=FAILURE`` asks for failure reports only.

The SMTP dialogue is driven step by step so that each answer means what it says:

- a refused connection, a 4xx to MAIL, RCPT or DATA, or a connection lost before DATA: the relay
  surely does not have the mail: retried (``Retry``);
- a 5xx: FAILED ``smtp:<code> <text>``;
- 250 after the data: SENT (the relay's answer kept as the provider message id);
- the connection lost or timed out after the data was sent and before the relay answered
  (RFC 1047's window): UNKNOWN, never resent.

Bounces: with ``CJO_EMAIL_BOUNCE_PORT`` set, the gateway also listens for the relay's DSNs
(RFC 3464) to ``bounce+<token>@``; a permanent failure becomes a FAILED response
(``bounce:<status> <diagnostic>``), written before the bounce is answered 250 (a 451 otherwise,
so the relay hands it again). A mail to ``unsubscribe+<token>@`` there is an opt-out.

Unsubscribes: with ``CJO_EMAIL_UNSUBSCRIBE_PORT`` set, a POST to a path ending in a token (the
one-click of RFC 8058, or the confirmation page's button) is an opt-out: an ``OPTED_OUT``
response (reason ``email_unsubscribe``), written before the answer (200; 503 otherwise).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from typing import Literal

import aiosmtplib
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from cjo import logs
from cjo.adapters.gateways.channel import Inbound
from cjo.delivery import Attempt, OfferMessage, Response, Retry, failed, sent, unknown
from cjo.delivery.bounces import permanent_failures
from cjo.delivery.mail import Sender, compose
from cjo.delivery.response import response_id
from cjo.delivery.tokens import seal, unseal
from cjo.errors import ConfigError

log = logs.get("cjo.gateway.email")
OPTED_OUT = "OPTED_OUT"  # an OfferResponse status (schemas/OfferResponse.avsc)
UNSUBSCRIBED = "email_unsubscribe"  # its reason
_CONFIRM_PAGE = ('<!DOCTYPE html>\n<html><body><form method="post">'
                 '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                 '<button type="submit">Unsubscribe</button></form></body></html>\n')


class EmailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CJO_EMAIL_", frozen=True, extra="ignore")

    host: str = Field(default="127.0.0.1", description="the SMTP relay's host")
    port: int = Field(default=25, ge=1, le=65535, description="the SMTP relay's port")
    tls: Literal["auto", "starttls", "tls", "none"] = Field(
        default="auto", description="auto: STARTTLS when offered; starttls: required; tls: "
        "implicit TLS (port 465); none: never")
    username: str = Field(default="", description="SMTP AUTH user (empty: no auth)")
    password: SecretStr = Field(default=SecretStr(""), description="SMTP AUTH password")
    ca_file: str = Field(default="", description="CA certificates (PEM) to verify the relay")
    timeout_s: float = Field(default=30.0, gt=0, description="longest wait for each answer")
    connections: int = Field(default=8, ge=1, description="SMTP connections kept open and "
                             "reused; also the mails in flight at once")
    from_address: str = Field(default="offers@example.org", description="From: address")
    from_name: str = Field(default="", description="From: display name")
    bounce_domain: str = Field(default="", description="domain of the bounce address "
                               "bounce+<token>@ (default: From's)")
    unsubscribe_url: str = Field(
        default="https://example.org/unsubscribe/{token}", description="one-click "
        "unsubscribe URL (https; {token} names offer and subscriber)")
    unsubscribe_mailto: str = Field(default="", description="mailto unsubscribe address "
                                    "({token} allowed); default: unsubscribe+<token>@<bounce "
                                    "domain>")
    token_secret: SecretStr = Field(
        default=SecretStr("cjo-development-token-secret"), description="HMAC key of the "
        "tokens in bounce addresses and unsubscribe links (production sets its own)")
    bounce_port: int = Field(default=0, ge=0, le=65535, description="port where the gateway "
                             "takes the relay's bounces (DSNs) over SMTP; 0: none")
    helo_name: str = Field(default="", description="name this gateway gives in EHLO "
                           "(default: the host's fully qualified name)")
    bounce_host: str = Field(default="127.0.0.1", description="address the bounce listener "
                             "binds")
    unsubscribe_port: int = Field(default=0, ge=0, le=65535, description="port where the "
                                  "gateway takes one-click unsubscribes (HTTP POST to any path "
                                  "ending in the token; behind the operator's https proxy); 0: "
                                  "none")
    unsubscribe_host: str = Field(default="127.0.0.1", description="address the unsubscribe "
                                  "listener binds")


def _reason(prefix: str, error: aiosmtplib.SMTPResponseException) -> str:
    return f"{prefix}:{error.code} {' '.join(str(error.message).split())}"[:200]


class EmailChannel:
    name = "email"

    def __init__(self, settings: EmailSettings) -> None:
        if not settings.unsubscribe_url.startswith("https://"):
            raise ConfigError("CJO_EMAIL_UNSUBSCRIBE_URL must be https:// (RFC 8058)")
        self.settings = settings
        self.concurrency = settings.connections
        self.sender = Sender(settings.from_address, settings.from_name, settings.bounce_domain,
                             settings.unsubscribe_url, settings.unsubscribe_mailto)
        self._key = settings.token_secret.get_secret_value().encode()
        self._helo = settings.helo_name or socket.getfqdn()  # once: it can take a while
        self._idle: asyncio.LifoQueue[aiosmtplib.SMTP] = asyncio.LifoQueue()
        self._inbound: Inbound | None = None
        self._bounces: Controller | None = None
        self._unsubscribes: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=s.ca_file or None)
        return aiosmtplib.SMTP(
            hostname=s.host, port=s.port, timeout=s.timeout_s, use_tls=s.tls == "tls",
            start_tls={"auto": None, "starttls": True, "tls": False, "none": False}[s.tls],
            tls_context=context, local_hostname=self._helo, username=s.username or None,
            password=s.password.get_secret_value() or None)

    async def open(self, inbound: Inbound) -> None:
        self._inbound = inbound
        self._loop = asyncio.get_running_loop()
        for _ in range(self.settings.connections):
            self._idle.put_nowait(self._client())
        if self.settings.bounce_port:
            self._bounces = Controller(_BounceHandler(self), hostname=self.settings.bounce_host,
                                       port=self.settings.bounce_port, decode_data=False)
            self._bounces.start()
        if self.settings.unsubscribe_port:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._unsubscribe)
            self._unsubscribes = web.AppRunner(app, access_log=None)
            await self._unsubscribes.setup()
            await web.TCPSite(self._unsubscribes, self.settings.unsubscribe_host,
                              self.settings.unsubscribe_port).start()

    async def send(self, message: OfferMessage) -> Attempt:
        client = await self._idle.get()
        try:
            return await self._send(client, message)
        finally:
            self._idle.put_nowait(client)

    async def _send(self, client: aiosmtplib.SMTP, message: OfferMessage) -> Attempt:
        token = seal(message.offer_id, message.imsi, self._key)
        mail = compose(message, self.sender, token)
        try:
            if not client.is_connected:
                await client.connect()
            dsn = client.supports_extension("dsn")
            await client.mail(self.sender.bounce_address(token),
                              options=[f"ENVID={token}", "RET=HDRS"] if dsn else [])
            await client.rcpt(message.destination, options=["NOTIFY=FAILURE"] if dsn else [])
        except aiosmtplib.SMTPResponseException as err:
            return await _refused(client, err)
        except (aiosmtplib.SMTPException, OSError) as err:
            client.close()
            return Retry(f"network: {type(err).__name__}: {err}"[:200])
        try:
            answer = await client.data(mail)
        except aiosmtplib.SMTPResponseException as err:
            return await _refused(client, err)
        except (aiosmtplib.SMTPException, OSError) as err:
            client.close()
            return unknown(f"smtp: no answer to the data: {type(err).__name__}"[:200])
        return sent(" ".join(answer.message.split())[:200] or None)

    async def close(self) -> None:
        if self._bounces is not None:
            self._bounces.stop()
            self._bounces = None
        if self._unsubscribes is not None:
            await self._unsubscribes.cleanup()
            self._unsubscribes = None
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()

    async def opt_out(self, token: str) -> bool:
        """Publish the opt-out a token names (one-click or mailto unsubscribe); False when the
        token is not one of ours."""
        assert self._inbound is not None
        named = unseal(token, self._key)
        if named is None:
            return False
        offer_id, imsi = named
        await self._inbound(Response(
            offer_id, imsi, self.name, OPTED_OUT, _now_ms(), UNSUBSCRIBED,
            event_id=response_id(offer_id, OPTED_OUT, UNSUBSCRIBED)))
        return True

    async def _unsubscribe(self, request: web.Request) -> web.Response:
        """RFC 8058: a POST (body ``List-Unsubscribe=One-Click``, or the page's form) opts out;
        a GET only shows the button (mail scanners follow links)."""
        token = request.path.rstrip("/").rpartition("/")[2]
        if request.method == "GET":
            return web.Response(content_type="text/html", text=_CONFIRM_PAGE)
        if request.method != "POST":
            return web.Response(status=405)
        try:
            known = await self.opt_out(token)
        except Exception as err:
            log.warning("unsubscribe not recorded", error=str(err))
            return web.Response(status=503, text="not recorded, try again")
        if not known:
            return web.Response(status=404, text="unknown link")
        return web.Response(text="unsubscribed")

    async def bounce(self, rcpt_tos: list[str], raw: bytes) -> int:
        """Publish the permanent failures of a DSN sent to ``rcpt_tos`` (or the opt-out of a
        mail to ``unsubscribe+<token>@``); how many."""
        assert self._inbound is not None
        published = 0
        for address in rcpt_tos:
            local = address.partition("@")[0]
            if local.lower().startswith("unsubscribe+"):
                published += await self.opt_out(local.partition("+")[2])
        tokens = [a.partition("@")[0].partition("+")[2] for a in rcpt_tos
                  if a.lower().startswith("bounce+")]
        for failure in permanent_failures(raw):
            for token in [*tokens, failure.envelope_id]:
                named = unseal(token, self._key) if token else None
                if named is None:
                    continue
                offer_id, imsi = named
                reason = f"bounce:{failure.status} {failure.diagnostic}"[:200]
                await self._inbound(Response(
                    offer_id, imsi, self.name, "FAILED", _now_ms(), reason,
                    event_id=response_id(offer_id, "FAILED", "bounce")))
                published += 1
                break
        return published


async def _refused(client: aiosmtplib.SMTP, err: aiosmtplib.SMTPResponseException) -> Attempt:
    """A 5xx fails the offer, a 4xx is retried; the session is reset for the next mail."""
    try:
        await client.rset()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
    if err.code >= 500:
        return failed(_reason("smtp", err))
    return Retry(_reason("smtp", err))


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _BounceHandler:
    """aiosmtpd handler of the bounce listener; runs on the Controller's own loop, and hands
    each DSN to the gateway's loop, answering once its responses are written."""

    def __init__(self, channel: EmailChannel) -> None:
        self.channel = channel

    async def handle_DATA(self, server: SMTP, session: Session,  # noqa: N802
                          envelope: Envelope) -> str:
        del server, session
        assert self.channel._loop is not None
        future = asyncio.run_coroutine_threadsafe(
            self.channel.bounce(list(envelope.rcpt_tos), envelope.original_content or b""),
            self.channel._loop)
        try:
            count = await asyncio.wrap_future(future)
        except Exception as err:
            log.warning("bounce not recorded", error=str(err))
            return "451 4.3.0 bounce not recorded, try again later"
        log.info("bounce", failures=count)
        return "250 2.0.0 bounce recorded"


def make_channel() -> EmailChannel:
    return EmailChannel(EmailSettings())
