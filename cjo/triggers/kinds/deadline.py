"""deadline: a timer at an anchor + ``offset`` that fires if the state still calls for it.

Anchors:

- ``trial_expiry``: on a profile, every ACTIVE trial whose product matches ``products`` (globs)
  gets a timer at ``expires_at + offset``, instance ``<product_id>-<expires_at>``; it fires only if
  that trial is still ACTIVE in the state then (a converted or cancelled trial does not).
- ``contract_end``: on a profile, a timer at the contract end (00:00 UTC of that day) + offset,
  instance ``contract-<days since epoch>``; it fires only if the end date is unchanged.
- ``moment``: a moment of ``params.trigger`` in the same record gets a timer at its event time +
  offset, with its instance; with ``unless: topup`` it fires only if no top-up happened since
  (a ``topup`` fact seen after the moment, or a newer, higher balance in the state).

A due time before the record's event time is requested at the record's event time with
``catch_up`` if the anchor itself is still ahead (the moment's time is then that), and skipped
otherwise: an anchor first seen too
late is not announced late (and not audited as expired either). The memory remembers the anchors
already requested (pruned to those still in the state), so a re-sent profile asks for nothing
again, and the pending moment anchors (at most ``MAX_PENDING``, oldest dropped).
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from cjo.catalogue.model import DeadlineParams, Trigger, Venue
from cjo.state.model import SubscriberState
from cjo.triggers import facts as fact_rules
from cjo.triggers.kinds.base import BaseKind, Detection, Example, TimerRequest, example_record
from cjo.triggers.moment import Moment
from cjo.triggers.timefmt import DAY_MS, format_day, format_minute

if TYPE_CHECKING:
    from cjo.triggers.kinds.base import Checks, Memory, Observation

MAX_PENDING = 16

_SAMPLES: dict[str, dict[str, Any]] = {
    "trial_expiry": {"product_id": "gaming_pass_1d", "expires_at": "2026-01-02 18:00 UTC"},
    "contract_end": {"contract_end": "2026-03-01", "days_left": 60},
}
_T0 = 20_454 * DAY_MS  # 2026-01-01


class Deadline(BaseKind[DeadlineParams]):
    name = "deadline"
    model = DeadlineParams
    streams = frozenset({"subscribers"})
    sees_moments = True
    examples: tuple[Example, ...] = (
        Example("trial_expiry", {"anchor": "trial_expiry", "offset": "-2h"}, (
            example_record("subscribers", _T0, trials=[
                {"product_id": "gaming_1d", "expires_at": _T0 + DAY_MS, "status": "ACTIVE"}]),),
                until=_T0 + DAY_MS),
        Example("contract_end", {"anchor": "contract_end", "offset": "-60d", "catch_up": True},
                (example_record("subscribers", _T0, contract_end=20_513),), until=_T0 + DAY_MS),
        Example("moment", {"anchor": "moment", "trigger": "low", "offset": "1h"},
                (example_record("charging", _T0, balance=5.0),
                 example_record("charging", _T0 + 1, balance=1.0)), until=_T0 + DAY_MS,
                others=({"id": "low", "kind": "threshold",
                         "params": {"measure": "balance", "below": 2}},)),
    )

    def reads(self, params: DeadlineParams, stream: str) -> bool:
        # anchored on another trigger's moment, which any record may bring
        return params.anchor == "moment" or stream in self.streams

    def samples(self, params: DeadlineParams) -> dict[str, Any]:
        if params.anchor == "moment":
            return {"trigger": params.trigger}
        return dict(_SAMPLES[params.anchor])

    def validate(self, trigger_id: str, params: DeadlineParams, check: Checks) -> None:
        anchor = params.trigger
        if params.anchor != "moment" or anchor is None:
            return
        if anchor == trigger_id:
            check.refuse(("params", "trigger"), "a deadline cannot anchor on its own moments")
        else:
            check.reference(("params", "trigger"), "trigger", anchor)

    def on_event(self, trigger: Trigger, obs: Observation, memory: Memory,
                 venues: Mapping[str, Venue]) -> Detection:
        params = self.params(trigger)
        if params.anchor == "moment":
            return _on_moments(trigger.id, params, obs, memory)
        if obs.stream != "subscribers":
            return Detection()
        anchors = _anchors(params, obs.after)
        requested: dict[str, int] = memory.get("requested", {})
        found = Detection()
        for instance, due in anchors.items():
            if instance in requested:
                continue
            timer = _timer(params, due, instance, obs.event_time)
            if timer is not None:
                found.timers.append(timer)
        kept = {i: requested.get(i, d) for i, d in anchors.items()}
        if kept != requested:
            found.memory = {"requested": kept}
        return found

    def on_timer(self, trigger: Trigger, due: int, instance: str, state: SubscriberState,
                 memory: Memory, venues: Mapping[str, Venue]) -> Detection:
        params = self.params(trigger)
        if params.anchor == "moment":
            return _fire_moment(trigger.id, params, due, instance, state, memory)
        attrs = _trial_attrs(params, state, instance) if params.anchor == "trial_expiry" else (
            _contract_attrs(state, instance, due))
        if attrs is None:
            return Detection()
        return Detection(moments=[Moment(trigger_id=trigger.id, instance=instance,
                                         imsi=state.imsi, event_id=f"timer-{due}",
                                         event_time=due, attrs=attrs)])


def _timer(params: DeadlineParams, due: int, instance: str, now: int) -> TimerRequest | None:
    """``catch_up`` only while the anchor itself is still ahead: a contract that ended months
    ago is not "60 days before its end"."""
    if due < now:
        anchor_ahead = due - params.offset > now
        return TimerRequest(now, instance) if params.catch_up and anchor_ahead else None
    return TimerRequest(due, instance)


def _anchors(params: DeadlineParams, state: SubscriberState) -> dict[str, int]:
    """Instance -> due time of every anchor the state holds now."""
    if params.anchor == "contract_end":
        if state.contract_end is None:
            return {}
        return {f"contract-{state.contract_end}": state.contract_end * DAY_MS + params.offset}
    return {_trial_instance(t): int(t["expires_at"]) + params.offset
            for t in state.trials if _wanted_trial(params, t)}


def _trial_instance(trial: Mapping[str, Any]) -> str:
    return f"{trial['product_id']}-{trial['expires_at']}"


def _wanted_trial(params: DeadlineParams, trial: Mapping[str, Any]) -> bool:
    product = trial.get("product_id")
    return (trial.get("status") == "ACTIVE" and product is not None
            and trial.get("expires_at") is not None
            and any(fnmatchcase(str(product), glob) for glob in params.products))


def _trial_attrs(params: DeadlineParams, state: SubscriberState,
                 instance: str) -> dict[str, Any] | None:
    for trial in state.trials:
        if _wanted_trial(params, trial) and _trial_instance(trial) == instance:
            return {"product_id": trial["product_id"],
                    "expires_at": format_minute(int(trial["expires_at"]))}
    return None


def _contract_attrs(state: SubscriberState, instance: str, due: int) -> dict[str, Any] | None:
    end = state.contract_end
    if end is None or f"contract-{end}" != instance:
        return None
    return {"contract_end": format_day(end), "days_left": -((due - end * DAY_MS) // DAY_MS)}


def _on_moments(trigger_id: str, params: DeadlineParams, obs: Observation,
                memory: Memory) -> Detection:
    pending: dict[str, dict[str, Any]] = dict(memory.get("pending", {}))
    changed = False
    for fact in obs.facts:
        if fact.name == fact_rules.TOPUP:
            for instance, anchor in pending.items():
                if fact.at > anchor["at"] and not anchor["topped_up"]:
                    pending[instance] = {**anchor, "topped_up": True}
                    changed = True
    found = Detection()
    for moment in obs.moments:
        if moment.trigger_id != params.trigger or moment.trigger_id == trigger_id:
            continue
        timer = _timer(params, moment.event_time + params.offset, moment.instance,
                       obs.event_time)
        if timer is None:
            continue
        found.timers.append(timer)
        pending[moment.instance] = {"at": moment.event_time, "balance": obs.after.balance,
                                    "balance_at": obs.after.balance_at, "topped_up": False}
        changed = True
    while len(pending) > MAX_PENDING:
        del pending[min(pending, key=lambda i: pending[i]["at"])]
    if changed:
        found.memory = {**memory, "pending": pending}
    return found


def _fire_moment(trigger_id: str, params: DeadlineParams, due: int, instance: str,
                 state: SubscriberState, memory: Memory) -> Detection:
    pending: dict[str, dict[str, Any]] = dict(memory.get("pending", {}))
    anchor = pending.pop(instance, None)
    found = Detection(memory={**memory, "pending": pending})
    if anchor is None or (params.unless == "topup" and _topped_up(anchor, state)):
        return found
    found.moments.append(Moment(trigger_id=trigger_id, instance=instance, imsi=state.imsi,
                                event_id=f"timer-{due}", event_time=due,
                                attrs={"trigger": params.trigger}))
    return found


def _topped_up(anchor: Mapping[str, Any], state: SubscriberState) -> bool:
    if anchor["topped_up"]:
        return True
    was = anchor["balance"]
    return (state.balance is not None and was is not None
            and state.balance_at > anchor["balance_at"] and state.balance > was)
