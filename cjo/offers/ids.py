"""Deterministic ids: the same subscriber, trigger and instance always give the same offer id.

That is what makes a re-send after a crash harmless: a gateway or a reader can drop the repeat.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1c3a52-5d1e-4c1f-9a3e-0c6a7e3b2d10")


def offer_id(imsi: str, trigger_id: str, instance: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"offer|{imsi}|{trigger_id}|{instance}"))


def decision_id(offer: str, outcome: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"decision|{offer}|{outcome}"))
