"""What one send attempt gave: a final :class:`Outcome`, or a :class:`Retry` (temporary)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """The ``OfferResponse`` statuses a gateway writes (symbols of ``ResponseStatus``)."""

    SENT = "SENT"  # the endpoint took it; a receipt may follow
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"  # in doubt after a crash: reported, never resent


# reasons the runner itself gives (a channel gives its own: "http:400", "smtp:550 5.1.1", ...)
EXPIRED = "expired"
IN_DOUBT = "ambiguous_after_restart"
EXHAUSTED = "retries_exhausted"


@dataclass(frozen=True, slots=True)
class Outcome:
    """Final for this offer at this gateway: the runner records it and publishes a response."""

    status: Status
    reason: str = ""
    provider_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    """The endpoint surely did not take it this time (5xx, 429, SMTP 4xx, throttled, a refused
    connection): try again after the policy's backoff, or after ``after_s`` when the endpoint
    said (``Retry-After``). ``reason`` becomes the FAILED reason when retries run out."""

    reason: str
    after_s: float | None = None


Attempt = Outcome | Retry


def sent(provider_message_id: str | None = None) -> Outcome:
    return Outcome(Status.SENT, "", provider_message_id)


def delivered(provider_message_id: str | None = None) -> Outcome:
    return Outcome(Status.DELIVERED, "", provider_message_id)


def failed(reason: str, provider_message_id: str | None = None) -> Outcome:
    return Outcome(Status.FAILED, reason, provider_message_id)


def unknown(reason: str) -> Outcome:
    return Outcome(Status.UNKNOWN, reason)
