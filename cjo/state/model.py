"""One compact state value per subscriber, serialised once per update.

Nested values are plain dicts and lists so that serialisation is one ``orjson.dumps``; update
functions never mutate a nested value in place, they replace it (a copy of the state shares them).

The state keeps its fields in its ``__dict__`` (no ``slots``): a copy is one dict copy and a
stored value with every field becomes the instance's dict as ``orjson.loads`` returned it, with
no per-field work (the decode, copy and encode of each record were a quarter of the domain's
time with slots).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import orjson

NO_CONSENT = {"sms": False, "email": False, "push": False, "location": False}
MAX_MARKERS = 64  # decided trigger instances remembered per subscriber (oldest dropped first)


@dataclass
class SubscriberState:
    imsi: str
    # from the profile
    msisdn: str | None = None
    email: str | None = None
    app_user_id: str | None = None
    payment_type: str = "UNKNOWN"
    plan_id: str | None = None
    age_band: str | None = None
    segment: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)  # further ones (tenure_months...)
    language: str = "en"
    timezone: str = "UTC"
    consent: dict[str, bool] = field(default_factory=lambda: dict(NO_CONSENT))  # in effect
    # binding opt-outs (cjo.state.consent): channel -> {"at", "reason", "offer_id"}, and the
    # latest explicit opt-in per channel (channel -> at) that lifts an older one
    opt_outs: dict[str, dict[str, Any]] = field(default_factory=dict)
    opt_ins: dict[str, int] = field(default_factory=dict)
    contract_end: int | None = None  # days since epoch
    trials: list[dict[str, Any]] = field(default_factory=list)
    profile_at: int = -1  # updated_at of the profile applied
    # from the network
    home_plmn: str | None = None
    serving_plmn: str | None = None
    serving_at: int = -1  # event time of the newest event that set serving_plmn
    trip: dict[str, Any] | None = None  # {"mcc", "plmn", "started_at"} while abroad
    trips: int = 0  # trips started
    location: dict[str, Any] | None = None  # {"lat", "lon", "cell_id", "tac", "at"}
    device_tac: str | None = None
    bundle: dict[str, Any] | None = None  # {"id", "total", "remaining", "at"}
    balance: float | None = None
    currency: str | None = None
    balance_at: int = -1
    last_event_time: int = -1
    events: int = 0  # events applied
    # bookkeeping for exactly-once effects under at-least-once delivery
    applied: dict[str, int] = field(default_factory=dict)  # input topic -> last offset applied
    decided: dict[str, int] = field(default_factory=dict)  # trigger instance key -> event time
    # trigger kinds' private memory (cjo.triggers.kinds), by trigger id, and cooldown bookkeeping
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_fired: dict[str, int] = field(default_factory=dict)  # trigger id -> last moment time
    # offers sent, oldest first: [at, trigger_id, offer_code, channel, marketing], what the
    # contact policy counts (cjo.policy.contact.record_contact keeps it short)
    contacts: list[list[Any]] = field(default_factory=list)
    # offers waiting for a response or a conversion while their response window is open
    # (cjo.engine.feedback), by offer id; the name is a key of the stored state (see to_bytes)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    # moments deferred by quiet hours, by instance key (decided again when their timer fires)
    deferred: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.__dict__)  # the fields, in the order they were declared

    @classmethod
    def from_bytes(cls, data: bytes) -> SubscriberState:
        raw = orjson.loads(data)
        if raw.keys() == _FIELDS:
            new = object.__new__(cls)
            new.__dict__ = raw
            return new
        # a field since added takes its default, one since removed is dropped
        return cls(**{k: v for k, v in raw.items() if k in _FIELDS})

    def copy(self) -> SubscriberState:
        """A shallow copy: nested values are shared and must be replaced, never mutated."""
        new = object.__new__(SubscriberState)
        new.__dict__ = self.__dict__.copy()
        return new

    @property
    def home_mcc(self) -> str | None:
        return self.home_plmn[:3] if self.home_plmn else None

    @property
    def abroad(self) -> bool:
        return self.trip is not None

    def has_decided(self, instance_key: str) -> bool:
        return instance_key in self.decided

    def mark_decided(self, instance_key: str, at: int) -> None:
        marks = dict(self.decided)
        marks[instance_key] = at
        while len(marks) > MAX_MARKERS:
            del marks[min(marks, key=marks.__getitem__)]
        self.decided = marks


_FIELDS = frozenset(f.name for f in fields(SubscriberState))
