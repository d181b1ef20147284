"""``cjo evaluate``: a candidate catalogue judged on logged decisions (``cjo.evaluate``).

The decisions come from a JSON Lines file (what ``--decisions`` writes; the rewards then from
``--outcomes``, JSON lines of Outcome records), or from the broker: ``cjo.decisions`` and
``cjo.outcomes`` read to their end, the newest models snapshot (``cjo.models``) as the scorer
the candidate decides with, and the live catalogue as the current one. Without a snapshot (a
file, or a broker whose learner published none) the candidate decides with the reward model
learnt from the log itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

import orjson

from cjo.adapters.audit_commands import _Reader
from cjo.adapters.catalogue_topic import fallback_catalogue, read_live
from cjo.adapters.control_topics import read_models
from cjo.catalogue.catalogue import Catalogue
from cjo.control_records import models_key
from cjo.errors import ConfigError
from cjo.evaluate.candidate import Candidate
from cjo.evaluate.evaluate import evaluate, render, reward_model
from cjo.evaluate.logged import read_log
from cjo.report.calibration import calibrations
from cjo.report.segments import segment_uplift
from cjo.scoring import Scorer
from cjo.settings import Settings


def read_jsonl(path: Path, what: str) -> list[dict[str, Any]]:
    rows = []
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as err:
                raise ConfigError(f"{path}:{number}: not a JSON line ({what}): {err}") from None
            if not isinstance(row, dict):
                raise ConfigError(f"{path}:{number}: {what} must be JSON objects")
            rows.append(row)
    return rows


def from_broker(settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                              Scorer | None, Catalogue]:
    reader = _Reader(settings)
    try:
        decisions = reader.read(settings.topics["decisions"], "Decision")
        outcomes = reader.read(settings.topics["outcomes"], "Outcome")
    finally:
        reader.close()
    snapshot = read_models(settings).value
    scorer = Scorer.from_bytes(snapshot, models_key(settings)) if snapshot else None
    live = read_live(settings).catalogue
    return decisions, outcomes, scorer, live or fallback_catalogue(settings)


def quality_lines(decisions: list[dict[str, Any]] | Any, outcomes: list[dict[str, Any]] | Any,
                  catalogue: Catalogue) -> list[str]:
    """The demo's decision-quality summary: uplift per segment, calibration per offer, and one
    ``cjo evaluate`` line (the same catalogue, choosing uniformly among each trigger's offers)."""
    decisions, outcomes = list(decisions), list(outcomes)
    lines = ["decision quality (cjo report, cjo evaluate; docs/decision-quality.md):"]
    for row in segment_uplift(decisions, outcomes):
        lines.append(f"  uplift {row.trigger_id}/{row.segment}: {row.uplift * 100:+.1f}pp "
                     f"[{row.low * 100:+.1f}, {row.high * 100:+.1f}] ({row.treated} treated, "
                     f"{row.held} held out) {row.verdict}")
    for c in calibrations(decisions, outcomes):
        lines.append(f"  calibration {c.trigger_id}/{c.offer_code}: ECE {c.ece:.3f}, Brier "
                     f"{c.brier:.3f} over {c.n} sent offers")
    try:
        log = read_log(decisions, outcomes, "the demo's decisions")
        ev = evaluate(log, Candidate(catalogue, reward_model(log), "uniform"))
        lines.append(f"  cjo evaluate (this catalogue, uniform among offers): DR take-up "
                     f"{ev.dr.value:.3f} [{ev.dr.low:.3f}, {ev.dr.high:.3f}] vs "
                     f"{ev.observed.value:.3f} as logged; ESS {ev.ess:,.0f} of {ev.decisions:,}")
    except (ConfigError, ValueError) as err:
        lines.append(f"  cjo evaluate: {err}")
    if len(lines) == 1:
        lines.append("  no response window closed yet: nothing to measure")
    return lines


def run_evaluate(candidate: Catalogue, name: str, policy: str, decisions: list[dict[str, Any]],
                 outcomes: list[dict[str, Any]], source: str, scorer: Scorer | None = None,
                 current: Catalogue | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    log = read_log(decisions, outcomes, source)
    if not log.items:
        raise ConfigError(f"{source}: no decision with a choice and a closed response window "
                          f"({len(decisions)} decisions, {len(outcomes)} outcomes): nothing to "
                          f"evaluate")
    model = reward_model(log)
    chooser = scorer if scorer is not None else model
    ev = evaluate(log, Candidate(candidate, chooser, policy), model, current)
    print(f"Off-policy evaluation of {name} on {source} (the candidate decides with "
          f"{'models version ' + str(scorer.version) if scorer else 'the reward model'})",
          file=out)
    print(render(ev, name, policy), file=out)
    return 0
