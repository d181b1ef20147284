"""Subscribers: who they are, where they live and travel, their phone and how they use data."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sim import catalog as cat
from sim.gaming import PASS, GamingPasses, plan_passes
from sim.profiles import (
    CONSENT,
    CONSENT_RATES,
    NEW_TRIAL,
    Change,
    Wallet,
    changed_profiles,
    new_profile,
    pick,
    trial_changes,
)
from sim.timeline import (
    DAY,
    HOUR,
    MINUTE,
    Place,
    Segment,
    Trip,
    night_gaps,
    plan_trips,
    presence,
    segments,
)
from sim.venues import Visit, plan_visits

MEAN_DAILY_BYTES = 0.7 * cat.GB
DAILY_SIGMA = 1.0  # spread of the lognormal per-subscriber daily volume
DEVICE_CHANGE = 0.03
NIGHT_OFF = 0.5  # share of subscribers whose phone is off (DETACH) at night
YOUNG_CITY_SKEW = 1.5  # the young live in the largest cities even more: weight ** this


@dataclass
class Subscriber:
    serial: int
    imsi: str
    msisdn: str
    city: str
    home: Place
    rng: random.Random  # this subscriber's own stream: used in a fixed order, day after day
    profile: dict[str, Any]  # the latest one
    work: tuple[float, float] | None
    trips: list[Trip]
    segments: list[Segment]
    imeisv: str
    device_change: tuple[int, str] | None  # when, the new IMEISV
    tau_period: int
    nr_capable: bool
    sa_5g: bool
    mobility: float
    usage_mean: float
    daily_bytes: float
    app_weights: list[float]
    wallet: Wallet
    burst_day: int | None
    trial_changes: list[Change]
    visits: list[Visit]
    gaming: GamingPasses | None
    counters: dict[str, int] = field(default_factory=dict)

    def next_id(self, letter: str) -> str:
        n = self.counters.get(letter, 0) + 1
        self.counters[letter] = n
        return f"{letter}-{self.imsi}-{n}"

    def imeisv_at(self, when: int) -> str:
        if self.device_change is not None and when >= self.device_change[0]:
            return self.device_change[1]
        return self.imeisv


def make_subscriber(seed: int, serial: int, start: int, days: int) -> Subscriber:
    """One subscriber, drawn from its own random stream: independent of how many there are."""
    rng = random.Random(f"cjo.sim/{seed}/{serial}")
    plmn: str = pick(rng, cat.HOME_PLMNS)
    imsi = plmn + str(serial).zfill(15 - len(plmn))
    msisdn = "447" + str(700_000_000 + (serial * 48_271 + seed * 7_919) % 300_000_000)
    profile, wallet = new_profile(rng, imsi, msisdn, plmn, start, days)
    changes = trial_changes(rng, profile["trials"], start)
    young = profile.get("age_band") in ("UNDER_18", "A18_24")
    city, home, work, trips, segs = _whereabouts(rng, plmn, profile["language"], young, start, days)
    imeisv, device_change = _device(rng, segs)
    # Streams of their own: the rest of the simulation does not shift with these, nor one with
    # the other.
    venues_rng = random.Random(f"cjo.sim/{seed}/{serial}/venues")
    visits = plan_visits(venues_rng, city, profile.get("age_band"), segs, start, days)
    gaming = plan_passes(random.Random(f"cjo.sim/{seed}/{serial}/gaming"), young, segs, start, days)
    if gaming is not None:
        changes = _with_passes(profile, changes, gaming)
    daily = MEAN_DAILY_BYTES * rng.lognormvariate(-(DAILY_SIGMA**2) / 2, DAILY_SIGMA)
    return Subscriber(
        serial=serial,
        imsi=imsi,
        msisdn=msisdn,
        city=city,
        home=home,
        rng=rng,
        profile=profile,
        work=work,
        trips=trips,
        segments=segs,
        imeisv=imeisv,
        device_change=device_change,
        tau_period=54 * MINUTE + rng.randrange(-90_000, 90_000),  # T3412 with some spread
        nr_capable=rng.random() < 0.5,
        sa_5g=rng.random() < 0.08,
        mobility=rng.uniform(0.7, 1.5),
        usage_mean=rng.uniform(23.0, 34.0),
        daily_bytes=daily,
        app_weights=_app_weights(rng, young),
        wallet=wallet,
        burst_day=rng.randrange(days) if days and rng.random() < 0.03 else None,
        trial_changes=changes,
        visits=visits,
        gaming=gaming,
    )


def _with_passes(
    profile: dict[str, Any], changes: list[Change], gaming: GamingPasses
) -> list[Change]:
    """The first pass in the profile (replacing one drawn before: it stays ACTIVE until it
    expires), the second added by a profile update."""
    trials: list[dict[str, Any]] = profile["trials"]
    first = {"product_id": PASS, "expires_at": gaming.first_expires, "status": "ACTIVE"}
    index = next((i for i, t in enumerate(trials) if t["product_id"] == PASS), len(trials))
    profile["trials"] = [*trials[:index], first, *trials[index + 1 :]]
    added = Change(gaming.second_at, NEW_TRIAL, PASS, gaming.second_expires)
    return [*(c for c in changes if c.trial != index), added]


def _whereabouts(
    rng: random.Random, plmn: str, language: str, young: bool, start: int, days: int
) -> tuple[str, Place, tuple[float, float] | None, list[Trip], list[Segment]]:
    """Home in a UK city, work nearby for most, trips abroad, and the attached segments."""
    end = start + days * DAY
    skew = YOUNG_CITY_SKEW if young else 1.0
    city = rng.choices(cat.UK_CITIES, weights=[c[3] ** skew for c in cat.UK_CITIES])[0]
    home = Place(plmn, city[1] + rng.gauss(0.0, 0.05), city[2] + rng.gauss(0.0, 0.08))
    work = None
    if rng.random() < 0.6:
        work = (home.lat + rng.gauss(0.0, 0.06), home.lon + rng.gauss(0.0, 0.09))
    trips = plan_trips(rng, language, start, end)
    spans = presence(home, trips, start + rng.randrange(20 * MINUTE), end)
    gaps = night_gaps(rng, spans, start, end) if rng.random() < NIGHT_OFF else []
    return city[0], home, work, trips, segments(spans, gaps, end)


def _device(rng: random.Random, segs: list[Segment]) -> tuple[str, tuple[int, str] | None]:
    """The IMEISV, and for a few a new phone (another TAC) from some instant on."""
    imeisv = _imeisv(rng, rng.choice(cat.DEVICE_TACS))
    if not segs or rng.random() >= DEVICE_CHANGE:
        return imeisv, None
    seg = rng.choice(segs)
    new_tac = rng.choice([t for t in cat.DEVICE_TACS if not imeisv.startswith(t)])
    when = rng.randrange(seg.start + MINUTE, max(seg.end, seg.start + 2 * MINUTE))
    return imeisv, (when, _imeisv(rng, new_tac))


def _imeisv(rng: random.Random, tac: str) -> str:
    """TAC (8 digits), serial number (6), software version (2)."""
    return tac + f"{rng.randrange(10**6):06d}" + f"{rng.randrange(100):02d}"


def _app_weights(rng: random.Random, young: bool) -> list[float]:
    """How often this subscriber uses each app: a personal taste over the catalogue's mix."""
    taste = {c: rng.lognormvariate(0.0, 0.5) for c in cat.CATEGORIES}
    if young:
        taste["GAMING"] *= 3.0
        taste["SOCIAL"] *= 1.5
    return [app.weight * taste[app.category] for app in cat.APPS]


def profile_updates(
    sub: Subscriber, day_start: int, day_end: int
) -> list[tuple[int, dict[str, Any]]]:
    """Trial outcomes and the odd consent change falling in this day, as full new profiles."""
    changes = [c for c in sub.trial_changes if day_start <= c[0] < day_end]
    if sub.rng.random() < 0.04:
        when = day_start + sub.rng.randrange(8 * HOUR, 22 * HOUR)
        changes.append(Change(when, CONSENT, sub.rng.choice([c for c, _ in CONSENT_RATES])))
    updated = changed_profiles(sub.profile, changes)
    if updated:
        sub.profile = updated[-1]
    return [(p["updated_at"], p) for p in updated]
