"""The scorer: per trigger, choose an offer (propensity model + Thompson sampling) and learn.

    scorer = Scorer()
    choice = scorer.choose("roaming_welcome", ["TRAVEL_PASS_1GB_7D", "TRAVEL_PASS_5GB_7D"],
                           features(moment, state), seed=offer_id_seed)
    ...  # later, when the response window of that offer closes
    scorer.learn("roaming_welcome", choice.offer_code, feats_of_the_decision, label=accepted)

A model id is a trigger id; its model is created by its first ``learn``. ``choose`` only reads:
for the same scorer state and the same ``seed`` it returns the same choice, on any machine (its
randomness is a ``random.Random`` seeded with the SHA-256 of the seed string). ``version`` counts
``learn`` calls; a decision records the version it was scored with. See ``cjo.scoring.model`` for
the model and why exploration is Thompson sampling on it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

from cjo.scoring import snapshot
from cjo.scoring.argmax import argmax_probabilities
from cjo.scoring.model import ModelConfig, TriggerModel, sigmoid


@dataclass(frozen=True, slots=True)
class Choice:
    """The offer to send, the model's propensity per offer, and whether this was exploration.

    ``probabilities``: the probability with which this choice picks each offer (the policy's,
    not the model's: uniform before any learning, P(argmax) of the Thompson draws after,
    ``cjo.scoring.argmax``); what the decision logs for off-policy evaluation.

    ``explored`` is true when the offer is not the one the propensity model ranks first (the
    first of the offers given, on a tie), and always for a model that has learnt nothing yet
    (unless there is only one offer: then there is nothing to explore).
    """

    offer_code: str
    propensities: dict[str, float] = field(default_factory=dict)
    explored: bool = False
    probabilities: dict[str, float] = field(default_factory=dict)


def seeded_rng(seed: str) -> random.Random:
    """A ``random.Random`` determined by ``seed`` alone (not by PYTHONHASHSEED or the process)."""
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))


class Scorer:
    """Per model id (trigger id): a propensity model over its offers and a Thompson sampler."""

    def __init__(self, config: ModelConfig | None = None, prior: float = 0.5) -> None:
        if not 0.0 < prior < 1.0:
            raise ValueError("prior must be strictly between 0 and 1")
        self.config = config or ModelConfig()
        self.prior = prior  # the propensity reported by a model id never seen
        self.version = 0
        self._models: dict[str, TriggerModel] = {}

    # --- deciding -------------------------------------------------------------------------

    def choose(self, model_id: str, offer_codes: Sequence[str], feats: Mapping[str, float],
               seed: str) -> Choice:
        """Which of ``offer_codes`` to send in the context ``feats`` (deterministic per seed)."""
        codes = list(offer_codes)
        if not codes:
            raise ValueError("choose needs at least one offer code")
        model = self._models.get(model_id)
        if model is None:
            propensities = dict.fromkeys(codes, self.prior)
            if len(codes) == 1:
                return Choice(codes[0], propensities, explored=False, probabilities={codes[0]: 1.0})
            uniform = dict.fromkeys(codes, 1.0 / len(codes))
            return Choice(seeded_rng(seed).choice(codes), propensities, explored=True,
                          probabilities=uniform)
        propensities = {code: model.propensity(code, feats) for code in codes}
        greedy = max(codes, key=propensities.__getitem__)
        if len(codes) == 1:
            return Choice(codes[0], propensities, explored=False, probabilities={codes[0]: 1.0})
        rng = seeded_rng(seed)
        spreads = [model.logit_spread(code, feats) for code in codes]
        draws = {code: sigmoid(mean + rng.gauss(0.0, 1.0) * spread)
                 for code, (mean, spread) in zip(codes, spreads, strict=True)}
        chosen = max(codes, key=draws.__getitem__)
        return Choice(chosen, propensities, explored=chosen != greedy,
                      probabilities=_chances(codes, spreads))

    def probabilities(self, model_id: str, offer_codes: Sequence[str],
                      feats: Mapping[str, float]) -> dict[str, float]:
        """The probability with which :meth:`choose` picks each of ``offer_codes`` in the
        context ``feats``, whatever the seed (off-policy evaluation recomputes it)."""
        codes = list(dict.fromkeys(offer_codes))
        model = self._models.get(model_id)
        if model is None or len(codes) == 1:
            return dict.fromkeys(codes, 1.0 / len(codes))
        return _chances(codes, [model.logit_spread(code, feats) for code in codes])

    def propensity(self, model_id: str, offer_code: str, feats: Mapping[str, float]) -> float:
        """The model's estimate for one offer (the prior for a model id never seen)."""
        model = self._models.get(model_id)
        return self.prior if model is None else model.propensity(offer_code, feats)

    # --- learning -------------------------------------------------------------------------

    def learn(self, model_id: str, offer_code: str, feats: Mapping[str, float],
              label: bool, discount: float | None = None,
              detect_drift: bool | None = None) -> None:
        """One response: scored first (progressive ROC AUC), then learnt by model and sampler.
        ``discount`` (the trigger's ``bandit.discount``, None: as it is): below 1, evidence
        fades by that factor per example (``TriggerModel._precision``); ``detect_drift`` (the
        trigger's ``bandit.reset_on_drift``): an offer whose acceptance rate changes makes
        every offer's preferences start again (``TriggerModel.forget_preferences``)."""
        model = self._models.get(model_id)
        if model is None:
            model = self._models[model_id] = TriggerModel(self.config)
        if discount is not None:
            if not 0.0 < discount <= 1.0:
                raise ValueError("discount must be in (0, 1]")
            model.discount = discount
        if detect_drift is not None:
            model.detect_drift = detect_drift
        model.learn(offer_code, feats, bool(label))
        self.version += 1

    def examples(self, model_id: str) -> int:
        model = self._models.get(model_id)
        return 0 if model is None else model.examples

    def auc(self, model_id: str) -> float | None:
        """Progressive ROC AUC of the model (each response scored before it was learnt)."""
        model = self._models.get(model_id)
        return None if model is None else model.roc_auc()

    def model_ids(self) -> list[str]:
        return sorted(self._models)

    # --- snapshots ------------------------------------------------------------------------

    def to_bytes(self, key: bytes) -> bytes:
        """A data-only snapshot signed with ``key`` (``cjo.scoring.snapshot``)."""
        config = self.config
        return snapshot.seal({
            "prior": self.prior,
            "version": self.version,
            "config": {name: getattr(config, name) for name in _CONFIG_FIELDS},
            "models": {mid: model.state() for mid, model in self._models.items()},
        }, key)

    @classmethod
    def from_bytes(cls, data: bytes, key: bytes) -> Scorer:
        """A scorer from ``to_bytes`` with the same key; ``SnapshotError`` for anything else
        (checked before it is parsed, then every field: nothing of a refused one is used)."""
        doc = snapshot.obj(snapshot.unseal(data, key), "the snapshot")
        raw = snapshot.obj(snapshot.field(doc, "config", "snapshot"), "snapshot.config")
        config = ModelConfig(**{name: snapshot.number(snapshot.field(raw, name, "config"),
                                                      f"config.{name}")
                                for name in _CONFIG_FIELDS})
        if config.prior_precision <= 0:
            raise snapshot.SnapshotError("scorer snapshot: config.prior_precision must be > 0")
        prior = snapshot.number(snapshot.field(doc, "prior", "snapshot"), "prior")
        if not 0.0 < prior < 1.0:
            raise snapshot.SnapshotError("scorer snapshot: prior must be between 0 and 1")
        scorer = cls(config, prior)
        scorer.version = snapshot.count(snapshot.field(doc, "version", "snapshot"), "version")
        models = snapshot.obj(snapshot.field(doc, "models", "snapshot"), "snapshot.models")
        scorer._models = {str(mid): TriggerModel.from_state(config, state, f"models[{mid!r}]")
                          for mid, state in models.items()}
        return scorer


def _chances(codes: list[str], spreads: list[tuple[float, float]]) -> dict[str, float]:
    return dict(zip(codes, argmax_probabilities([m for m, _ in spreads], [s for _, s in spreads]),
                    strict=True))


_CONFIG_FIELDS = tuple(f.name for f in fields(ModelConfig))
