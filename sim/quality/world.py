"""The proofs' world: a population in three segments, one marketing trigger with three offers,
the true acceptance probability of each (``HIDDEN``), and decisions made by the engine's own
``settle`` (the code that writes ``cjo.decisions``), so what is checked is what is logged."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from cjo.catalogue.catalogue import Catalogue
from cjo.catalogue.validate import load_catalogue
from cjo.engine.effects import Effects
from cjo.engine.settle import Context, settle
from cjo.scoring import Scorer, features
from cjo.state.model import SubscriberState
from cjo.triggers.moment import Moment
from sim.responder import HiddenPropensities

TRIGGER = "quality_offer"
OFFERS = ("PASS_1GB", "PASS_5GB", "PASS_DAY")
SEGMENTS = ("youth", "business", "family")
HIDDEN = HiddenPropensities({
    "PASS_1GB": {"youth": 0.10, "business": 0.30, "family": 0.20},
    "PASS_5GB": {"youth": 0.45, "business": 0.10, "family": 0.25},
    "PASS_DAY": {"youth": 0.20, "business": 0.15, "family": 0.30},
})
T0 = 1_767_225_600_000  # 2026-01-01T00:00Z
HOUR = 3_600_000


def catalogue(offers: Sequence[str] = OFFERS, holdout_pct: float = 10.0) -> Catalogue:
    return load_catalogue([("quality.yaml", catalogue_text(offers, holdout_pct))])


def catalogue_text(offers: Sequence[str] = OFFERS, holdout_pct: float = 10.0) -> str:
    listed = "\n".join(f"      - {{code: {c}, value: 5, channels: [sms], "
                       f"templates: {{en: \"{c}\"}}}}" for c in offers)
    text = f"""\
policy: {{caps: [{{count: 60, within: 1d}}], quiet_hours: null, dedupe: 0,
          holdout_pct: {holdout_pct:g}}}
triggers:
  - id: {TRIGGER}
    kind: transition
    params: {{attribute: network, from: home, to: foreign}}
    offers:
{listed}
"""
    return text


@dataclass(frozen=True, slots=True)
class Subscriber:
    imsi: str
    segment: str


def population(size: int, seed: int) -> list[Subscriber]:
    rng = random.Random(seed)
    return [Subscriber(f"9{seed % 100:02d}{n:012d}", rng.choice(SEGMENTS)) for n in range(size)]


def state_of(s: Subscriber) -> SubscriberState:
    return SubscriberState(imsi=s.imsi, msisdn="447700900001", segment=s.segment,
                           consent={"sms": True, "email": False, "push": False,
                                    "location": False}, last_event_time=T0)


def moment_of(s: Subscriber, day: int) -> Moment:
    at = T0 + day * 24 * HOUR + 12 * HOUR
    return Moment(TRIGGER, f"day{day}", s.imsi, f"e-{s.imsi}-{day}", at)


def decide(cat: Catalogue, scorer: Scorer | None, s: Subscriber, day: int) -> dict[str, Any]:
    """The decision the engine makes for ``s`` on ``day`` (its moment, its state, nothing else)."""
    moment = moment_of(s, day)
    effects = Effects()
    settle([(cat.triggers[0], moment)], state_of(s), Context(cat, moment.event_time,
                                                           moment.event_time, scorer), effects)
    (decision,) = effects.decisions
    return decision


def days(cat: Catalogue, scorer: Scorer | None, people: Sequence[Subscriber], first: int,
         count: int) -> Iterator[dict[str, Any]]:
    for day in range(first, first + count):
        for s in people:
            yield decide(cat, scorer, s, day)


def take_up(decision: dict[str, Any], rng: random.Random,
            hidden: HiddenPropensities = HIDDEN) -> bool:
    """Did she take the offer up (a positive response)? Held out or not sent: no. One draw,
    always, so the same seed gives the same answers whatever was decided."""
    draw = rng.random()
    if decision["outcome"] != "SENT":
        return False
    segment = next(k[4:] for k, v in decision["features"].items() if k.startswith("seg=") and v)
    return draw < hidden.p_accept(decision["offer_code"], segment)


def true_take_up(decision: dict[str, Any], hidden: HiddenPropensities = HIDDEN) -> float:
    if decision["outcome"] != "SENT":
        return 0.0
    segment = next(k[4:] for k, v in decision["features"].items() if k.startswith("seg=") and v)
    return hidden.p_accept(decision["offer_code"], segment)


def trained(examples: int, seed: int, hidden: HiddenPropensities = HIDDEN,
            offers: Sequence[str] = OFFERS) -> Scorer:
    """A scorer that learnt ``examples`` responses to offers picked at random: still unsure,
    so its Thompson sampling explores (every offer keeps a fair chance)."""
    rng = random.Random(seed)
    scorer = Scorer()
    people = population(500, seed)
    for i in range(examples):
        s = people[i % len(people)]
        code = rng.choice(list(offers))
        feats = features(moment_of(s, 0), state_of(s))
        scorer.learn(TRIGGER, code, feats, rng.random() < hidden.p_accept(code, s.segment))
    return scorer
