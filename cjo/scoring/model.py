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

from river import linear_model, metrics, optim

SEP = "|"


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


def _sigmoid(z: float) -> float:
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

    def _p(self, x: Mapping[str, float]) -> float:
        return float(self.lr.predict_proba_one(x)[True])

    def propensity(self, offer_code: str, feats: Mapping[str, float]) -> float:
        """The model's estimate that ``offer_code`` is accepted in the context ``feats``."""
        return self._p(cross(offer_code, feats))

    def sample(self, offer_code: str, feats: Mapping[str, float], rng: random.Random) -> float:
        """A Thompson draw of the acceptance probability (one Gaussian draw from ``rng``)."""
        x = cross(offer_code, feats)
        prior = self.config.prior_precision
        variance = sum(v * v / self.precision.get(k, prior) for k, v in x.items())
        z = rng.gauss(0.0, 1.0) * self.config.exploration * math.sqrt(variance)
        return _sigmoid(_logit(self._p(x)) + z)

    def learn(self, offer_code: str, feats: Mapping[str, float], label: bool) -> float:
        """Scores first (progressive validation), then learns; returns the score before."""
        x = cross(offer_code, feats)
        p = self._p(x)
        self.auc.update(label, p)
        self.lr.learn_one(x, label)
        prior = self.config.prior_precision
        curvature = p * (1.0 - p)
        for key, value in x.items():
            self.precision[key] = self.precision.get(key, prior) + curvature * value * value
        self.examples += 1
        self.positives += int(label)
        return p

    def roc_auc(self) -> float | None:
        """Progressive ROC AUC, None until both a positive and a negative example were seen."""
        if self.positives in (0, self.examples):
            return None
        return float(self.auc.get())
