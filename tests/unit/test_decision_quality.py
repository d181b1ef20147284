"""Decision quality, parts 1 and 2 (docs/decision-quality.md): the decisions log the policy's
true action probabilities, and ``cjo evaluate`` estimates a candidate from them. Reduced runs of
the claims ``make quality`` proves in full (sim/quality)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from cjo.cli import main
from cjo.evaluate.candidate import Candidate
from cjo.evaluate.estimators import dr, effective_sample_size, ips, snips
from cjo.evaluate.evaluate import evaluate, render
from cjo.evaluate.logged import NoPropensities, read_log
from cjo.scoring import features
from cjo.scoring.argmax import argmax_probabilities
from sim.quality import world
from sim.quality.claims import behaviour_claims, offpolicy_claims


@pytest.mark.parametrize(("means", "sds"), [
    ([0.1, 0.3, -0.2], [0.5, 1.0, 0.4]),  # Gauss-Hermite
    ([0.0, 0.1, 0.2], [1.0, 0.05, 1.0]),  # a near-deterministic competitor: the grid
    ([0.0, 0.4], [0.7, 0.2]),  # two offers: closed form
    ([0.0, 0.1, 0.3], [1.0, 0.0, 0.5]),  # one without spread
])
def test_argmax_probabilities_are_the_samplers(means: list[float], sds: list[float]) -> None:
    rng, n = random.Random(1), 40_000
    wins = [0] * len(means)
    for _ in range(n):
        draws = [m + s * rng.gauss(0.0, 1.0) for m, s in zip(means, sds, strict=True)]
        wins[draws.index(max(draws))] += 1
    computed = argmax_probabilities(means, sds)
    assert sum(computed) == pytest.approx(1.0)
    for p, w in zip(computed, wins, strict=True):
        assert p == pytest.approx(w / n, abs=0.01)


def test_the_logged_probability_is_how_often_the_scorer_picks_it() -> None:
    scorer = world.trained(300, seed=4)
    s = world.population(1, 4)[0]
    feats = features(world.moment_of(s, 1), world.state_of(s))
    codes = list(world.OFFERS)
    picks = [scorer.choose(world.TRIGGER, codes, feats, f"seed-{i}") for i in range(3_000)]
    chances = picks[0].probabilities
    assert all(p.probabilities == chances for p in picks)  # deterministic per context
    for code in codes:
        assert sum(p.offer_code == code for p in picks) / 3_000 == pytest.approx(
            chances[code], abs=0.03)


def test_decisions_pass_the_horvitz_thompson_and_ips_checks() -> None:
    claims = list(behaviour_claims(full=False))
    assert len(claims) == 5  # three offers and the holdout, then the IPS check
    failed = [c for c in claims if not c.holds]
    assert not failed, failed


def test_the_dr_interval_covers_the_candidates_on_policy_take_up() -> None:
    coverage, error, _ess = offpolicy_claims(full=False)
    assert coverage.holds, coverage
    assert error.holds, error


def _decisions(size: int = 600) -> tuple[list[dict], list[dict]]:
    cat, scorer = world.catalogue(), world.trained(300, 2)
    decisions = list(world.days(cat, scorer, world.population(size, 2), 1, 1))
    rng = random.Random(3)
    outcomes = [{"offer_id": d["offer_id"], "responded": world.take_up(d, rng)}
                for d in decisions if d["outcome"] in ("SENT", "HOLDOUT")]
    return decisions, outcomes


def test_an_offer_never_logged_is_flagged_not_estimated_silently() -> None:
    decisions, outcomes = _decisions()
    candidate = world.catalogue(("PASS_1GB", "PASS_NEW"))
    ev = evaluate(read_log(decisions, outcomes), Candidate(candidate, world.trained(300, 2)))
    assert ev.never_logged == ["PASS_NEW"]
    assert ev.unsupported > 0.1
    text = render(ev, "new.yaml", "thompson")
    assert "never logged: PASS_NEW" in text and "DM only" in text and "warning:" in text


def test_a_log_without_probabilities_is_refused_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    decisions, outcomes = _decisions(50)
    old = [{k: v for k, v in d.items() if k not in ("action", "actions")} for d in decisions]
    with pytest.raises(NoPropensities, match="no action probabilities"):
        read_log(old, outcomes)
    (tmp_path / "d.jsonl").write_bytes(b"\n".join(orjson.dumps(d) for d in old))
    (tmp_path / "o.jsonl").write_bytes(b"\n".join(orjson.dumps(o) for o in outcomes))
    (tmp_path / "c.yaml").write_text(world.catalogue_text())
    code = main(["evaluate", "--catalogue", str(tmp_path / "c.yaml"), "--outcomes",
                 str(tmp_path / "o.jsonl"), str(tmp_path / "d.jsonl")])
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and "no action probabilities" in err


def test_cjo_evaluate_reads_a_decisions_file(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    decisions, outcomes = _decisions()
    (tmp_path / "d.jsonl").write_bytes(b"\n".join(orjson.dumps(d) for d in decisions))
    (tmp_path / "o.jsonl").write_bytes(b"\n".join(orjson.dumps(o) for o in outcomes))
    (tmp_path / "cand.yaml").write_text(world.catalogue_text(("PASS_1GB", "PASS_5GB")))
    assert main(["evaluate", "--catalogue", str(tmp_path / "cand.yaml"), "--policy", "greedy",
                 "--outcomes", str(tmp_path / "o.jsonl"), str(tmp_path / "d.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "600 decisions with a choice" in out
    for estimator in ("observed", "IPS", "SNIPS", "DR", "effective sample size"):
        assert estimator in out


def test_the_estimators_on_a_known_log() -> None:
    w, r = [2.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 1.0]
    assert ips(w, r).value == pytest.approx(0.75)
    assert snips(w, r).value == pytest.approx(0.75)
    assert dr(w, r, [0.5] * 4, [0.5] * 4).value == pytest.approx((1.5 + 0.5 + 0.0 + 1.0) / 4)
    assert effective_sample_size(w) == pytest.approx(16 / 6)
    assert ips(w, r).covers(0.75) and not ips(w, r).covers(5.0)


def test_blocked_held_out_and_sent_decisions_log_their_actions() -> None:
    cat = world.catalogue(holdout_pct=50.0)
    scorer = world.trained(300, 2)
    people = world.population(40, 2)
    decisions = [world.decide(cat, scorer, s, 1) for s in people]
    held = [d for d in decisions if d["outcome"] == "HOLDOUT"]
    sent = [d for d in decisions if d["outcome"] == "SENT"]
    assert held and sent
    for d in held + sent:
        chances = {a["action"]: a["probability"] for a in d["actions"]}
        assert set(chances) == {*world.OFFERS, "_holdout"}
        assert sum(chances.values()) == pytest.approx(1.0)
        assert chances["_holdout"] == pytest.approx(0.5)
        assert d["policy_version"] == f"thompson/{cat.digest}/1"
    assert all(d["action"] == "_holdout" for d in held)
    assert all(d["action"] == d["offer_code"] for d in sent)
    # no consent to the offer's only channel: suppressed after the choice, which it keeps
    from cjo.engine.effects import Effects
    from cjo.engine.settle import Context, settle

    s = people[0]
    moment = world.moment_of(s, 1)

    def decided(state: Any, now: int) -> dict[str, Any]:
        effects = Effects()
        settle([(cat.triggers[0], moment)], state, Context(cat, now, now, scorer), effects)
        (decision,) = effects.decisions
        return dict(decision)

    state = world.state_of(s)
    state.consent = {**state.consent, "sms": False}
    unsent = decided(state, moment.event_time)
    assert (unsent["outcome"], unsent["action"]) == ("SUPPRESSED", unsent["offer_code"])
    assert len(unsent["actions"]) == 4
    # acted on too late: blocked before any choice, sending nothing was the only action
    late = decided(world.state_of(s), moment.event_time + 2 * world.HOUR)
    assert late["outcome"] == "EXPIRED"
    assert (late["action"], late["actions"]) == ("_none", [{"action": "_none",
                                                            "probability": 1.0}])
