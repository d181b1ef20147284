"""Scoring: decision-time features, per-trigger propensity models and contextual bandits.

Pure code: no Kafka, no asyncio, no clock, no global RNG. ``features`` turns a moment and a
subscriber state into a small fixed dict of floats; ``Scorer`` chooses an offer per trigger and
learns from responses; ``Scorer.to_bytes``/``from_bytes`` carry it from the learner to workers.
"""

from cjo.scoring.features import FEATURE_NAMES, features
from cjo.scoring.scorer import Choice, Scorer
from cjo.scoring.snapshot import SnapshotError

__all__ = ["FEATURE_NAMES", "Choice", "Scorer", "SnapshotError", "features"]
