"""The holdout (control) group: subscribers who never receive marketing offers.

Whether a subscriber is held out depends only on her IMSI and the policy's ``holdout_salt``:
the first 8 bytes of ``sha256(salt + imsi)`` (UTF-8), as a big-endian integer, modulo 10,000, is
her bucket; she is held out when the bucket is below ``holdout_pct`` x 100. Every worker, every
process and every replay agrees (Python's ``hash()`` is salted per process and would not); an
analyst can recompute the group from the IMSI alone. Changing the salt draws a new group.
"""

from __future__ import annotations

import hashlib

from cjo.catalogue.model import PolicyDef

BUCKETS = 10_000  # a resolution of 0.01 %


def bucket(imsi: str, salt: str) -> int:
    """``imsi``'s bucket, 0..9999, under ``salt``."""
    digest = hashlib.sha256((salt + imsi).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_holdout(imsi: str, policy: PolicyDef) -> bool:
    """True for about ``policy.holdout_pct`` percent of IMSIs, always the same ones."""
    return bucket(imsi, policy.holdout_salt) < round(policy.holdout_pct * BUCKETS / 100)
