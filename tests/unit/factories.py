"""Plain record builders for unit tests: complete records, as the codec would hand them over."""

from __future__ import annotations

from typing import Any

IMSI = "234150000000001"
HOME = "23415"


def profile(imsi: str = IMSI, *, at: int = 0, language: str = "en", sms: bool = False,
            push: bool = False, email: bool = False, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "imsi": imsi, "msisdn": "447700900001", "email": "a@example.com", "app_user_id": "app-1",
        "payment_type": "PREPAID", "plan_id": "plan-s", "age_band": "A25_34",
        "language": language, "timezone": "Europe/London", "home_plmn": HOME,
        "consent": {"sms": sms, "email": email, "push": push, "location": False},
        "contract_end": None, "trials": [], "updated_at": at, "segment": None,
    }
    record.update(extra)
    return record


def location(serving: str, at: int, imsi: str = IMSI, event_id: str | None = None,
             **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "event_id": event_id or f"l-{at}", "event_time": at, "imsi": imsi, "msisdn": None,
        "event_type": "ATTACH", "home_plmn": HOME, "serving_plmn": serving, "tac": None,
        "cell_id": None, "lat": None, "lon": None, "imeisv": None,
    }
    record.update(extra)
    return record


def charging(serving: str, at: int, imsi: str = IMSI, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "event_id": f"c-{at}", "event_time": at, "imsi": imsi, "msisdn": None,
        "session_id": "s1", "request_type": "UPDATE", "rating_group": None,
        "used_total_octets": 1000, "home_plmn": HOME, "serving_plmn": serving, "rat_type": None,
        "balance": None, "currency": None, "bundle_id": None, "bundle_total_octets": None,
        "bundle_remaining_octets": None,
    }
    record.update(extra)
    return record


def usage(at: int, imsi: str = IMSI, serving: str | None = None) -> dict[str, Any]:
    return {
        "event_id": f"u-{at}", "event_time": at, "imsi": imsi, "app_id": "yt",
        "app_category": "VIDEO", "bytes_uplink": 1, "bytes_downlink": 2, "duration_ms": 3,
        "dropped": False, "throughput_kbps": None, "serving_plmn": serving,
    }
