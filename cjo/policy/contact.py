"""The contact policy: whether a subscriber may be contacted now, once she is eligible.

Pure: the history is the subscriber's ``contacts`` (``[at, trigger_id, offer_code, channel,
marketing]``, see :func:`record_contact`) and the time is passed in. Rules, in order:

- ``do_not_contact``: she is on the do-not-contact list;
- ``frequency_cap:2/24h``: the first of the policy's caps already full (marketing triggers only,
  counting her marketing contacts in the rolling window ending now);
- ``channel_cap:sms:1/24h``: the same for the channel about to be used;
- ``dedupe:OFFER_CODE/14d``: this offer code was offered to her within the dedupe window;
- quiet hours: ``DEFERRED`` until they end (her local time), or ``EXPIRED`` if that is later
  than the trigger's ``max_delay`` after the moment.

Every blocking reason that applies is listed (``SUPPRESSED``), in that order; quiet hours are
looked at only when nothing blocks, since waiting for the morning would not unblock a full cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cjo.catalogue.model import (
    MAX_CONTACTS,
    MAX_POLICY_WINDOW,
    Cap,
    OfferDef,
    PolicyDef,
    QuietHours,
    Trigger,
    minutes_of_day,
)
from cjo.policy.eligibility import format_duration, late_reason
from cjo.state.model import SubscriberState

Outcome = Literal["ALLOW", "SUPPRESSED", "DEFERRED", "EXPIRED"]
_HOUR_MS = 3_600_000
_DAY_MS = 86_400_000
# contact entries: [at, trigger_id, offer_code, channel, marketing]
_AT, _TRIGGER, _CODE, _CHANNEL, _MARKETING = range(5)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[str, ...] = ()
    until: int | None = None  # DEFERRED: when to decide again (epoch ms)


def contact_verdict(policy: PolicyDef, trigger: Trigger, offer: OfferDef, channel: str,
                    state: SubscriberState, moment_time: int, now: int,
                    do_not_contact: bool) -> Verdict:
    """May ``offer`` of ``trigger`` reach her on ``channel`` at ``now``? (see the module doc)."""
    reasons = blocking(policy, trigger, offer, channel, state.contacts, now, do_not_contact)
    if reasons:
        return Verdict("SUPPRESSED", tuple(reasons))
    until = quiet_until(policy.quiet_hours, state.timezone, now)
    if until is None:
        return Verdict("ALLOW")
    late = until - moment_time
    if late > trigger.max_delay:
        return Verdict("EXPIRED", ("quiet_hours", late_reason(late, trigger)))
    return Verdict("DEFERRED", ("quiet_hours",), until)


def blocking(policy: PolicyDef, trigger: Trigger, offer: OfferDef, channel: str,
             contacts: Sequence[Sequence[Any]], now: int, do_not_contact: bool) -> list[str]:
    """Every reason the contact may not happen, whatever the time of day."""
    reasons = ["do_not_contact"] if do_not_contact else []
    if trigger.marketing:
        marketing = [c for c in contacts if c[_MARKETING]]
        cap = full_cap(policy.caps, marketing, now)
        if cap is not None:
            reasons.append(f"frequency_cap:{cap.count}/{window_label(cap.within)}")
        channel = channel.lower()
        caps = [cap for name, caps in policy.channel_caps.items() if name == channel
                for cap in caps]
        cap = full_cap(caps, [c for c in marketing if c[_CHANNEL] == channel], now)
        if cap is not None:
            reasons.append(f"channel_cap:{channel}:{cap.count}/{window_label(cap.within)}")
    if policy.dedupe and any(c[_CODE] == offer.code and c[_AT] > now - policy.dedupe
                             for c in contacts):
        reasons.append(f"dedupe:{offer.code}/{window_label(policy.dedupe)}")
    return reasons


def full_cap(caps: Iterable[Cap], contacts: Sequence[Sequence[Any]], now: int) -> Cap | None:
    """The first cap whose rolling window ending at ``now`` already holds ``count`` contacts.

    A window is ``(now - within, now]`` widened to the future: a contact exactly ``within`` ago
    no longer counts; one stamped after ``now`` (another worker's clock) does.
    """
    for cap in caps:
        if sum(1 for c in contacts if c[_AT] > now - cap.within) >= cap.count:
            return cap
    return None


def window_label(ms: int) -> str:
    """A window as people write it: ``24h`` (not ``1d``), ``7d``, ``30m``."""
    if ms % _DAY_MS == 0 and ms > _DAY_MS:
        return f"{ms // _DAY_MS}d"
    if ms % _HOUR_MS == 0:
        return f"{ms // _HOUR_MS}h"
    return format_duration(ms)


# -- quiet hours ---------------------------------------------------------------------------------


def quiet_until(quiet: QuietHours | None, timezone: str | None, now: int) -> int | None:
    """If ``now`` is inside the quiet hours in ``timezone`` (an IANA name; unknown: UTC), the
    end of that quiet period (epoch ms), else None.

    The end is the next time her clock shows ``end``, so it moves with daylight saving time
    (08:00 Europe/London is 07:00 UTC in summer, 08:00 in winter). On the night the clocks go
    back, an end inside the repeated hour is its first occurrence unless ``now`` is already in the
    second; an end inside the skipped hour (clocks forward) falls as late as the gap is long.
    """
    if quiet is None:
        return None
    zone = zone_of(timezone)
    local = datetime.fromtimestamp(now / 1000, zone)
    minute = local.hour * 60 + local.minute
    start, end = minutes_of_day(quiet.start), minutes_of_day(quiet.end)
    inside = start <= minute < end if start < end else minute >= start or minute < end
    if not inside:
        return None
    return _next_wall_time(local.date(), divmod(end, 60), zone, now)


def _next_wall_time(day: date, hm: tuple[int, int], zone: ZoneInfo, now: int) -> int:
    """The first instant after ``now`` at which the clock in ``zone`` shows ``hm``.

    fold 0 first: of a repeated wall time it is the earlier instant, of a skipped one the later
    (after the gap), so the first candidate after ``now`` is the one wanted.
    """
    for offset in range(3):
        wall = datetime.combine(day + timedelta(days=offset), time(*hm))
        for fold in (0, 1):
            at = int(wall.replace(tzinfo=zone, fold=fold).timestamp() * 1000)
            if at > now:
                return at
    raise AssertionError("a wall time occurs within three days")  # pragma: no cover


@lru_cache(maxsize=1024)  # profiles may carry any text: bounded
def zone_of(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``; UTC when it is empty or unknown (a profile may carry anything)."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# -- history and budgets -------------------------------------------------------------------------


def record_contact(state: SubscriberState, at: int, trigger_id: str, offer_code: str,
                   channel: str, marketing: bool, *, horizon: int = MAX_POLICY_WINDOW) -> None:
    """Remember a sent offer in ``state.contacts`` (replaced, not mutated in place).

    Kept: entries younger than ``horizon`` at ``at`` (by default the longest window any policy
    may have, so whatever the live catalogue, nothing a rule needs is dropped; the wiring may pass
    :func:`horizon_of` for a tighter history), the newest :data:`MAX_CONTACTS` at most (the
    highest count a cap may have). Oldest first.
    """
    entry = [at, trigger_id, offer_code, channel.lower(), marketing]
    kept = [c for c in state.contacts if c[_AT] > at - horizon]
    kept.append(entry)
    kept.sort(key=lambda c: c[_AT])
    state.contacts = kept[-MAX_CONTACTS:]


def horizon_of(policy: PolicyDef) -> int:
    """How far back ``policy``'s rules look: its longest cap window or its dedupe window."""
    windows = [cap.within for caps in (policy.caps, *policy.channel_caps.values())
               for cap in caps]
    return max([policy.dedupe, *windows], default=0)


def budget_share(limit: int, partitions: int, partition: int) -> int:
    """The part of a daily budget of ``limit`` sends that ``partition`` (0-based, of
    ``partitions``) may spend: ``limit // partitions``, plus one for the first
    ``limit % partitions`` partitions. The shares add up to exactly ``limit``.

    Each partition counts its own sends in its state store (changelog-backed, written with the
    decision), so no coordination between workers is needed and a crash neither loses nor
    double-counts a send. The price: a partition whose subscribers use the offer more than the
    others' runs out while other partitions still have budget left, so on a busy day fewer than
    ``limit`` may be sent (never more). With a few hundred sends per partition a day the
    difference is small; a budget smaller than the partition count leaves some partitions
    with none.
    """
    if partitions < 1 or not 0 <= partition < partitions or limit < 0:
        raise ValueError(f"budget_share({limit}, {partitions}, {partition}): expected "
                         "limit >= 0 and 0 <= partition < partitions")
    return limit // partitions + (1 if partition < limit % partitions else 0)
