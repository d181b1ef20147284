"""Inbound next best offer: the offers a subscriber who asks (opens the app, calls care) may be
given now, ranked; nothing is sent and her state does not change.

The same catalogue, policy and models as the triggered path (``cjo.engine.settle``), for every
enabled marketing trigger as if its moment were now: the trigger's eligibility (payment type, age
band, plan, segment, the consents its kind needs, its cooldown), the contact policy's blocking
reasons (do-not-contact, frequency caps; not quiet hours and not a channel's consent or caps: she
asked, in a channel of her own choosing), the holdout (the control group gets no marketing offer,
or the uplift could not be measured), and each offer's expected value, ranked as arbitration
ranks: propensity x offer value x priority weight (priority / 50), the model's propensity when a
model for the trigger is published, else the offer's value alone.

``default_answer``: what any worker may answer without her state (a rebalance, the owner not
answering): the catalogue's offers by value and priority alone, marked degraded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.model import Trigger
from cjo.engine.runner import Knowledge
from cjo.offers import decision_id, offer_id
from cjo.policy import blocking_reasons, in_holdout
from cjo.policy.contact import blocking
from cjo.scoring import features
from cjo.state.model import SubscriberState
from cjo.triggers.moment import Moment

INBOUND = "INBOUND"  # the outcome of an inbound answer on cjo.decisions
INBOUND_TRIGGER = "inbound"  # its trigger id when nothing is offered
MAX_OFFERS = 5


@dataclass(frozen=True, slots=True)
class Ranked:
    trigger_id: str
    offer_code: str
    score: float  # expected value: what the ranking is by
    propensity: float | None  # None: no model for the trigger yet
    value: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"trigger_id": self.trigger_id, "offer_code": self.offer_code,
                "score": round(self.score, 6), "propensity": self.propensity,
                "value": self.value, "reason": self.reason}


@dataclass(slots=True)
class Answer:
    offers: list[Ranked] = field(default_factory=list)  # best first
    not_eligible: dict[str, list[str]] = field(default_factory=dict)  # trigger -> reasons
    model_version: int | None = None
    features: dict[str, float] = field(default_factory=dict)


def rank(state: SubscriberState, knowledge: Knowledge, now: int,
         limit: int = MAX_OFFERS) -> Answer:
    """Her offers, best first (see the module); ``state`` is not changed."""
    catalogue = knowledge.catalogue
    scorer = knowledge.scorer
    answer = Answer(model_version=None if scorer is None else scorer.version)
    if in_holdout(state.imsi, catalogue.policy):
        answer.not_eligible = {t.id: [f"holdout:{catalogue.policy.holdout_pct:g}%"]
                               for t in _marketing(catalogue)}
        return answer
    blocked = state.imsi in knowledge.do_not_contact
    ranked: list[Ranked] = []
    for trigger in _marketing(catalogue):
        moment = Moment(trigger.id, "inbound", state.imsi, "inbound", now)
        reasons = blocking_reasons(trigger, moment, state)
        feats = features(moment, state)
        answer.features = feats
        for spec in trigger.offers:
            why = reasons + blocking(catalogue.policy, trigger, spec, "inbound", state.contacts,
                                     now, blocked)
            if why:
                answer.not_eligible.setdefault(trigger.id, sorted(set(why)))
                continue
            propensity = (None if scorer is None or trigger.id not in scorer.model_ids()
                          else scorer.propensity(trigger.id, spec.code, feats))
            score = (1.0 if propensity is None else propensity) * spec.value \
                * trigger.priority / 50
            ranked.append(Ranked(trigger.id, spec.code, score, propensity, spec.value,
                                 spec.reason or trigger.description or trigger.id))
    ranked.sort(key=lambda r: (-r.score, r.trigger_id, r.offer_code))
    answer.offers = ranked[:limit]
    return answer


def default_answer(catalogue: Catalogue, limit: int = MAX_OFFERS) -> list[Ranked]:
    """Without her state: the enabled marketing offers by value and priority alone."""
    ranked = [Ranked(t.id, o.code, o.value * t.priority / 50, None, o.value,
                     o.reason or t.description or t.id)
              for t in _marketing(catalogue) for o in t.offers]
    ranked.sort(key=lambda r: (-r.score, r.trigger_id, r.offer_code))
    return ranked[:limit]


def decision(imsi: str, answer: Answer, request_id: str, now: int) -> dict[str, Any]:
    """The answer as a decision on ``cjo.decisions`` (outcome ``INBOUND``): the top offer, every
    offer given as a reason ``offered:<trigger>/<code>``, and the features it was ranked on."""
    top = answer.offers[0] if answer.offers else None
    oid = offer_id(imsi, top.trigger_id if top else INBOUND_TRIGGER, f"inbound:{request_id}")
    reasons = [f"offered:{r.trigger_id}/{r.offer_code}" for r in answer.offers] or [
        "nothing_eligible"]
    return {"offer_id": oid, "decision_id": decision_id(oid, INBOUND), "imsi": imsi,
            "trigger_id": top.trigger_id if top else INBOUND_TRIGGER,
            "offer_code": top.offer_code if top else None,
            "score": top.score if top else None,
            "propensity": top.propensity if top else None,
            "model_version": answer.model_version,
            "trigger_event_id": f"inbound:{request_id}", "trigger_time": now,
            "ingested_at": now, "published_at": now, "reason": top.reason if top else None,
            "outcome": INBOUND, "reasons": reasons, "features": answer.features}


def _marketing(catalogue: Catalogue) -> list[Trigger]:
    return [t for t in catalogue.enabled() if t.marketing and t.offers]
