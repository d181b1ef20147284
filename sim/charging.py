"""Online charging (Gy/Ro CCR): one session per attached segment, usage reported per quota.

A session opens (INITIAL) when the phone attaches and closes (TERMINATION) when it detaches. In
between, every app session is reported in one or more UPDATEs (a new one each time the granted
quota is used up), and quiet hours see a validity-timer UPDATE with no usage. Prepaid balances and
data bundles go down with the reported octets; now and then a prepaid subscriber tops up.
"""

from __future__ import annotations

import bisect
from typing import Any

from sim.catalog import MB
from sim.population import Subscriber
from sim.profiles import Wallet
from sim.sink import Sink
from sim.timeline import HOUR, Segment, activity_bins
from sim.usage import AppSession

MAX_PER_DAY = 96
SPLIT_BUDGET = 88  # INITIAL/TERMINATION and validity reports fit in what is left
IDLE_REPORT = 0.5  # share of quiet hours that still see a validity-timer report
PRICE_PER_MB = (0.005, 0.03)  # GBP out of bundle: at home and in the EU, elsewhere
TOP_UPS = (10.0, 15.0, 20.0, 30.0)
ORDER = {"INITIAL": 0, "UPDATE": 1, "TERMINATION": 2}

Report = tuple[int, str, int, int | None, Segment]  # time, request type, octets, rating group


def charging_day(
    sub: Subscriber, sink: Sink, sessions: list[AppSession], day_start: int, day_end: int
) -> None:
    reports = _edges(sub, day_start, day_end)
    reports += _usage_reports(sub, sessions, day_start, len(reports))
    reports += _idle_reports(sub, reports, day_start, day_end)
    reports.sort(key=lambda r: (r[0], ORDER[r[1]]))
    top_up = _top_up(sub, day_start)
    for when, kind, octets, rating_group, seg in reports:
        if top_up is not None and when >= top_up[0] and sub.wallet.balance is not None:
            sub.wallet.balance += top_up[1]
            top_up = None
        _deduct(sub.wallet, octets, seg)
        sink.add("charging", when, _event(sub, when, kind, octets, rating_group, seg))


def _edges(sub: Subscriber, day_start: int, day_end: int) -> list[Report]:
    out: list[Report] = []
    for seg in sub.segments:
        if day_start <= seg.start < day_end:
            out.append((seg.start, "INITIAL", 0, None, seg))
        if seg.detach and day_start <= seg.end < day_end:
            out.append((seg.end, "TERMINATION", 0, None, seg))
    return out


def _usage_reports(
    sub: Subscriber, sessions: list[AppSession], day_start: int, fixed: int
) -> list[Report]:
    """Each app session in UPDATEs of at most one quota grant, spread over its duration."""
    total = sum(s.octets for s in sessions)
    room = max(1, SPLIT_BUDGET - fixed - len(sessions))
    quota = max(min(500 * MB, max(20 * MB, int(sub.daily_bytes / 12))), -(-total // room))
    out: list[Report] = []
    for s in sessions:
        parts = max(1, -(-s.octets // quota))
        first = max(s.start, day_start)
        for i in range(parts):
            share = s.octets // parts + (s.octets % parts if i == parts - 1 else 0)
            when = first + (s.end - first) * (i + 1) // parts
            out.append((when, "UPDATE", share, s.app.rating_group, s.seg))
    return out


def _idle_reports(
    sub: Subscriber, reports: list[Report], day_start: int, day_end: int
) -> list[Report]:
    """Validity-timer reports, without usage, in some attached hours that have no other report."""
    times = sorted(r[0] for r in reports)
    out: list[Report] = []
    for a, b, seg, _ in activity_bins(sub.segments, day_start, day_end):
        if len(times) + len(out) >= MAX_PER_DAY:
            break
        i = bisect.bisect_left(times, a)
        busy = i < len(times) and times[i] < b
        if not busy and b - a > HOUR // 4 and sub.rng.random() < IDLE_REPORT:
            out.append((sub.rng.randrange(a, b), "UPDATE", 0, None, seg))
    return out


def _top_up(sub: Subscriber, day_start: int) -> tuple[int, float] | None:
    balance = sub.wallet.balance
    if balance is None:
        return None
    chance = 0.35 if balance < 3.0 else 0.05
    if sub.rng.random() >= chance:
        return None
    return day_start + sub.rng.randrange(8 * HOUR, 21 * HOUR), sub.rng.choice(TOP_UPS)


def _deduct(wallet: Wallet, octets: int, seg: Segment) -> None:
    rest = octets
    in_bundle = not seg.place.abroad or seg.place.eu
    if in_bundle and wallet.bundle_remaining is not None:
        used = min(wallet.bundle_remaining, rest)
        wallet.bundle_remaining -= used
        rest -= used
    if wallet.balance is not None and rest > 0:
        price = PRICE_PER_MB[0] if in_bundle else PRICE_PER_MB[1]
        wallet.balance = max(0.0, wallet.balance - rest / MB * price)


def _rat_type(sub: Subscriber, seg: Segment) -> str:
    rng = sub.rng
    if seg.place.abroad:
        nr = 0.12 if sub.nr_capable else 0.0
        return rng.choices(("NR", "EUTRAN", "UTRAN"), weights=(nr, 0.84, 0.04))[0]
    if sub.nr_capable:
        return rng.choices(("NR", "EUTRAN", "UTRAN"), weights=(0.55, 0.42, 0.03))[0]
    return rng.choices(("EUTRAN", "UTRAN", "GERAN"), weights=(0.9, 0.07, 0.03))[0]


def session_id(sub: Subscriber, seg: Segment) -> str:
    """Diameter style: origin host; the session's start in seconds; subscriber and segment."""
    return f"smf{1 + sub.serial % 3}.example.net;{seg.start // 1000};{sub.serial};{seg.index}"


def _event(
    sub: Subscriber, when: int, kind: str, octets: int, rating_group: int | None, seg: Segment
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "event_id": sub.next_id("c"),
        "event_time": when,
        "imsi": sub.imsi,
        "msisdn": sub.msisdn,
        "session_id": session_id(sub, seg),
        "request_type": kind,
    }
    if rating_group is not None:
        value["rating_group"] = rating_group
    value.update(used_total_octets=octets, home_plmn=sub.home.plmn, serving_plmn=seg.place.plmn)
    value["rat_type"] = _rat_type(sub, seg)
    wallet = sub.wallet
    if wallet.balance is not None:
        value["balance"], value["currency"] = round(wallet.balance, 2), "GBP"
    if wallet.bundle_id is not None:
        value["bundle_id"] = wallet.bundle_id
        value["bundle_total_octets"] = wallet.bundle_total
        value["bundle_remaining_octets"] = wallet.bundle_remaining
    return value
