"""Delivery: what every channel gateway (``cjo gateway sms|email|push``) shares, pure.

No asyncio and no Kafka here: the I/O half is ``cjo.adapters.gateways`` (the ``Channel``
protocol a channel module implements, and the runner that feeds it from Kafka).

- :class:`OfferMessage` (``message``): the ``Offer`` record as a channel sees it (destination,
  text, language, validity);
- :class:`Outcome` and :class:`Retry` (``outcome``): what one send attempt gave. An ``Outcome`` is
  final for the runner: ``SENT`` (the endpoint took it; a receipt may follow as an inbound
  response), ``DELIVERED``, ``FAILED`` (with a reason such as ``expired``, ``http:400``,
  ``smtp:550``) or ``UNKNOWN`` (in doubt, never resent). A ``Retry`` is a temporary refusal the
  runner retries under the :class:`RetryPolicy` (``retry``), honouring a server's ``after_s``;
- :class:`Response` (``response``): an ``OfferResponse`` record for ``cjo.offers.responses``,
  both for send outcomes and for inbound events (receipts, bounces, opt-outs);
- the claim ledger (``ledger``): the durable states of an offer at a gateway (CLAIMED before
  an attempt, RELEASED after an attempt surely refused, DONE with its outcome) and what to do
  with an offer given its entry: send it, skip it, or report it UNKNOWN (claimed by a process
  that died before the outcome was recorded: it is never handed to the endpoint again).

How a channel plugs in: see ``cjo.adapters.gateways``.
"""

from cjo.delivery.ledger import Action, Claim, Entry, LedgerTable, action_for
from cjo.delivery.message import OfferMessage
from cjo.delivery.outcome import (
    Attempt,
    Outcome,
    Retry,
    Status,
    delivered,
    failed,
    sent,
    unknown,
)
from cjo.delivery.response import Response, response_id
from cjo.delivery.retry import RetryPolicy, parse_retry_after

__all__ = [
    "Action",
    "Attempt",
    "Claim",
    "Entry",
    "LedgerTable",
    "OfferMessage",
    "Outcome",
    "Response",
    "Retry",
    "RetryPolicy",
    "Status",
    "action_for",
    "delivered",
    "failed",
    "parse_retry_after",
    "response_id",
    "sent",
    "unknown",
]
