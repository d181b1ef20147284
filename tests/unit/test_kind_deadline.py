from typing import Any

from cjo.state import SubscriberState
from cjo.triggers.kinds import KINDS
from cjo.triggers.moment import Moment
from tests.unit.factories import IMSI, charging, drive, observe, profile, trigger

HOUR, DAY = 3_600_000, 86_400_000
T0 = 20_454 * DAY  # 2026-01-01 00:00 UTC


def trial(product: str, expires: int, status: str = "ACTIVE") -> dict[str, Any]:
    return {"product_id": product, "expires_at": expires, "status": status}


def prof(at: int, *trials: dict[str, Any], **extra: Any) -> tuple[str, dict[str, Any]]:
    return ("subscribers", profile(at=at, trials=list(trials), **extra))


EXPIRY = trigger("deadline", {"anchor": "trial_expiry", "offset": "-2h",
                              "products": ["gaming_*"]})


def test_trial_expiry_fires_before_expiry_while_active() -> None:
    expires = T0 + 18 * HOUR
    moments = drive(EXPIRY, [prof(T0, trial("gaming_1d", expires), trial("video_1d", expires)),
                             prof(T0 + HOUR, trial("gaming_1d", expires),
                                  trial("video_1d", expires))], until=T0 + DAY)
    [moment] = moments
    assert (moment.instance, moment.event_time) == (f"gaming_1d-{expires}", expires - 2 * HOUR)
    assert moment.attrs == {"product_id": "gaming_1d", "expires_at": "2026-01-01 18:00 UTC"}


def test_a_converted_trial_is_not_reminded() -> None:
    expires = T0 + 18 * HOUR
    records = [prof(T0, trial("gaming_1d", expires)),
               prof(T0 + HOUR, trial("gaming_1d", expires, "CONVERTED"))]
    assert drive(EXPIRY, records, until=T0 + DAY) == []


def test_timer_requested_once_and_past_dues_skipped_without_catch_up() -> None:
    kind, expires = KINDS["deadline"], T0 + 18 * HOUR
    first = observe(SubscriberState(imsi=IMSI), *prof(T0, trial("gaming_1d", expires)))
    found = kind.on_event(EXPIRY, first, {}, {})
    assert [(t.due, t.instance) for t in found.timers] == [
        (expires - 2 * HOUR, f"gaming_1d-{expires}")]
    again = observe(first.after, *prof(T0 + 1, trial("gaming_1d", expires)))
    assert kind.on_event(EXPIRY, again, found.memory or {}, {}).timers == []
    late = observe(SubscriberState(imsi=IMSI), *prof(expires, trial("gaming_1d", expires)))
    assert kind.on_event(EXPIRY, late, {}, {}).timers == []


def test_contract_end_with_catch_up() -> None:
    renew = trigger("deadline", {"anchor": "contract_end", "offset": "-60d", "catch_up": True})
    end = 20_513  # 2026-03-01
    [moment] = drive(renew, [prof(T0, contract_end=end)], until=T0 + DAY)
    assert (moment.instance, moment.event_time) == (f"contract-{end}", T0)
    assert moment.attrs == {"contract_end": "2026-03-01", "days_left": 59}
    # on time: due at end - 60 days exactly
    [on_time] = drive(renew, [prof(T0 - 30 * DAY, contract_end=end)], until=T0)
    assert on_time.event_time == end * DAY - 60 * DAY and on_time.attrs["days_left"] == 60


def test_catch_up_never_announces_a_contract_already_ended() -> None:
    renew = trigger("deadline", {"anchor": "contract_end", "offset": "-60d", "catch_up": True})
    ended = 20_454 - 148  # 148 days before T0
    assert drive(renew, [prof(T0, contract_end=ended)], until=T0 + DAY) == []


def test_contract_end_changed_cancels() -> None:
    renew = trigger("deadline", {"anchor": "contract_end", "offset": "-1d"})
    records = [prof(T0, contract_end=20_460), prof(T0 + HOUR, contract_end=20_500)]
    moments = drive(renew, records, until=20_501 * DAY)
    assert [m.instance for m in moments] == ["contract-20500"]


FOLLOW_UP = trigger("deadline", {"anchor": "moment", "trigger": "low_balance",
                                 "offset": "1h", "unless": "topup"})


def run_follow_up(records: list[tuple[str, dict[str, Any]]], anchor_at: int) -> list[Moment]:
    """The deadline over records, with a low_balance moment on the record at ``anchor_at``."""
    kind, state = KINDS["deadline"], SubscriberState(imsi=IMSI)
    memory: dict[str, Any] = {}
    timers: list[tuple[int, str]] = []
    moments: list[Moment] = []
    for stream, record in records:
        at = record["event_time"]
        for due, instance in [t for t in timers if t[0] <= at]:
            timers.remove((due, instance))
            found = kind.on_timer(FOLLOW_UP, due, instance, state, memory, {})
            moments += found.moments
            memory = found.memory if found.memory is not None else memory
        anchor = [Moment("low_balance", f"m-{at}", IMSI, "e", at)] if at == anchor_at else []
        obs = observe(state, stream, record, anchor)
        state = obs.after
        found = kind.on_event(FOLLOW_UP, obs, memory, {})
        timers += [(t.due, t.instance) for t in found.timers]
        memory = found.memory if found.memory is not None else memory
    return moments


def bal(at: int, value: float) -> tuple[str, dict[str, Any]]:
    return ("charging", charging("23415", at, balance=value))


def test_moment_anchor_fires_offset_after_unless_topped_up() -> None:
    [moment] = run_follow_up([bal(T0, 5), bal(T0 + 1, 1), bal(T0 + 2 * HOUR, 0.5)], T0 + 1)
    assert (moment.trigger_id, moment.instance, moment.event_time) == (
        "t1", f"m-{T0 + 1}", T0 + 1 + HOUR)
    assert moment.attrs == {"trigger": "low_balance"}
    # topped up, then spent below the anchor's balance again: still cancelled
    records = [bal(T0, 5), bal(T0 + 1, 1), bal(T0 + 10, 20), bal(T0 + 20, 0.5),
               bal(T0 + 2 * HOUR, 0.5)]
    assert run_follow_up(records, T0 + 1) == []


def test_attribute_samples_name_the_anchor_trigger() -> None:
    assert KINDS["deadline"].samples(FOLLOW_UP.params) == {"trigger": "low_balance"}
