"""A hand-written recorded log with one subscriber per case of the default catalogue, and the
decisions it must give: each trigger fires when it should, once, and not when it should not.

Every subscriber's own timeline ends with an event at ``END``, so the timers due before it fire
whatever the partitioning (a partition's watermark only moves with its own records in replay).
"""

from __future__ import annotations

from typing import Any

T0 = 1_768_039_200_000  # 2026-01-10T10:00Z: 9 days into the month (bill-shock pace is measured)
MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
END = T0 + 8 * HOUR
HOME = "23415"
GB = 1_000_000_000
WESTFIELD = (51.5430, -0.0065)
WEMBLEY = (51.5560, -0.2796)
OUTSIDE_WEMBLEY = (51.5650, -0.2650)


def imsi(n: int) -> str:
    return f"23415{n:010d}"


def line(stream: str, n: int, value: dict[str, Any]) -> dict[str, Any]:
    return {"topic": stream, "key": imsi(n), "value": {"imsi": imsi(n), **value}}


def profile(n: int, at: int = T0 - HOUR, *, payment: str = "POSTPAID", age: str = "A25_34",
            location: bool = False, trials: list[dict[str, Any]] | None = None,
            contract_end: int | None = None) -> dict[str, Any]:
    return line("subscribers", n, {
        "msisdn": f"4477009{n:05d}", "email": f"s{n}@example.com", "app_user_id": f"app-{n}",
        "payment_type": payment, "plan_id": "p1", "age_band": age, "language": "en",
        "timezone": "Europe/London", "home_plmn": HOME, "contract_end": contract_end,
        "consent": {"sms": True, "push": True, "email": True, "location": location},
        "trials": trials or [],
        "updated_at": at})


def loc(n: int, at: int, serving: str = HOME, lat_lon: tuple[float, float] | None = None,
        imeisv: str | None = None) -> dict[str, Any]:
    lat, lon = lat_lon or (None, None)
    return line("location", n, {"event_id": f"l-{n}-{at}", "event_time": at,
                                "event_type": "LOCATION_REPORT", "home_plmn": HOME,
                                "serving_plmn": serving, "lat": lat, "lon": lon,
                                "imeisv": imeisv})


def charge(n: int, at: int, **fields: Any) -> dict[str, Any]:
    return line("charging", n, {"event_id": f"c-{n}-{at}", "event_time": at,
                                "session_id": f"s{n}", "request_type": "UPDATE",
                                "home_plmn": HOME, "serving_plmn": HOME, **fields})


def use(n: int, at: int, category: str = "VIDEO", dropped: bool = False) -> dict[str, Any]:
    return line("usage", n, {"event_id": f"u-{n}-{at}", "event_time": at, "app_id": "app",
                             "app_category": category, "bytes_uplink": 1,
                             "bytes_downlink": 2, "duration_ms": 60_000, "dropped": dropped})


def trial(product: str, expires_at: int, status: str = "ACTIVE") -> dict[str, Any]:
    return {"product_id": product, "expires_at": expires_at, "status": status}


def _cases() -> dict[int, list[dict[str, Any]]]:
    c: dict[int, list[dict[str, Any]]] = {}
    # 1 roaming welcome
    c[1] = [profile(1), loc(1, T0), loc(1, T0 + HOUR, "20801")]
    # 2 a trial expires while ACTIVE; 3 the same trial converted an hour before
    expiring = [trial("video_plus_7d", T0 + 2 * HOUR)]
    c[2] = [profile(2, trials=expiring)]
    c[3] = [profile(3, trials=expiring),
            profile(3, T0 + HOUR, trials=[trial("video_plus_7d", T0 + 2 * HOUR, "CONVERTED")])]
    # 4 bundle: half used on the 10th (the month's pace overshoots), then 85 % then 90 % used
    c[4] = [profile(4)] + [
        charge(4, T0 + k * HOUR, bundle_id="ADDON_10GB", bundle_total_octets=10 * GB,
               bundle_remaining_octets=left * GB // 10)
        for k, left in enumerate((50, 15, 10))]
    # 5 prepaid balance falls below 2.0; 6 the same for a postpaid subscriber (ineligible)
    c[5] = [profile(5, payment="PREPAID")] + [
        charge(5, T0 + k * HOUR, balance=b, currency="GBP") for k, b in enumerate((5.0, 1.5))]
    c[6] = [profile(6)] + [
        charge(6, T0 + k * HOUR, balance=b, currency="GBP") for k, b in enumerate((5.0, 1.5))]
    # 7 young, location consent, 20 min at the mall; 8 without location consent; 9 too old
    for n, age, consent in ((7, "A18_24", True), (8, "A18_24", False), (9, "A35_44", True)):
        c[n] = [profile(n, age=age, location=consent), loc(n, T0 - 10 * MIN)] + [
            loc(n, T0 + k * 10 * MIN, lat_lon=WESTFIELD) for k in range(3)]
    # 10 a match at Wembley: in from T0 for 2.5 h, fixes every 10 min, then seen outside
    c[10] = [profile(10, location=True), loc(10, T0 - 30 * MIN, lat_lon=OUTSIDE_WEMBLEY)] + [
        loc(10, T0 + k * 10 * MIN, lat_lon=WEMBLEY) for k in range(16)] + [
        loc(10, T0 + 160 * MIN, lat_lon=OUTSIDE_WEMBLEY)]
    # 11 two single-day gaming trials, then a gaming session
    first = trial("gaming_pass_1d", T0 + 20 * DAY)
    c[11] = [profile(11, trials=[first]),
             profile(11, T0 + HOUR, trials=[first, trial("gaming_pass_1d", T0 + 21 * DAY)]),
             use(11, T0 + 2 * HOUR, "GAMING")]
    # 12 a new handset (another TAC)
    c[12] = [profile(12), loc(12, T0, imeisv="3587510912345601"),
             loc(12, T0 + HOUR, imeisv="8607210498765402")]
    # 13 contract ends in 30 days: the renewal window opened already (caught up); 14 in 200 days
    day0 = T0 // DAY
    c[13] = [profile(13, contract_end=day0 + 30)]
    c[14] = [profile(14, contract_end=day0 + 200)]
    # 15 three dropped sessions within the hour, and three more before the 1-day cooldown ends
    c[15] = [profile(15)] + [use(15, T0 + m * MIN, dropped=True) for m in (0, 10, 20)] + [
        use(15, T0 + 3 * HOUR + m * MIN, dropped=True) for m in (0, 10, 20)]
    return c


def scenario() -> list[dict[str, Any]]:
    """The log: the cases merged in event-time order, each subscriber's timeline closed at END."""
    lines = [x for case in _cases().values() for x in case]
    lines += [use(n, END) for n in _cases()]

    def at(x: dict[str, Any]) -> int:
        return int(x["value"].get("event_time", x["value"].get("updated_at")))

    lines.sort(key=at)
    return lines


EXPECTED: set[tuple[int, str, str]] = {
    (1, "roaming_welcome", "SENT"),
    (2, "trial_expiry_promo", "SENT"),
    (4, "bill_shock", "SENT"),
    (4, "bundle_topup", "SENT"),
    (5, "low_balance", "SENT"),
    (6, "low_balance", "SUPPRESSED"),
    (7, "mall_food_voucher", "SENT"),
    (8, "mall_food_voucher", "SUPPRESSED"),
    (9, "mall_food_voucher", "SUPPRESSED"),
    (10, "stadium_arrival", "SENT"),
    (10, "stadium_halftime", "SENT"),
    (10, "stadium_leaving", "SUPPRESSED"),  # the third offer of the evening: 2 per 24 h
    (11, "gaming_bundle", "HOLDOUT"),  # this subscriber falls in the 5 % control group
    (12, "new_device_accessories", "SENT"),
    (13, "contract_renewal", "SENT"),
    (15, "dropped_sessions_apology", "SENT"),
    (15, "dropped_sessions_apology", "SUPPRESSED"),
}

REASONS: dict[tuple[int, str, str], list[str]] = {
    (6, "low_balance", "SUPPRESSED"): ["ineligible:payment_type"],
    (8, "mall_food_voucher", "SUPPRESSED"): ["no_consent:location"],
    (9, "mall_food_voucher", "SUPPRESSED"): ["ineligible:age_band"],
    (15, "dropped_sessions_apology", "SUPPRESSED"): ["cooldown:1d"],
    (10, "stadium_leaving", "SUPPRESSED"): ["frequency_cap:2/24h"],
    (11, "gaming_bundle", "HOLDOUT"): ["holdout:5%"],
}


def outcomes(decisions: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    return sorted((int(d["imsi"][5:]), d["trigger_id"], d["outcome"]) for d in decisions)
