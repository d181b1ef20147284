"""Why a moment may not become an offer for this subscriber: every reason, not just the first.

Reasons are short stable strings, recorded on the decision: ``ineligible:age_band``,
``no_consent:location``, ``cooldown:1d``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from cjo.catalogue.model import Trigger
from cjo.state.model import SubscriberState
from cjo.triggers.kinds import KINDS
from cjo.triggers.moment import Moment


def blocking_reasons(trigger: Trigger, moment: Moment, state: SubscriberState) -> list[str]:
    rules = trigger.eligibility
    reasons = []
    if rules.payment_type and state.payment_type not in rules.payment_type:
        reasons.append("ineligible:payment_type")
    if rules.age_band and (state.age_band or "UNKNOWN") not in rules.age_band:
        reasons.append("ineligible:age_band")
    if rules.plan and not any(fnmatchcase(state.plan_id or "", p) for p in rules.plan):
        reasons.append("ineligible:plan")
    if rules.segment and state.segment not in rules.segment:
        reasons.append("ineligible:segment")
    if rules.where:
        attributes = state.attributes
        reasons.extend(f"ineligible:{name}" for name, test in rules.attribute_tests
                       if attributes.get(name) is None or not test(attributes[name]))
    needed: list[str] = list(rules.consent)
    needed += [c for c in KINDS[trigger.kind].consent if c not in needed]  # geofence: location
    reasons.extend(f"no_consent:{c}" for c in needed if not state.consent.get(c))
    last = state.last_fired.get(trigger.id)
    if trigger.cooldown and last is not None and moment.event_time - last < trigger.cooldown:
        reasons.append(f"cooldown:{format_duration(trigger.cooldown)}")
    return reasons


def format_duration(ms: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms % size == 0 and abs(ms) >= size:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def late_reason(late: int, trigger: Trigger) -> str:
    """``late:3h>1h``: how late a moment is acted on, past the trigger's ``max_delay``."""
    return f"late:{late_by(late, trigger.max_delay)}>{format_duration(trigger.max_delay)}"


def late_by(late: int, limit: int) -> str:
    """``late`` as coarsely as still shows it is over ``limit``: 3h20m over 1h is ``3h``,
    2h0m30s over 2h is ``2h30s`` (never ``2h`` over ``2h``)."""
    units = [(unit, size) for unit, size in _UNITS if late >= size]
    for depth in range(1, len(units) + 1):
        parts, rest, shown = [], late, 0
        for unit, size in units[:depth]:
            whole = rest // size
            rest -= whole * size
            shown += whole * size
            if whole:
                parts.append(f"{whole}{unit}")
        if shown > limit:
            return "".join(parts)
    return f"{late}ms"


_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1))


def rough_duration(ms: int) -> str:
    """``ms`` floored to its largest whole unit: 10_806_000 -> ``3h`` (for reasons people read)."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if abs(ms) >= size:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
