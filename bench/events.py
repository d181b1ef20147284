"""The bench's event set: every subscriber's profile first, then a stream of network events.

A dedicated generator, not ``sim``: the simulator writes ~105 events per subscriber and day
(2 s per 1,000 subscriber-days), so 100,000 subscribers would be 10 million events a day. The
bench wants a slice of an operator's traffic instead: ``events`` records drawn over all
subscribers, about 50 % location, 35 % charging and 15 % usage, event times increasing over
``days`` days of daytime (08:00-20:30 UTC in January, when London is on UTC, so the default
policy's quiet hours hold nothing back). Some of them are moments of the default catalogue:

- a share of subscribers travel: from their trip's start, location and charging records carry a
  foreign serving network (``roaming_welcome`` fires on the first one);
- bundles run down and prepaid balances fall (``bundle_topup``, ``low_balance``);
- a few trials expire inside the span (``trial_expiry_promo``, timer-driven).

Every record is complete (all schema fields) and valid: ``codec.normalise`` returns it unchanged.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cjo.codec import RECORD_OF_STREAM, encode_complete

START_MS = 1_768_176_000_000  # 2026-01-12 00:00 UTC, a Monday; London is on UTC
DAY_MS = 86_400_000
DAY_OPEN_MS = 8 * 3_600_000  # 08:00
DAY_SPAN_MS = 12 * 3_600_000 + 30 * 60_000  # to 20:30
MIX: tuple[tuple[str, float], ...] = (("location", 0.50), ("charging", 0.35), ("usage", 0.15))
TRAVELLER_SHARE = 0.04
TRIAL_SHARE = 0.02
HOME_PLMN = "23415"
FOREIGN_PLMNS = ("20801", "21407", "26201", "22210", "27201", "20404")
GB = 1_000_000_000
_APPS = (("youtube", "VIDEO"), ("instagram", "SOCIAL"), ("whatsapp", "MESSAGING"),
         ("spotify", "MUSIC"), ("chrome", "WEB"), ("fortnite", "GAMING"))
_AGE_BANDS = ("UNDER_18", "A18_24", "A25_34", "A35_44", "A45_54", "A55_64", "A65_PLUS")
_PAYMENT = ("PREPAID", "POSTPAID", "HYBRID")
_PAYMENT_WEIGHTS = (0.35, 0.55, 0.10)


@dataclass(frozen=True, slots=True)
class Event:
    """One input record, encoded: what the producer sends."""

    stream: str  # logical input stream: subscribers, location, charging, usage
    key: bytes  # imsi
    value: bytes  # Avro single-object encoding
    event_time: int
    event_id: str  # "" for a profile


@dataclass
class EventSet:
    profiles: list[Event]
    events: list[Event]
    subscribers: int
    days: int
    counts: Counter[str] = field(default_factory=Counter)
    travellers: int = 0

    def all(self) -> list[Event]:
        return [*self.profiles, *self.events]


@dataclass(slots=True)
class _Sub:
    imsi: str
    msisdn: str
    prepaid: bool
    trip_at: int  # event time the trip starts; 0: stays at home
    foreign: str
    balance: float
    bundle_total: int
    bundle_left: int


def imsi_of(index: int) -> str:
    return f"{HOME_PLMN}{index:010d}"


def event_times(count: int, days: int) -> list[int]:
    """``count`` increasing event times spread evenly over ``days`` daytimes."""
    per_day = max(1, -(-count // days))
    step = DAY_SPAN_MS / per_day
    return [START_MS + (i // per_day) * DAY_MS + DAY_OPEN_MS + int((i % per_day) * step)
            for i in range(count)]


def profile(rng: random.Random, sub: _Sub, index: int, trial_at: int | None) -> dict[str, Any]:
    trials = [] if trial_at is None else [
        {"product_id": "MUSIC_PREMIUM", "expires_at": trial_at, "status": "ACTIVE"}]
    return {
        "imsi": sub.imsi, "msisdn": sub.msisdn,
        "email": f"sub{index}@example.com" if rng.random() < 0.7 else None,
        "app_user_id": f"u{index:09d}" if rng.random() < 0.6 else None,
        "payment_type": "PREPAID" if sub.prepaid else rng.choice(_PAYMENT[1:]),
        "plan_id": "PAYG" if sub.prepaid else rng.choice(("SIM_ONLY_10GB", "UNLIMITED")),
        "age_band": rng.choice(_AGE_BANDS), "language": "en", "timezone": "Europe/London",
        "home_plmn": HOME_PLMN,
        "consent": {"sms": rng.random() < 0.6, "email": rng.random() < 0.4,
                    "push": rng.random() < 0.5, "location": rng.random() < 0.35},
        "contract_end": None if sub.prepaid else 20_800 + rng.randrange(700),
        "trials": trials, "updated_at": START_MS, "segment": None,
    }


def _subscribers(rng: random.Random, count: int, first: int, last: int) -> list[_Sub]:
    subs = []
    for i in range(count):
        prepaid = rng.random() < _PAYMENT_WEIGHTS[0]
        travels = rng.random() < TRAVELLER_SHARE
        total = rng.choice((5, 10, 20)) * GB
        subs.append(_Sub(
            imsi=imsi_of(i), msisdn=f"447{i:09d}", prepaid=prepaid,
            trip_at=rng.randrange(first, last) if travels else 0,
            foreign=rng.choice(FOREIGN_PLMNS), balance=rng.uniform(1.5, 25.0),
            bundle_total=total, bundle_left=int(total * rng.uniform(0.15, 1.0))))
    return subs


def _location(rng: random.Random, sub: _Sub, eid: str, t: int, serving: str) -> dict[str, Any]:
    kind = rng.choice(("TAU", "HANDOVER", "HANDOVER", "LOCATION_REPORT"))
    return {"event_id": eid, "event_time": t, "imsi": sub.imsi, "msisdn": sub.msisdn,
            "event_type": kind, "home_plmn": HOME_PLMN, "serving_plmn": serving,
            "tac": f"{rng.randrange(1, 60000):04X}", "cell_id": f"{rng.getrandbits(28):07x}",
            "lat": 51.3 + rng.random() * 0.4, "lon": -0.5 + rng.random() * 0.7,
            "imeisv": f"35{int(sub.imsi[-6:]):06d}{int(sub.imsi[-8:]) % 99_999_999:08d}"}


def _charging(rng: random.Random, sub: _Sub, eid: str, t: int, serving: str) -> dict[str, Any]:
    used = rng.randrange(1, 200_000_000)
    sub.bundle_left = max(0, sub.bundle_left - used)
    if sub.prepaid:
        sub.balance = max(0.0, round(sub.balance - rng.uniform(0.0, 1.5), 2))
    return {"event_id": eid, "event_time": t, "imsi": sub.imsi, "msisdn": sub.msisdn,
            "session_id": f"s{sub.imsi[-8:]}-{t // DAY_MS}", "request_type": "UPDATE",
            "rating_group": 10, "used_total_octets": used, "home_plmn": HOME_PLMN,
            "serving_plmn": serving, "rat_type": "EUTRAN",
            "balance": sub.balance if sub.prepaid else None,
            "currency": "GBP" if sub.prepaid else None, "bundle_id": "DATA_MONTHLY",
            "bundle_total_octets": sub.bundle_total, "bundle_remaining_octets": sub.bundle_left}


def _usage(rng: random.Random, sub: _Sub, eid: str, t: int, serving: str) -> dict[str, Any]:
    app, category = rng.choice(_APPS)
    duration = rng.randrange(5_000, 1_800_000)
    down = rng.randrange(10_000, 400_000_000)
    return {"event_id": eid, "event_time": t, "imsi": sub.imsi, "app_id": app,
            "app_category": category, "bytes_uplink": down // 10, "bytes_downlink": down,
            "duration_ms": duration, "dropped": rng.random() < 0.01,
            "throughput_kbps": int(down * 8 / duration), "serving_plmn": serving}


_BUILD = {"location": _location, "charging": _charging, "usage": _usage}


def draw_streams(rng: random.Random, count: int) -> list[str]:
    names = [name for name, _ in MIX]
    return rng.choices(names, weights=[w for _, w in MIX], k=count)


def generate(subscribers: int, events: int, days: int = 1, seed: int = 1) -> EventSet:
    """The bench's records, encoded (see the module docstring); deterministic for a seed."""
    rng = random.Random(seed)
    times = event_times(events, days)
    subs = _subscribers(rng, subscribers, times[0] if times else START_MS,
                        (times[-1] if times else START_MS) + 1)
    span = (times[0], times[-1] + 1) if times else (START_MS, START_MS + 1)
    out = EventSet([], [], subscribers, days, travellers=sum(1 for s in subs if s.trip_at))
    for i, sub in enumerate(subs):
        trial_at = rng.randrange(*span) if rng.random() < TRIAL_SHARE else None
        value = profile(rng, sub, i, trial_at)
        encoded = encode_complete(RECORD_OF_STREAM["subscribers"], value)
        out.profiles.append(Event("subscribers", sub.imsi.encode(), encoded, START_MS, ""))
    for n, (stream, t) in enumerate(zip(draw_streams(rng, events), times, strict=True)):
        sub = subs[rng.randrange(subscribers)]
        serving = sub.foreign if sub.trip_at and t >= sub.trip_at else HOME_PLMN
        value = _BUILD[stream](rng, sub, f"b{n}", t, serving)
        out.events.append(Event(stream, sub.imsi.encode(),
                                encode_complete(RECORD_OF_STREAM[stream], value), t, f"b{n}"))
        out.counts[stream] += 1
    out.counts["subscribers"] = subscribers
    return out
