"""From moments to decisions: scoring (the offer and its expected value), eligibility,
timeliness, consent and channel, contact policy, arbitration, holdout and budget, in that order.
Pure: what the decision needs is passed in; what it makes goes into the caller's ``Effects``.

Every moment ends in exactly one decision on ``cjo.decisions`` with every reason that applies:
``SUPPRESSED`` (eligibility, consent, cooldown, do-not-contact, caps, dedupe, arbitration,
budget), ``EXPIRED`` (acted on after ``max_delay``), ``DEFERRED`` (quiet hours: decided again
when they end), ``HOLDOUT`` (the control group: no offer, but its outcome is tracked) or
``SENT``. Competing moments of one record are arbitrated by expected value: propensity x offer
value x priority weight (priority / 50); the losers are ``SUPPRESSED`` with ``arbitration``.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from cjo.catalogue.attributes import COMMON
from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.model import OfferDef, Trigger
from cjo.clock import DAY_MS
from cjo.engine.effects import Effects
from cjo.engine.feedback import open_window
from cjo.offers import decision_id, destination, offer_id, render
from cjo.policy import blocking_reasons, contact_verdict, in_holdout, record_contact
from cjo.policy.eligibility import late_reason
from cjo.scoring import Scorer, features
from cjo.state.model import SubscriberState
from cjo.timers import Timer
from cjo.triggers.moment import Moment

DEFER_PREFIX = "deferred:"  # timer instances of moments deferred by quiet hours
NONE = "_none"  # the logged action of a decision that had no choice (blocked before one)
HOLDOUT = "_holdout"  # the logged action of a held-out decision


class Budget(Protocol):
    """Daily offer budgets, counted where the wiring keeps them (per partition)."""

    def spend(self, offer_code: str, day: int, limit: int) -> bool:
        """Count one send of ``offer_code`` on UTC ``day``; False when the budget is spent."""
        ...


class Context(NamedTuple):
    """What a decision is made with (a named tuple: one is made per record)."""

    catalogue: Catalogue
    # When the engine acts (epoch ms): what max_delay and quiet hours are measured against.
    # None (replays): the newest event time of the subscriber's own records, so lateness in a
    # replay does not depend on the replay's speed or on who else shares the partition.
    now: int | None
    ingested_at: int  # wall time the input (or the tick) reached the engine
    scorer: Scorer | None = None  # None: no model yet, the first offer of a trigger
    do_not_contact: Container[str] = frozenset()
    budget: Budget | None = None


@dataclass(slots=True)
class Candidate:
    trigger: Trigger
    moment: Moment
    spec: OfferDef
    channel: str
    base: dict[str, Any]
    value: float  # expected value: what arbitration ranks by


def settle(moments: list[tuple[Trigger, Moment]], state: SubscriberState, ctx: Context,
           effects: Effects) -> None:
    """One decision per moment into ``effects`` (with the offers sent and the timers of
    deferrals and response windows); ``state`` records the contacts and what waits."""
    if not moments:
        return
    viable = [c for t, m in moments if (c := _evaluate(t, m, state, ctx, effects)) is not None]
    marketing = sorted((c for c in viable if c.trigger.marketing),
                       key=lambda c: (-c.value, c.trigger.id))
    for loser in marketing[1:]:
        effects.decisions.append(_decision(loser.base, "SUPPRESSED", ["arbitration"]))
    for winner in [c for c in viable if not c.trigger.marketing] + marketing[:1]:
        _send_or_hold_out(winner, state, ctx, effects)


def deferred_moment(state: SubscriberState, instance: str) -> Moment | None:
    """The moment a quiet-hours timer stands for, taken out of the state."""
    entry = state.deferred.get(instance)
    if entry is None:
        return None
    state.deferred = {k: v for k, v in state.deferred.items() if k != instance}
    return Moment(entry["trigger"], entry["instance"], state.imsi, entry["event_id"],
                  entry["event_time"], entry["attrs"])


def _now(state: SubscriberState, ctx: Context) -> int:
    return state.last_event_time if ctx.now is None else ctx.now


def _evaluate(trigger: Trigger, moment: Moment, state: SubscriberState, ctx: Context,
              effects: Effects) -> Candidate | None:
    """The moment as a candidate for arbitration, or its decision (why it goes no further)."""
    feats = features(moment, state)
    codes = [o.code for o in trigger.offers]
    propensity: float | None = None
    version: int | None = None
    code = codes[0]
    chances = {c: float(c == code) for c in codes}  # no model: the first offer, always
    policy = "first"
    if ctx.scorer is not None:
        choice = ctx.scorer.choose(trigger.id, codes, feats, seed=f"{state.imsi}|"
                                   f"{moment.instance_key}")
        code, propensity, version = (choice.offer_code, choice.propensities[choice.offer_code],
                                     ctx.scorer.version)
        chances, policy = choice.probabilities, "thompson"
    spec = next(o for o in trigger.offers if o.code == code)
    value = (1.0 if propensity is None else propensity) * spec.value * trigger.priority / 50
    base = _base(trigger, moment, spec, state, ctx)
    base.update(score=value, propensity=propensity, model_version=version, features=feats,
                action=code, actions=_actions(trigger, chances, ctx.catalogue.policy.holdout_pct),
                policy_version=f"{policy}/{ctx.catalogue.digest}/{trigger.version}")
    reasons = blocking_reasons(trigger, moment, state)
    if reasons:
        effects.decisions.append(_decision(_no_choice(base), "SUPPRESSED", reasons))
        return None
    now = _now(state, ctx)
    late = now - moment.event_time
    if late > trigger.max_delay:
        effects.decisions.append(_decision(_no_choice(base), "EXPIRED",
                                           [late_reason(late, trigger)]))
        return None
    channels = [c for c in spec.channels if state.consent.get(c) and destination(state, c)]
    if not channels:
        effects.decisions.append(_decision(base, "SUPPRESSED", unreachable(spec, state)))
        return None
    capped: list[str] = []
    for channel in channels:
        verdict = contact_verdict(ctx.catalogue.policy, trigger, spec, channel, state,
                                  moment.event_time, now, state.imsi in ctx.do_not_contact)
        if verdict.outcome == "ALLOW":
            return Candidate(trigger, moment, spec, channel, base, value)
        if verdict.outcome == "SUPPRESSED" and all(
                r.startswith("channel_cap:") for r in verdict.reasons):
            capped.extend(verdict.reasons)
            continue
        if verdict.outcome == "DEFERRED" and verdict.until is not None:
            _defer(trigger, moment, verdict.until, state, effects)
            effects.decisions.append({**_decision(_no_choice(base), "DEFERRED",
                                                  list(verdict.reasons)),
                                     "deferred_until": verdict.until})
        else:
            effects.decisions.append(_decision(base, verdict.outcome, list(verdict.reasons)))
        return None
    effects.decisions.append(_decision(base, "SUPPRESSED", capped))
    return None


def unreachable(spec: OfferDef, state: SubscriberState) -> list[str]:
    """Why none of the offer's channels can reach her: ``no_consent:push,sms`` (the channels she
    has not consented to), ``no_address:email`` (consented, but no app id, MSISDN or e-mail)."""
    refused = [c for c in spec.channels if not state.consent.get(c)]
    unknown = [c for c in spec.channels if state.consent.get(c) and not destination(state, c)]
    return ([f"no_consent:{','.join(refused)}"] if refused else []) + (
        [f"no_address:{','.join(unknown)}"] if unknown else [])


def _actions(trigger: Trigger, chances: dict[str, float],
             holdout_pct: float) -> list[dict[str, Any]]:
    """The eligible actions and their probabilities under the deciding policy: each offer's
    chance of being chosen, scaled by the share not held out, and the holdout (a hash of the
    IMSI: over subscribers, a draw with probability ``holdout_pct`` independent of the context)
    for a marketing trigger. Suppressions after the choice (a channel without consent, a cap,
    the dedupe, the budget, arbitration) are what became of the chosen action, not other
    actions: the decision keeps that action, with reward 0."""
    held = holdout_pct / 100 if trigger.marketing else 0.0
    actions = [{"action": c, "probability": (1.0 - held) * p} for c, p in chances.items()]
    if held > 0:
        actions.append({"action": HOLDOUT, "probability": held})
    return actions


def _no_choice(base: dict[str, Any]) -> dict[str, Any]:
    """A decision blocked before any offer could be chosen (eligibility, consent, cooldown,
    lateness, quiet hours): sending nothing was the only action."""
    return {**base, "action": NONE, "actions": [{"action": NONE, "probability": 1.0}]}


def _defer(trigger: Trigger, moment: Moment, until: int, state: SubscriberState,
           effects: Effects) -> None:
    key = DEFER_PREFIX + moment.instance
    state.deferred = {**state.deferred, key: {
        "trigger": trigger.id, "instance": moment.instance, "event_id": moment.event_id,
        "event_time": moment.event_time, "attrs": dict(moment.attrs)}}
    effects.schedule(Timer(until, state.imsi, trigger.id, key))


def _send_or_hold_out(c: Candidate, state: SubscriberState, ctx: Context,
                      effects: Effects) -> None:
    """A winner of arbitration: held out (a marketing offer to the control group), refused by
    the offer's daily budget, or sent; a response window opens for the held out and the sent."""
    policy = ctx.catalogue.policy
    feats, version = c.base["features"], c.base["model_version"]
    if c.trigger.marketing and in_holdout(state.imsi, policy):  # service messages: never
        decision = _decision({**c.base, "action": HOLDOUT}, "HOLDOUT",
                             [f"holdout:{policy.holdout_pct:g}%"])
        effects.decisions.append(decision)
        state.last_fired = {**state.last_fired, c.trigger.id: c.moment.event_time}
        effects.schedule(open_window(state, decision, "HOLDOUT", feats, version,
                                     policy.response_window))
        return
    now = _now(state, ctx)
    if c.spec.budget_per_day and ctx.budget is not None and not ctx.budget.spend(
            c.spec.code, now // DAY_MS, c.spec.budget_per_day):
        effects.decisions.append(_decision(c.base, "SUPPRESSED", [
            f"budget:{c.spec.code}:{c.spec.budget_per_day}/day"]))
        return
    offer = {**c.base, **_message(c, state, ctx.catalogue), "channel": c.channel.upper(),
             "destination": destination(state, c.channel)}
    state.last_fired = {**state.last_fired, c.trigger.id: c.moment.event_time}
    record_contact(state, now, c.trigger.id, c.spec.code, c.channel, c.trigger.marketing)
    effects.offers.append(offer)
    decision = _decision(offer, "SENT", [f"channel:{c.channel}"])
    effects.decisions.append(decision)
    effects.schedule(open_window(state, decision, "TREATED", feats, version,
                                 policy.response_window))


def _base(trigger: Trigger, moment: Moment, spec: OfferDef, state: SubscriberState,
          ctx: Context) -> dict[str, Any]:
    return {
        "offer_id": offer_id(state.imsi, trigger.id, moment.instance), "imsi": state.imsi,
        "trigger_id": trigger.id, "offer_code": spec.code,
        "trigger_event_id": moment.event_id, "trigger_time": moment.event_time,
        "ingested_at": ctx.ingested_at,
        "published_at": ctx.ingested_at,  # the wiring stamps the real publication time
        "valid_until": moment.event_time + spec.validity,
        "reason": spec.reason or trigger.description or trigger.id,
    }


def _message(c: Candidate, state: SubscriberState, catalogue: Catalogue) -> dict[str, Any]:
    valid_until = c.base["valid_until"]
    # her profile attributes first: a kind's placeholder of the same name wins
    attributes = {name: state.attributes.get(name, a.default)
                  for name, a in catalogue.attributes.items()}
    values = {**attributes, **COMMON, **c.moment.attrs, "offer_code": c.spec.code,
              "offer_value": f"{c.spec.value:.2f}", "valid_days": c.spec.validity // DAY_MS,
              "valid_until": datetime.fromtimestamp(valid_until / 1000, UTC).strftime("%Y-%m-%d")}
    message, language = render(c.spec.templates, state.language, values)
    return {"message": message, "language": language}


def _decision(base: dict[str, Any], outcome: str, reasons: list[str]) -> dict[str, Any]:
    return {**base, "decision_id": decision_id(base["offer_id"], outcome),
            "outcome": outcome, "reasons": reasons}
