"""Channel gateways: ``cjo gateway <channel>`` hands the offers of ``cjo.offers.<channel>`` to an
endpoint (an SMSC over SMPP, a mail relay over SMTP, a push service over HTTPS) and publishes what
happened as ``OfferResponse`` records on ``cjo.offers.responses``.

The pure half (offer -> message, outcomes, retry policy, claim ledger) is ``cjo.delivery``.
Here: the :class:`~cjo.adapters.gateways.channel.Channel` protocol, one module per channel
(``push``, ``email``, ``sms``) and the runner that feeds a channel from Kafka.

How a channel plugs in (a fourth one, RCS or WhatsApp, is one more file):

1. Write ``cjo/adapters/gateways/<name>.py`` defining ``make_channel() -> Channel`` (reading its
   own settings, a ``pydantic_settings.BaseSettings`` with ``env_prefix="CJO_<NAME>_"``, each
   setting documented in docs/settings.md) and a class implementing ``Channel``:

   - ``name``: the channel, lower case, as in ``cjo.offers.<name>``;
   - ``concurrency``: how many sends the runner may have in flight at once (a connection pool's
     size, an SMPP window);
   - ``async open(inbound)``: connect; keep ``inbound`` to publish what comes back (receipts,
     bounces, opt-outs) as :class:`~cjo.delivery.Response`; ``await inbound(response)``
     returns once the record is durably on ``cjo.offers.responses``, so acknowledge the
     endpoint's event (a ``deliver_sm_resp``, a 250 to a bounce) only after it;
   - ``async send(message) -> Outcome | Retry``: one attempt. Never raise for what the endpoint
     or the network did: a definite answer is an ``Outcome`` (``sent``, ``delivered``,
     ``failed(reason)``), a temporary refusal a ``Retry(reason, after_s)``. The runner claims
     the offer in the ledger before calling it, retries under its ``RetryPolicy``, never calls
     it for an offer past ``valid_until`` (FAILED ``expired``) nor for one whose earlier claim
     is in doubt (UNKNOWN), and publishes the outcome;
   - ``async close()``: finish in-flight work and disconnect.

2. Add the channel to ``CHANNELS`` in ``cjo/stream_registry.py`` (its offer topic and ledger
   topic follow) and its symbol to the ``Channel`` enum of ``schemas/`` (a compatible change).

3. Add it to the contract suite's parameters (``tests/unit/test_gateway_contract.py``) with a
   loopback endpoint; the suite checks what every channel must do.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from cjo.adapters.gateways.channel import Channel, Inbound
from cjo.errors import ConfigError

__all__ = ["Channel", "Inbound", "channel_factory"]


def channel_factory(name: str) -> Callable[[], Channel]:
    """``make_channel`` of ``cjo.adapters.gateways.<name>``."""
    try:
        module = importlib.import_module(f"cjo.adapters.gateways.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"cjo.adapters.gateways.{name}":
            raise
        raise ConfigError(f"no gateway for channel {name!r}: cjo/adapters/gateways/{name}.py "
                          "is missing") from err
    make: Callable[[], Channel] = module.make_channel
    return make
