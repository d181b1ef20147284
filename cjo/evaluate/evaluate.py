"""``cjo evaluate``: the logging policy's observed take-up against a candidate's IPS, SNIPS and
DR estimates, with the diagnostics that say when not to trust them (docs/decision-quality.md):
effective sample size, largest weight, the unsupported share (the candidate's probability mass
on actions the log gave no chance, averaged over decisions) and the offers never logged at all
(estimated by the reward model alone: "DM only")."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from cjo.catalogue.catalogue import Catalogue
from cjo.evaluate.candidate import Candidate
from cjo.evaluate.estimators import Estimate, dr, effective_sample_size, ips, snips
from cjo.evaluate.logged import HOLDOUT, NONE, Log
from cjo.scoring import Scorer

ESS_WARN = 0.05  # share of the log: an effective sample size below it says "do not trust"


@dataclass(frozen=True, slots=True)
class Evaluation:
    decisions: int
    no_choice: int
    pending: int
    observed: Estimate  # the logging policy's own mean take-up
    observed_value: Estimate
    ips: Estimate
    snips: Estimate
    dr: Estimate
    dr_value: Estimate
    ess: float
    max_weight: float
    unsupported: float  # mean candidate mass on actions the log gave probability 0
    never_logged: list[str]  # candidate actions no logged decision gave a chance


def reward_model(log: Log) -> Scorer:
    """P(take-up | trigger, offer, context) learnt from the logged offers (the holdout's and
    nothing's take-up is 0 by definition: no offer, nothing to take)."""
    model = Scorer()
    for item in log.items:
        if item.action not in (HOLDOUT, NONE):
            model.learn(item.trigger_id, item.action, item.features, item.reward > 0)
    return model


def q(model: Scorer, trigger_id: str, action: str, feats: Mapping[str, float]) -> float:
    if action in (HOLDOUT, NONE):
        return 0.0
    return model.propensity(trigger_id, action, feats)


def evaluate(log: Log, candidate: Candidate, model: Scorer | None = None,
             current: Catalogue | None = None) -> Evaluation:
    """``model``: the reward model (None: learnt from the log); ``current``: the catalogue the
    log was decided with, for the value of offers the candidate dropped (None: worth 0)."""
    if not log.items:
        raise ValueError("no decided, closed decisions with a choice to evaluate")
    model = model if model is not None else reward_model(log)
    w, r, rv, q_taken, q_pol, q_pol_v, q_taken_v = [], [], [], [], [], [], []
    def worth(trigger_id: str, action: str) -> float:
        value = candidate.value_of(trigger_id, action)
        if value == 0.0 and current is not None:
            value = Candidate(current, candidate.scorer).value_of(trigger_id, action)
        return value

    unsupported = 0.0
    supported: set[str] = set()
    wanted: set[str] = set()
    for item in log.items:
        supported.update(a for a, p in item.chances.items() if p > 0)
        pe = candidate.chances(item.trigger_id, item.features)
        wanted.update(a for a, p in pe.items() if p > 0)
        unsupported += sum(p for a, p in pe.items() if item.chances.get(a, 0.0) <= 0.0)
        weight = pe.get(item.action, 0.0) / item.probability
        value = worth(item.trigger_id, item.action)
        qa = q(model, item.trigger_id, item.action, item.features)
        qs = {a: q(model, item.trigger_id, a, item.features) for a in pe}
        w.append(weight)
        r.append(item.reward)
        rv.append(item.reward * value)
        q_taken.append(qa)
        q_taken_v.append(qa * value)
        q_pol.append(sum(p * qs[a] for a, p in pe.items()))
        q_pol_v.append(sum(p * qs[a] * candidate.value_of(item.trigger_id, a)
                           for a, p in pe.items()))
    n = len(log.items)
    logged_value = [item.reward * worth(item.trigger_id, item.action)
                    for item in log.items]
    return Evaluation(
        decisions=n, no_choice=log.no_choice, pending=log.pending,
        observed=ips([1.0] * n, r), observed_value=ips([1.0] * n, logged_value),
        ips=ips(w, r).within(0.0, 1.0), snips=snips(w, r).within(0.0, 1.0),
        dr=dr(w, r, q_taken, q_pol).within(0.0, 1.0),
        dr_value=dr(w, rv, q_taken_v, q_pol_v).within(0.0, math.inf),
        ess=effective_sample_size(w), max_weight=max(w), unsupported=unsupported / n,
        never_logged=sorted(wanted - supported - {NONE}))


def _interval(e: Estimate, digits: int = 4) -> str:
    return f"{e.value:.{digits}f}  [{e.low:.{digits}f}, {e.high:.{digits}f}]"


def render(ev: Evaluation, candidate_name: str, policy: str) -> str:
    lines = [
        f"{ev.decisions:,} decisions with a choice ({ev.no_choice:,} where sending nothing was "
        f"the only action, {ev.pending:,} with their response window still open: left out)",
        f"{'policy':<34} {'estimator':<9} {'take-up  [95% interval]':<28} value  [95% interval]",
        f"{'current (as logged)':<34} {'observed':<9} {_interval(ev.observed):<28} "
        f"{_interval(ev.observed_value, 3)}",
    ]
    name = f"candidate {candidate_name} ({policy})"
    lines.append(f"{name:<34} {'IPS':<9} {_interval(ev.ips)}")
    lines.append(f"{'':<34} {'SNIPS':<9} {_interval(ev.snips)}")
    lines.append(f"{'':<34} {'DR':<9} {_interval(ev.dr):<28} {_interval(ev.dr_value, 3)}")
    lines.append(f"effective sample size {ev.ess:,.0f} of {ev.decisions:,}; largest weight "
                 f"{ev.max_weight:.1f}; unsupported share {ev.unsupported:.1%}")
    if ev.never_logged:
        lines.append(f"never logged: {', '.join(ev.never_logged)}: no decision gave it a "
                     f"chance, estimated by the reward model only (DM only, not checked)")
    if ev.unsupported > 0 or ev.ess < ESS_WARN * ev.decisions:
        lines.append("warning: the candidate goes where the log did not (unsupported share "
                     "above 0, or an effective sample size under 5% of the log): IPS and SNIPS "
                     "are biased there, DR rests on the reward model")
    return "\n".join(lines)
