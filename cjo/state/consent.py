"""Consent in a subscriber's state: the profile grants it, an opt-out withdraws it for good.

- The profile's ``consent`` is what the operator's CRM holds. ``state.consent`` is the consent in
  effect, what eligibility and channel choice read.
- An opt-out is an ``OfferResponse`` with status ``OPTED_OUT`` on a channel (an SMS STOP, an
  email unsubscribe, an app opt-out). It withdraws that channel's consent at once and is kept in
  ``state.opt_outs``. A later profile whose consent still says yes does not undo it: the CRM's
  copy may well predate the opt-out.
- Only an explicit opt-in later than the opt-out lifts it: an ``OPTED_IN`` response (an SMS
  START, a ticked box in the app), or a profile whose ``opted_in_at`` for that channel is later
  than the opt-out (the operator recorded the subscriber opting in again). Explicit opt-ins are
  kept in ``state.opt_ins`` (channel -> when), so that an opt-out that arrives late, older than
  an opt-in already seen, withdraws nothing.
- An ``OPTED_IN`` response also grants the channel until the next profile says otherwise (the
  CRM stays the master of consents it holds); an opt-out binds whatever the profile says.

Pure: no clock, event times only (the response's ``event_time``, the profile's ``opted_in_at``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cjo.state.model import SubscriberState

OPTED_OUT = "OPTED_OUT"
OPTED_IN = "OPTED_IN"
CONSENT_STATUSES = frozenset({OPTED_OUT, OPTED_IN})
CHANNELS = {"SMS": "sms", "EMAIL": "email", "PUSH": "push"}  # OfferResponse.channel -> consent


def opted_out(state: SubscriberState, channel: str) -> bool:
    """True when ``channel`` (``sms``, ``email``, ``push``) has an opt-out no opt-in lifted."""
    out = state.opt_outs.get(channel)
    return out is not None and int(out["at"]) >= state.opt_ins.get(channel, -1)


def apply_profile_consent(state: SubscriberState, profile: Mapping[str, Any]) -> None:
    """The profile's consent and explicit opt-ins into ``state``, opt-outs still binding."""
    opted_in = profile.get("opted_in_at") or {}
    opt_ins = dict(state.opt_ins)
    for channel, at in opted_in.items():
        if at is not None and int(at) > opt_ins.get(channel, -1):
            opt_ins[channel] = int(at)
    state.opt_ins = opt_ins
    granted = {k: bool(v) for k, v in (profile.get("consent") or {}).items()}
    state.consent = {k: v and not opted_out(state, k) for k, v in granted.items()}


def apply_consent_response(state: SubscriberState, response: Mapping[str, Any]) -> bool:
    """An ``OPTED_OUT`` or ``OPTED_IN`` response into ``state``; False for any other response
    (or one on a channel that has no consent: ``UNKNOWN``)."""
    status = str(response.get("status"))
    channel = CHANNELS.get(str(response.get("channel")))
    if status not in CONSENT_STATUSES or channel is None:
        return False
    at = int(response["event_time"])
    if status == OPTED_OUT:
        current = state.opt_outs.get(channel)
        if current is None or at > int(current["at"]):
            state.opt_outs = {**state.opt_outs, channel: {
                "at": at, "reason": response.get("reason"), "offer_id": response.get("offer_id")}}
        if opted_out(state, channel):
            state.consent = {**state.consent, channel: False}
        return True
    if at > state.opt_ins.get(channel, -1):
        state.opt_ins = {**state.opt_ins, channel: at}
    if not opted_out(state, channel):
        state.consent = {**state.consent, channel: True}
    return True
