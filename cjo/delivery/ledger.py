"""The claim ledger: the durable state of each offer at a gateway, and what it implies.

Neither SMPP nor SMTP has an idempotency key, so a gateway records a claim durably *before*
each attempt and the outcome after it. The ledger is a compacted topic keyed by offer id (one
per channel), each entry written to the partition number of its offer's partition, so the
instance that owns an offer partition reads that ledger partition to its end before sending.

- no entry: never attempted: claim, then send;
- ``CLAIMED``: an attempt may be in flight. Seen when a partition is taken over, the process
  that claimed it died before recording the outcome: report UNKNOWN, never resend;
- ``RELEASED``: the last attempt was surely refused (a retry was due): claim again and send;
- ``DONE``: the outcome is recorded and its response published: skip.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import orjson


class Claim(StrEnum):
    CLAIMED = "CLAIMED"
    RELEASED = "RELEASED"
    DONE = "DONE"


class Action(StrEnum):
    SEND = "SEND"
    SKIP = "SKIP"
    REPORT_UNKNOWN = "REPORT_UNKNOWN"


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger record (the value; the key is ``offer_id``). ``status`` is the outcome's
    (DONE only); ``owner`` names the gateway instance that wrote it; ``at_ms`` wall time."""

    offer_id: str
    claim: Claim
    at_ms: int
    owner: str = ""
    attempts: int = 0
    status: str | None = None
    provider_message_id: str | None = None

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        """Refuses (``ValueError``) what is not a ledger entry."""
        try:
            raw = orjson.loads(data)
            return cls(offer_id=str(raw["offer_id"]), claim=Claim(raw["claim"]),
                       at_ms=int(raw["at_ms"]), owner=str(raw.get("owner") or ""),
                       attempts=int(raw.get("attempts") or 0), status=raw.get("status"),
                       provider_message_id=raw.get("provider_message_id"))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not a gateway ledger entry: {err}") from err


def action_for(entry: Entry | None) -> Action:
    """What to do with an offer read from Kafka, given its ledger entry (read to the end of its
    partition, and not claimed by this process now)."""
    if entry is None or entry.claim is Claim.RELEASED:
        return Action.SEND
    if entry.claim is Claim.CLAIMED:
        return Action.REPORT_UNKNOWN
    return Action.SKIP


class LedgerTable:
    """The newest entry per offer id, as read back from the ledger (and written since)."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def apply(self, entry: Entry) -> None:
        self._entries[entry.offer_id] = entry

    def get(self, offer_id: str) -> Entry | None:
        return self._entries.get(offer_id)

    def action(self, offer_id: str) -> Action:
        return action_for(self._entries.get(offer_id))

    def __len__(self) -> int:
        return len(self._entries)
