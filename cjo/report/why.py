"""A decision's reason codes in words: what ``cjo explain`` prints as ``why``.

The codes (``cjo.policy``, ``cjo.engine.settle``) are short and stable, made for counting;
:func:`why` says what each means for this subscriber, one clause per code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

_OUTCOME = {
    "SENT": "sent",
    "SUPPRESSED": "not sent",
    "EXPIRED": "not sent, too late",
    "DEFERRED": "held back",
    "HOLDOUT": "not sent, on purpose",
}


def why(decision: Mapping[str, Any]) -> str:
    """``not sent: she has not consented to push or sms, the channels of the offer``."""
    outcome = str(decision.get("outcome") or "")
    clauses = [_clause(str(code)) for code in decision.get("reasons") or []]
    head = _OUTCOME.get(outcome, outcome.lower() or "decided")
    return f"{head}: {'; '.join(clauses)}" if clauses else head


def _clause(code: str) -> str:  # noqa: PLR0911 (one per reason code)
    name, _, detail = code.partition(":")
    if name == "channel":
        return (f"by {detail}, the first channel of the offer she consented to and has an "
                "address for")
    if name == "no_consent":
        return (f"she has not consented to {_or(detail.split(','))}"
                + (" (the trigger needs it)" if detail == "location" else
                   ", the offer's channels she cannot be reached on"))
    if name == "no_address":
        return f"no address known for {_or(detail.split(','))} (app user id, MSISDN or e-mail)"
    if name == "ineligible":
        return f"her {detail.replace('_', ' ')} is not one the trigger's eligibility lists"
    if name == "late":
        late, _, limit = detail.partition(">")
        return f"acted on {late} after the moment, past the trigger's max_delay of {limit}"
    if name == "quiet_hours":
        return "in her quiet hours (local time)"
    if name == "cooldown":
        return f"the trigger fired for her less than {detail} ago (its cooldown)"
    if name == "frequency_cap":
        count, _, window = detail.partition("/")
        return f"she already had {count} marketing offers within {window} (the contact cap)"
    if name == "channel_cap":
        channel, _, rest = detail.partition(":")
        count, _, window = rest.partition("/")
        return f"she already had {count} {channel} offers within {window} (the channel cap)"
    other = _OTHER.get(name)
    return other(detail) if other is not None else code


_OTHER: dict[str, Callable[[str], str]] = {
    "dedupe": lambda d: (f"the same offer {d.partition('/')[0]} was made to her within "
                         f"{d.partition('/')[2]} (dedupe)"),
    "holdout": lambda d: f"she is in the holdout group ({d} of subscribers get no marketing "
                         "offers, to measure what offers achieve)",
    "budget": lambda d: (f"the offer's daily budget ({d.rpartition(':')[2]}) is spent"),
    "do_not_contact": lambda _d: "she is on the do-not-contact list",
    "arbitration": lambda _d: "another trigger's offer for the same moment scored higher",
}


def _or(items: Sequence[str]) -> str:
    items = [item for item in items if item]
    if len(items) <= 1:
        return items[0] if items else "?"
    return ", ".join(items[:-1]) + f" or {items[-1]}"
