"""A candidate policy: for a logged context, the probability of each action it would take.

The candidate is a catalogue (its triggers' offers and its holdout share) and a way to choose
among a trigger's offers with a scorer (the latest models, or one learnt from the log itself):

- ``thompson``: what the engine does, P(argmax) of the Thompson draws (``Scorer.probabilities``);
- ``greedy``: the offer the scorer ranks first, always (the first listed on a tie);
- ``uniform``: every offer alike.

A marketing trigger holds out ``holdout_pct`` of the decisions (``_holdout``); a trigger the
candidate removed or disabled sends nothing (``_none``). Eligibility, consent and caps are
assumed to be those of the log (a candidate that changes them is not judged here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cjo.catalogue.catalogue import Catalogue
from cjo.evaluate.logged import HOLDOUT, NONE
from cjo.scoring import Scorer

POLICIES = ("thompson", "greedy", "uniform")


@dataclass(frozen=True, slots=True)
class Candidate:
    catalogue: Catalogue
    scorer: Scorer
    policy: str = "thompson"

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")

    def chances(self, trigger_id: str, feats: Mapping[str, float]) -> dict[str, float]:
        trigger = self.catalogue.get(trigger_id)
        if trigger is None or not trigger.enabled:
            return {NONE: 1.0}
        codes = [o.code for o in trigger.offers]
        if self.policy == "thompson":
            offers = self.scorer.probabilities(trigger_id, codes, feats)
        elif self.policy == "greedy":
            best = max(codes, key=lambda c: self.scorer.propensity(trigger_id, c, feats))
            offers = {c: float(c == best) for c in codes}
        else:
            offers = dict.fromkeys(codes, 1.0 / len(codes))
        held = self.catalogue.policy.holdout_pct / 100 if trigger.marketing else 0.0
        out = {c: (1.0 - held) * p for c, p in offers.items()}
        if held > 0:
            out[HOLDOUT] = held
        return out

    def value_of(self, trigger_id: str, action: str) -> float:
        """What a take-up of ``action`` is worth (its offer's catalogue value; 0 for none)."""
        trigger = self.catalogue.get(trigger_id)
        if trigger is None:
            return 0.0
        return next((o.value for o in trigger.offers if o.code == action), 0.0)
