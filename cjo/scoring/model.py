"""One trigger's model: a river logistic regression over features crossed with the offer code,
with a diagonal Gaussian posterior on its weights for Thompson sampling.

One model scores every offer of a trigger. The input of offer ``c`` is the context features
as they are (``k``: what makes anyone more or less responsive to this trigger) plus the same
features prefixed with the offer code (``c|k``: what makes someone prefer ``c``; ``c|bias`` is
the offer's one-hot). Zero values are dropped: river's sparse dict updates cost what is non-zero.

Exploration is Thompson sampling on that same model (Chapelle & Li, "An Empirical Evaluation of
Thompson Sampling", 2011, online Bayesian logistic regression with a diagonal Laplace posterior):
each weight ``i`` keeps a precision ``q_i`` (starting at ``prior_precision``) that grows by
``p (1 - p) x_i**2`` with every example, ``p`` the model's prediction before learning. The
weight means are the river model's SGD weights. Sampling a logit from the independent Gaussians
needs a single draw per offer: ``N(mean_logit, sum_i x_i**2 / q_i)``. The posterior narrows
as a context's examples accumulate, so exploration fades by itself where the model is sure and
stays where it is not, and the propensity reported is the one the bandit's choice was based on.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from river import drift, linear_model, metrics, optim, utils

from cjo.scoring import snapshot as snap

SEP = "|"
DRIFT_DELTA = 0.002  # ADWIN confidence: smaller detects later and raises fewer false alarms


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Learning settings of every trigger model of a scorer.

    The step sizes were chosen on the closed loop of ``tests/unit/test_scoring_loop.py``: with
    0.1 the progressive ROC AUC of later responses stayed 0.03-0.06 below that of the hidden true
    probabilities (noisy weights), with 0.03 within 0.025, and the offers chosen were as good.
    """

    learning_rate: float = 0.03  # SGD step of the logistic regression's weights
    intercept_lr: float = 0.03
    l2: float = 0.0
    prior_precision: float = 1.0  # of each weight's Gaussian posterior (1 / prior variance)
    exploration: float = 1.0  # scales the posterior's standard deviation (0: greedy)


def cross(offer_code: str, feats: Mapping[str, float]) -> dict[str, float]:
    """The model input of ``offer_code`` in the context ``feats`` (zeros dropped)."""
    x: dict[str, float] = {}
    for key, value in feats.items():
        if value:
            x[key] = value
            x[f"{offer_code}{SEP}{key}"] = value
    return x


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1.0 - 1e-12)
    return math.log(p / (1.0 - p))


class TriggerModel:
    """Propensity model, posterior and progressive-validation metric of one trigger."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.lr: Any = linear_model.LogisticRegression(
            optimizer=optim.SGD(config.learning_rate), l2=config.l2,
            intercept_lr=config.intercept_lr)
        self.precision: dict[str, float] = {}
        self.auc: Any = metrics.ROCAUC()  # type: ignore[no-untyped-call]
        self.examples = 0
        self.positives = 0
        self.discount = 1.0  # per trigger (catalogue ``bandit.discount``); 1: stationary
        self.updated: dict[str, int] = {}  # example count at each weight's last update
        self.detect_drift = False  # per trigger (catalogue ``bandit.reset_on_drift``)
        self._detectors: dict[str, Any] = {}  # offer code -> ADWIN on its rewards (not saved)
        self.resets = 0

    def _p(self, x: Mapping[str, float]) -> float:
        return float(self.lr.predict_proba_one(x)[True])

    def propensity(self, offer_code: str, feats: Mapping[str, float]) -> float:
        """The model's estimate that ``offer_code`` is accepted in the context ``feats``."""
        return self._p(cross(offer_code, feats))

    def logit_spread(self, offer_code: str, feats: Mapping[str, float]) -> tuple[float, float]:
        """The Thompson draw's distribution for ``offer_code``: its logit is
        ``N(mean, spread**2)`` (``cjo.scoring.argmax`` turns these into P(argmax))."""
        x = cross(offer_code, feats)
        return _logit(self._p(x)), self.config.exploration * math.sqrt(self._variance(x))

    def sample(self, offer_code: str, feats: Mapping[str, float], rng: random.Random) -> float:
        """A Thompson draw of the acceptance probability (one Gaussian draw from ``rng``)."""
        x = cross(offer_code, feats)
        z = rng.gauss(0.0, 1.0) * self.config.exploration * math.sqrt(self._variance(x))
        return sigmoid(_logit(self._p(x)) + z)

    def _variance(self, x: Mapping[str, float]) -> float:
        return sum(v * v / self._precision(k) for k, v in x.items())

    def _precision(self, key: str) -> float:
        """A weight's precision now: with a discount below 1, what it gained since the prior
        fades by ``discount`` per example learnt since it was last updated (discounted
        Thompson sampling: evidence ages, so an offer not tried for a while is explored again)."""
        prior = self.config.prior_precision
        q = self.precision.get(key, prior)
        if self.discount >= 1.0 or key not in self.precision:
            return q
        age = self.examples - self.updated.get(key, self.examples)
        return prior + (q - prior) * self.discount ** age

    def learn(self, offer_code: str, feats: Mapping[str, float], label: bool) -> float:
        """Scores first (progressive validation), then learns; returns the score before."""
        if self.detect_drift and self._drifted(offer_code, label):
            self.forget_preferences()
        x = cross(offer_code, feats)
        p = self._p(x)
        self.auc.update(label, p)
        self.lr.learn_one(x, label)
        curvature = p * (1.0 - p)
        discounted = self.discount < 1.0
        for key, value in x.items():
            self.precision[key] = self._precision(key) + curvature * value * value
            if discounted:
                self.updated[key] = self.examples + 1
        self.examples += 1
        self.positives += int(label)
        return p

    def _drifted(self, offer_code: str, label: bool) -> bool:
        """ADWIN (river.drift, Bifet & Gavalda 2007) on each offer's stream of rewards: True
        when the offer's acceptance rate changed (its two sub-windows' means differ beyond
        the Hoeffding bound at delta 0.002)."""
        detector = self._detectors.get(offer_code)
        if detector is None:
            detector = self._detectors[offer_code] = drift.ADWIN(  # type: ignore[no-untyped-call]
                delta=DRIFT_DELTA)
        detector.update(float(label))
        return bool(detector.drift_detected)

    def forget_preferences(self) -> None:
        """After a detected change: every offer's own weights (``code|feature``) and their
        precision back to the prior, so Thompson sampling tries every offer again; what makes
        anyone respond to the trigger at all (the uncrossed weights) is kept."""
        weights = self.lr._weights
        for key in [k for k in weights if SEP in k]:
            del weights[key]
        self.precision = {k: v for k, v in self.precision.items() if SEP not in k}
        self.updated = {k: v for k, v in self.updated.items() if SEP not in k}
        self._detectors = {}
        self.resets += 1

    # --- snapshot state: plain data, read back exactly (tests/unit/test_scorer_snapshot.py pins
    # the river internals used here: the weights' VectorDict, the intercept, the SGD step count
    # and the ROC AUC's per-threshold confusion matrices) ----------------------------------

    def state(self) -> dict[str, Any]:
        """Everything this model learned, as JSON-able data (see :meth:`from_state`)."""
        return {
            "weights": self.lr._weights.to_dict(),
            "intercept": self.lr.intercept,
            "steps": self.lr.optimizer.n_iterations,
            "precision": dict(self.precision),
            "examples": self.examples,
            "positives": self.positives,
            "auc": [_matrix_state(cm) for cm in self.auc.cms],
            "discount": self.discount,
            "updated": dict(self.updated),
            "detect_drift": self.detect_drift,
            "resets": self.resets,
        }

    @classmethod
    def from_state(cls, config: ModelConfig, state: Any, where: str) -> TriggerModel:
        """The model :meth:`state` described; ``SnapshotError`` naming the field if malformed."""
        doc = snap.obj(state, where)
        model = cls(config)
        model.lr._weights = utils.VectorDict(
            snap.numbers(snap.field(doc, "weights", where), f"{where}.weights"))
        model.lr.intercept = snap.number(snap.field(doc, "intercept", where),
                                         f"{where}.intercept")
        model.lr.optimizer.n_iterations = snap.count(snap.field(doc, "steps", where),
                                                     f"{where}.steps")
        model.precision = snap.numbers(snap.field(doc, "precision", where),
                                       f"{where}.precision")
        model.examples = snap.count(snap.field(doc, "examples", where), f"{where}.examples")
        model.positives = snap.count(snap.field(doc, "positives", where), f"{where}.positives")
        # absent from snapshots written before drift-aware learning: stationary
        model.discount = snap.number(doc.get("discount", 1.0), f"{where}.discount")
        if not 0.0 < model.discount <= 1.0:
            raise snap.SnapshotError(f"scorer snapshot: {where}.discount must be in (0, 1]")
        model.updated = {k: int(v) for k, v in snap.numbers(doc.get("updated", {}),
                                                             f"{where}.updated").items()}
        model.detect_drift = doc.get("detect_drift", False) is True
        model.resets = snap.count(doc.get("resets", 0), f"{where}.resets")
        if model.positives > model.examples:
            raise snap.SnapshotError(f"scorer snapshot: {where} has more positives than examples")
        matrices = snap.field(doc, "auc", where)
        if not isinstance(matrices, list) or len(matrices) != len(model.auc.cms):
            raise snap.SnapshotError(f"scorer snapshot: {where}.auc must list "
                                     f"{len(model.auc.cms)} confusion matrices")
        for index, (cm, cells) in enumerate(zip(model.auc.cms, matrices, strict=True)):
            _restore_matrix(cm, cells, f"{where}.auc[{index}]")
        return model

    def roc_auc(self) -> float | None:
        """Progressive ROC AUC, None until both a positive and a negative example were seen."""
        if self.positives in (0, self.examples):
            return None
        return float(self.auc.get())


# river's binary ConfusionMatrix: counts by (truth, prediction), row and column sums, the total
# weight, the sum of the diagonal and the number of samples. Kept as they are, not re-derived,
# so a restored matrix is the same floats.
_CELLS = ((True, True), (True, False), (False, True), (False, False))


def _matrix_state(cm: Any) -> dict[str, Any]:
    return {
        "cells": [cm.data[t].get(p, 0.0) if t in cm.data else 0.0 for t, p in _CELLS],
        "rows": [cm.sum_row.get(True, 0.0), cm.sum_row.get(False, 0.0)],
        "cols": [cm.sum_col.get(True, 0.0), cm.sum_col.get(False, 0.0)],
        "weight": cm.total_weight,
        "diagonal": cm._total_true_positives,
        "samples": cm.n_samples,
    }


def _restore_matrix(cm: Any, state: Any, where: str) -> None:
    doc = snap.obj(state, where)

    def values(name: str, size: int) -> list[float]:
        raw = snap.field(doc, name, where)
        if not isinstance(raw, list) or len(raw) != size:
            raise snap.SnapshotError(f"scorer snapshot: {where}.{name} must list {size} numbers")
        return [snap.number(v, f"{where}.{name}[{i}]") for i, v in enumerate(raw)]

    for (truth, predicted), value in zip(_CELLS, values("cells", 4), strict=True):
        if value:
            cm.data[truth][predicted] = value
    for sums, name in ((cm.sum_row, "rows"), (cm.sum_col, "cols")):
        for label, value in zip((True, False), values(name, 2), strict=True):
            if value:
                sums[label] = value
    cm.total_weight = snap.number(snap.field(doc, "weight", where), f"{where}.weight")
    cm._total_true_positives = snap.number(snap.field(doc, "diagonal", where),
                                           f"{where}.diagonal")
    cm.n_samples = snap.count(snap.field(doc, "samples", where), f"{where}.samples")
