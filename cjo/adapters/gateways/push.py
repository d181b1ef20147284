"""App push over HTTPS to the operator's notification service, signed as Standard Webhooks 1.0.

Each offer is one ``POST`` of a JSON body ``{"type": "cjo.offer", "timestamp", "data": {...}}``
with ``webhook-id`` = the offer id (stable across retries: the service's idempotency key),
``webhook-timestamp`` and ``webhook-signature`` (``cjo.delivery.webhooks``). 2xx is DELIVERED;
429, 5xx and network errors are retried with backoff, honouring ``Retry-After``; any other
status (3xx and 4xx, 410 included) is FAILED ``http:<status>``. One aiohttp session keeps a pool
of ``CJO_PUSH_CONNECTIONS`` keep-alive connections (aiohttp rather than the research note's
httpx: it is already a dependency of faust, and faster per request).
"""

from __future__ import annotations

import ssl
import time
from datetime import UTC, datetime

import aiohttp
import orjson
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from cjo.adapters.gateways.channel import Inbound
from cjo.delivery import Attempt, OfferMessage, Retry, delivered, failed, parse_retry_after
from cjo.delivery.webhooks import headers, secret_key
from cjo.errors import ConfigError


class PushSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CJO_PUSH_", frozen=True, extra="ignore")

    url: str = Field(default="", description="the notification service's endpoint (https://...)")
    secret: SecretStr = Field(
        default=SecretStr(""), description="Standard Webhooks secret, whsec_ + base64 of 24-64 "
        "random bytes, shared with the service")
    timeout_s: float = Field(default=15.0, gt=0, description="longest wait for an answer")
    connect_timeout_s: float = Field(default=5.0, gt=0, description="longest wait to connect")
    connections: int = Field(default=64, ge=1, description="connection pool size; also the "
                             "requests in flight at once")
    ca_file: str = Field(default="", description="CA certificates (PEM) to verify the service; "
                         "default: the system's")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def body(message: OfferMessage, now_s: int) -> bytes:
    """The JSON body for ``message`` (what the signature covers)."""
    return orjson.dumps({
        "type": "cjo.offer",
        "timestamp": _iso(now_s * 1000),
        "data": {
            "offer_id": message.offer_id, "app_user_id": message.destination,
            "text": message.text, "language": message.language,
            "offer_code": message.offer_code, "trigger_id": message.trigger_id,
            "valid_until": _iso(message.valid_until)}})


class PushChannel:
    name = "push"

    def __init__(self, settings: PushSettings) -> None:
        if not settings.url.startswith(("https://", "http://")):
            raise ConfigError("CJO_PUSH_URL must be the notification service's http(s):// URL")
        try:
            self._key = secret_key(settings.secret.get_secret_value())
        except ValueError as err:
            raise ConfigError(f"CJO_PUSH_SECRET: {err}") from None
        self.settings = settings
        self.concurrency = settings.connections
        self._session: aiohttp.ClientSession | None = None

    async def open(self, inbound: Inbound) -> None:
        del inbound  # the service answers synchronously; app opt-outs come in as responses
        context = ssl.create_default_context(cafile=self.settings.ca_file or None)
        connector = aiohttp.TCPConnector(limit=self.settings.connections, ssl=context,
                                         keepalive_timeout=30)
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s,
                                        sock_connect=self.settings.connect_timeout_s)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout,
                                              raise_for_status=False)

    async def send(self, message: OfferMessage) -> Attempt:
        assert self._session is not None, "open() first"
        now_s = int(time.time())
        data = body(message, now_s)
        sent_headers = {"content-type": "application/json",
                        **headers(self._key, message.offer_id, now_s, data)}
        try:
            async with self._session.post(self.settings.url, data=data, headers=sent_headers,
                                          allow_redirects=False) as answer:
                status = answer.status
                retry_after = answer.headers.get("Retry-After")
                await answer.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            return Retry(f"network: {type(err).__name__}: {err}"[:200])
        if 200 <= status < 300:
            return delivered()
        if status == 429 or status >= 500:
            return Retry(f"http:{status}", parse_retry_after(retry_after, time.time()))
        return failed(f"http:{status}")

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def make_channel() -> PushChannel:
    return PushChannel(PushSettings())
