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


# --- trigger kinds (cjo.triggers.kinds): catalogue triggers, observations and a driver ----------

def trigger(kind: str, params: dict[str, Any], trigger_id: str = "t1") -> Any:
    """A validated catalogue trigger of ``kind`` with ``params`` and a minimal offer."""
    from pydantic import TypeAdapter

    from cjo.catalogue.model import Trigger

    return TypeAdapter(Trigger).validate_python({
        "id": trigger_id, "kind": kind, "params": params,
        "offers": [{"code": "X", "templates": {"en": "hello"}}]})


def observe(state: Any, stream: str, record: dict[str, Any], moments: Any = ()) -> Any:
    """``record`` applied to ``state`` as the decider hands it to a kind (an Observation)."""
    from cjo.state import Position, apply_record
    from cjo.triggers.facts import facts
    from cjo.triggers.kinds.base import Observation

    after = apply_record(state, stream, record, Position(stream))
    assert after is not None
    return Observation(stream, record, state, after, facts(stream, record, state, after),
                       tuple(moments))


def drive(trg: Any, records: list[tuple[str, dict[str, Any]]], venues: Any = None,
          until: int | None = None) -> list[Any]:
    """Moments of one trigger over ``records``, carrying its memory like the decider does and
    firing each requested timer (once per due and instance) before the first record at or after
    its due time, and at the end those due by ``until``."""
    from cjo.state import SubscriberState
    from cjo.triggers.kinds import KINDS

    kind, venues = KINDS[trg.kind], venues or {}
    state, memory = SubscriberState(imsi=IMSI), {}
    timers: set[tuple[int, str]] = set()
    moments: list[Any] = []

    def take(detection: Any) -> None:
        nonlocal memory
        moments.extend(detection.moments)
        timers.update((t.due, t.instance) for t in detection.timers)
        if detection.memory is not None:
            memory = detection.memory

    def fire(upto: int) -> None:
        for due, instance in sorted(t for t in timers if t[0] <= upto):
            timers.discard((due, instance))
            take(kind.on_timer(trg, due, instance, state, memory, venues))

    for stream, record in records:
        fire(int(record.get("event_time", record.get("updated_at", 0))))
        obs = observe(state, stream, record)
        state = obs.after
        take(kind.on_event(trg, obs, memory, venues))
    if until is not None:
        fire(until)
    return moments
