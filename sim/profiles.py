"""Subscriber profiles (the compacted ``subscribers`` stream) and what charging knows of them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, NamedTuple

from sim import catalog as cat
from sim.timeline import DAY, HOUR

CONSENT_RATES: tuple[tuple[str, float], ...] = (
    ("sms", 0.60),
    ("email", 0.40),
    ("push", 0.50),
    ("location", 0.35),
)
NO_CONSENT_SHARE = 0.10
CONSENT = -1  # Change.trial: flip the consent channel ``what``
NEW_TRIAL = -2  # Change.trial: a new ACTIVE trial of product ``what`` expiring at ``expires_at``


class Change(NamedTuple):
    """A profile change: trial number ``trial`` gets status ``what``, or CONSENT, or NEW_TRIAL."""

    when: int
    trial: int
    what: str
    expires_at: int = 0


@dataclass
class Wallet:
    """What the charging system knows: prepaid balance and data bundle."""

    balance: float | None = None
    bundle_id: str | None = None
    bundle_total: int | None = None
    bundle_remaining: int | None = None


def pick(rng: random.Random, options: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([o[0] for o in options], weights=[o[1] for o in options])[0]


def new_profile(
    rng: random.Random, imsi: str, msisdn: str, plmn: str, start: int, days: int
) -> tuple[dict[str, Any], Wallet]:
    """The profile at the start of the log, in the schema's field order, and the wallet."""
    payment: str = pick(rng, cat.PAYMENT_TYPES)
    plan_id, wallet = _plan(rng, payment)
    language, timezone = _language(rng)
    consent = _consent(rng)
    profile: dict[str, Any] = {"imsi": imsi, "msisdn": msisdn}
    if rng.random() < 0.7:
        profile["email"] = f"sub{imsi[-6:]}.{rng.randrange(100)}@example.com"
    if rng.random() < 0.6:
        profile["app_user_id"] = f"u{rng.getrandbits(48):012x}"
    profile.update(payment_type=payment, plan_id=plan_id)
    age_band: str | None = pick(rng, cat.AGE_BANDS)
    if age_band is not None:
        profile["age_band"] = age_band
    profile.update(language=language, timezone=timezone, home_plmn=plmn, consent=consent)
    if payment != "PREPAID":
        profile["contract_end"] = _contract_end(rng, start)
    profile["trials"] = _trials(rng, start, days)
    profile["updated_at"] = start
    if rng.random() < 0.7:
        profile["segment"] = rng.choice(cat.SEGMENTS)
    return profile, wallet


def _language(rng: random.Random) -> tuple[str, str]:
    language: str = pick(rng, cat.LANGUAGES)
    if language != "en" and rng.random() < 0.4:
        return language, dict(cat.LANGUAGE_TIMEZONES)[language]
    if rng.random() < 0.03:
        return language, rng.choice(cat.OTHER_TIMEZONES)
    return language, "Europe/London"


def _consent(rng: random.Random) -> dict[str, bool]:
    """Opt-in per channel at the target rates overall; a tenth opted in to nothing."""
    nothing = rng.random() < NO_CONSENT_SHARE
    scale = 1.0 / (1.0 - NO_CONSENT_SHARE)
    given = {ch: not nothing and rng.random() < rate * scale for ch, rate in CONSENT_RATES}
    return {k: given[k] for k in ("sms", "email", "push", "location")}


def _plan(rng: random.Random, payment: str) -> tuple[str, Wallet]:
    if payment == "POSTPAID":
        plan_id, allowance = pick(rng, tuple(((p, a), w) for p, w, a in cat.POSTPAID_PLANS))
        if allowance is None:
            return plan_id, Wallet()
        return plan_id, _bundled(rng, Wallet(), f"{plan_id}_ALLOWANCE", allowance)
    wallet = Wallet(balance=round(rng.uniform(0.5, 25.0), 2))
    if payment == "HYBRID":
        plan_id, allowance = cat.HYBRID_PLAN
        return plan_id, _bundled(rng, wallet, f"{plan_id}_ALLOWANCE", allowance)
    plan_id = rng.choice(cat.PREPAID_PLANS)
    if rng.random() < 0.6:
        bundle_id, total = pick(rng, tuple(((b, t), w) for b, w, t in cat.PREPAID_BUNDLES))
        return plan_id, _bundled(rng, wallet, bundle_id, total)
    return plan_id, wallet


def _bundled(rng: random.Random, wallet: Wallet, bundle_id: str, total: int) -> Wallet:
    wallet.bundle_id, wallet.bundle_total = bundle_id, total
    wallet.bundle_remaining = int(total * rng.uniform(0.02, 1.0))
    return wallet


def _contract_end(rng: random.Random, start: int) -> int:
    today = start // DAY
    draw = rng.random()
    if draw < 0.15:
        return today + rng.randint(1, 60)
    if draw < 0.25:
        return today - rng.randint(1, 300)  # out of contract, rolling monthly
    return today + rng.randint(61, 720)


def _trials(rng: random.Random, start: int, days: int) -> list[dict[str, Any]]:
    draw = rng.random()
    count = 2 if draw < 0.03 else 1 if draw < 0.2 else 0
    products = [p for p, _ in cat.TRIAL_PRODUCTS]
    chosen = rng.sample(products, k=count)
    span = max(days, 1) * DAY  # expiry falls within the log, so it sees outcomes
    return [
        {
            "product_id": p,
            "expires_at": start + rng.randrange(3 * HOUR, span - HOUR),
            "status": "ACTIVE",
        }
        for p in chosen
    ]


def trial_changes(rng: random.Random, trials: list[dict[str, Any]], start: int) -> list[Change]:
    """Some trials convert shortly before they expire, some are cancelled before."""
    changes = []
    for i, trial in enumerate(trials):
        expires: int = trial["expires_at"]
        draw = rng.random()
        if draw < 0.4:
            changes.append(
                Change(max(start + HOUR, expires - rng.randrange(12 * HOUR)), i, "CONVERTED")
            )
        elif draw < 0.55:
            changes.append(Change(rng.randrange(start + HOUR, expires), i, "CANCELLED"))
    return changes


def changed_profiles(profile: dict[str, Any], changes: list[Change]) -> list[dict[str, Any]]:
    """Full new profiles after each change, in time order."""
    out = []
    for when, index, what, expires_at in sorted(changes):
        profile = dict(profile, updated_at=when)
        if index >= 0:
            profile["trials"] = [dict(t) for t in profile["trials"]]
            profile["trials"][index]["status"] = what
        elif index == NEW_TRIAL:
            added = {"product_id": what, "expires_at": expires_at, "status": "ACTIVE"}
            profile["trials"] = [dict(t) for t in profile["trials"]] + [added]
        else:
            profile["consent"] = dict(profile["consent"], **{what: not profile["consent"][what]})
        out.append(profile)
    return out
