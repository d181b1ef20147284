"""Which channel reaches a subscriber: the first she consented to that has a destination."""

from __future__ import annotations

from collections.abc import Sequence

from cjo.state.model import SubscriberState

DEFAULT_PREFERENCE = ("push", "sms", "email")


def destination(state: SubscriberState, channel: str) -> str | None:
    return {"push": state.app_user_id, "sms": state.msisdn, "email": state.email}.get(channel)


def choose_channel(
    state: SubscriberState, preference: Sequence[str] = DEFAULT_PREFERENCE
) -> str | None:
    for channel in preference:
        if state.consent.get(channel) and destination(state, channel):
            return channel
    return None
