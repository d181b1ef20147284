"""The interface every channel implements (see ``cjo.adapters.gateways`` for how one plugs in)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cjo.delivery import Attempt, OfferMessage, Response


class Inbound(Protocol):
    """Publishes an inbound event (a receipt, a bounce, an opt-out) as an ``OfferResponse``;
    returns once the broker has acknowledged it, raises if it could not be written."""

    async def __call__(self, response: Response) -> None: ...


@runtime_checkable
class Channel(Protocol):
    name: str  # lower case: the offers come from cjo.offers.<name>
    concurrency: int  # sends the runner may have in flight at once

    async def open(self, inbound: Inbound) -> None:
        """Connect (or get ready to); keep ``inbound`` for what comes back."""
        ...

    async def send(self, message: OfferMessage) -> Attempt:
        """One attempt at handing ``message`` to the endpoint: an ``Outcome`` or a ``Retry``;
        never raises for the endpoint's or the network's doing."""
        ...

    async def close(self) -> None:
        """Stop accepting inbound events and disconnect; idempotent."""
        ...
