"""The decisions a policy chose among actions, read back from ``cjo.decisions`` records with
their reward (``cjo.outcomes``: a positive response within the window is a take-up).

A decision counts when its policy had a choice: its ``actions`` list offers or the holdout.
``_none`` decisions (blocked before any choice: eligibility, consent, cooldown, lateness, quiet
hours) are the same under any candidate with the same eligibility and are counted apart; a SENT
or HOLDOUT decision whose window has not closed yet (no outcome) is pending and left out; a
decision suppressed after its choice (a cap, the dedupe, the budget, arbitration) keeps its
action with reward 0. Re-published decisions of one offer count once (the last, not DEFERRED).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cjo.errors import ConfigError

NONE = "_none"
HOLDOUT = "_holdout"


class NoPropensities(ConfigError):
    """The log cannot be evaluated: decisions without the probability of their actions."""


@dataclass(frozen=True, slots=True)
class Logged:
    offer_id: str
    trigger_id: str
    features: Mapping[str, float]
    action: str
    chances: Mapping[str, float]  # every eligible action's probability under the logging policy
    reward: float  # 1.0: taken up

    @property
    def probability(self) -> float:
        return self.chances.get(self.action, 0.0)


@dataclass(frozen=True, slots=True)
class Log:
    items: list[Logged]
    no_choice: int  # decisions where sending nothing was the only action
    pending: int  # SENT or HOLDOUT decisions whose response window is still open


def read_log(decisions: Iterable[Mapping[str, Any]], outcomes: Iterable[Mapping[str, Any]],
             source: str = "the log") -> Log:
    """The decisions with a choice, their rewards joined by ``offer_id``; ``NoPropensities``
    when a SENT or HOLDOUT decision carries no action probabilities."""
    last: dict[str, Mapping[str, Any]] = {}
    for d in decisions:
        if d.get("outcome") != "DEFERRED":
            last[str(d["offer_id"])] = d
    taken = {str(o["offer_id"]): bool(o.get("responded")) for o in outcomes}
    items: list[Logged] = []
    no_choice = pending = missing = 0
    for offer_id, d in last.items():
        actions = d.get("actions") or []
        if not actions or d.get("action") is None:
            if d.get("outcome") in ("SENT", "HOLDOUT"):
                missing += 1
            continue
        chances = {str(a["action"]): float(a["probability"]) for a in actions}
        action = str(d["action"])
        if action == NONE:
            no_choice += 1
            continue
        if d.get("outcome") in ("SENT", "HOLDOUT") and offer_id not in taken:
            pending += 1
            continue
        if chances.get(action, 0.0) <= 0.0:
            raise NoPropensities(f"{source}: decision {d.get('decision_id')} took {action!r} "
                                 f"with logged probability 0: the log is not the policy's")
        items.append(Logged(offer_id, str(d["trigger_id"]), dict(d.get("features") or {}),
                            action, chances, 1.0 if taken.get(offer_id) else 0.0))
    if missing:
        raise NoPropensities(
            f"{source}: {missing} SENT/HOLDOUT decisions carry no action probabilities "
            f"(written before cjo 0.2?): off-policy evaluation divides by the probability the "
            f"policy gave each action, so it refuses this log")
    return Log(items, no_choice, pending)
