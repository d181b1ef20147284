"""Opt-out is binding (cjo.state.consent): a later profile with the old consent does not undo it,
only an explicit opt-in later than it does."""

from __future__ import annotations

from typing import Any

from cjo import codec
from cjo.report.explain import explain
from cjo.state import Position, SubscriberState, apply_record
from cjo.state.consent import opted_out
from tests.unit.factories import IMSI, profile


def response(status: str, at: int, channel: str = "SMS", **extra: Any) -> dict[str, Any]:
    return {"event_id": f"r-{status}-{at}", "event_time": at, "offer_id": "o-1", "imsi": IMSI,
            "channel": channel, "status": status, "provider_message_id": None,
            "reason": "sms_keyword:STOP" if status == "OPTED_OUT" else None, **extra}


class Feed:
    """Records applied in order, each at the next offset of its stream."""

    def __init__(self) -> None:
        self.state = SubscriberState(imsi=IMSI)
        self.offsets: dict[str, int] = {}

    def __call__(self, stream: str, record: dict[str, Any]) -> SubscriberState:
        offset = self.offsets[stream] = self.offsets.get(stream, -1) + 1
        new = apply_record(self.state, stream, record, Position(stream, offset))
        assert new is not None
        self.state = new
        return new


def test_opt_out_withdraws_the_channel_at_once_and_only_that_channel() -> None:
    feed = Feed()
    feed("subscribers", profile(at=10, sms=True, email=True))
    s = feed("responses", response("OPTED_OUT", 20))
    assert s.consent["sms"] is False and s.consent["email"] is True
    assert s.opt_outs["sms"] == {"at": 20, "reason": "sms_keyword:STOP", "offer_id": "o-1"}


def test_a_later_profile_with_the_old_consent_does_not_undo_an_opt_out() -> None:
    feed = Feed()
    feed("subscribers", profile(at=10, sms=True))
    feed("responses", response("OPTED_OUT", 20))
    s = feed("subscribers", profile(at=30, sms=True))
    assert s.profile_at == 30 and s.consent["sms"] is False and opted_out(s, "sms")


def test_a_profile_opt_in_later_than_the_opt_out_lifts_it_an_older_one_does_not() -> None:
    feed = Feed()
    feed("subscribers", profile(at=10, sms=True))
    feed("responses", response("OPTED_OUT", 20))
    s = feed("subscribers", profile(at=30, sms=True, opted_in_at={"sms": 15}))
    assert s.consent["sms"] is False  # opted in before opting out: still out
    s = feed("subscribers", profile(at=40, sms=True, opted_in_at={"sms": 35}))
    assert s.consent["sms"] is True and not opted_out(s, "sms")
    s = feed("subscribers", profile(at=50, sms=True))  # the opt-in is remembered
    assert s.consent["sms"] is True


def test_an_opted_in_response_lifts_the_opt_out_and_grants_the_channel() -> None:
    feed = Feed()
    feed("subscribers", profile(at=10, sms=True))
    feed("responses", response("OPTED_OUT", 20))
    s = feed("responses", response("OPTED_IN", 25))
    assert s.consent["sms"] is True
    s = feed("subscribers", profile(at=30, sms=True))
    assert s.consent["sms"] is True


def test_an_opt_out_older_than_an_opt_in_already_seen_withdraws_nothing() -> None:
    feed = Feed()
    feed("subscribers", profile(at=10, sms=True, opted_in_at={"sms": 50}))
    s = feed("responses", response("OPTED_OUT", 40))  # arrives late
    assert s.consent["sms"] is True
    s = feed("responses", response("OPTED_OUT", 60))
    assert s.consent["sms"] is False


def test_other_responses_and_unknown_channels_leave_consent_alone() -> None:
    feed = Feed()
    feed("subscribers", profile(at=10, sms=True, push=True))
    s = feed("responses", response("DELIVERED", 20))
    s = feed("responses", response("OPTED_OUT", 21, channel="UNKNOWN"))
    assert s.consent["sms"] is True and s.consent["push"] is True and s.opt_outs == {}


def test_a_redelivered_opt_out_is_skipped_and_the_state_survives_serialisation() -> None:
    feed = Feed()
    feed("subscribers", profile(at=10, sms=True))
    s = feed("responses", response("OPTED_OUT", 20))
    assert apply_record(s, "responses", response("OPTED_OUT", 20), Position("responses", 0)) is None
    back = SubscriberState.from_bytes(s.to_bytes())
    assert back.opt_outs == s.opt_outs and back.consent["sms"] is False


def test_an_old_state_without_the_opt_out_fields_reads_with_none() -> None:
    raw = SubscriberState(imsi=IMSI).__dict__
    old = {k: v for k, v in raw.items() if k not in ("opt_outs", "opt_ins")}
    import orjson
    state = SubscriberState.from_bytes(orjson.dumps(old))
    assert state.opt_outs == {} and state.opt_ins == {}


def test_the_new_fields_default_for_records_of_older_producers() -> None:
    old_profile = {k: v for k, v in profile(at=10, sms=True).items()}
    record = codec.normalise("SubscriberProfile", old_profile)
    assert record["opted_in_at"] == {"sms": None, "email": None, "push": None, "location": None}
    opt_out = codec.normalise("OfferResponse", {k: v for k, v in response("OPTED_OUT", 5).items()
                                                if k != "reason"})
    assert opt_out["status"] == "OPTED_OUT" and opt_out["reason"] is None


def test_an_explicit_opt_in_time_survives_the_wire() -> None:
    record = codec.normalise("SubscriberProfile", profile(at=10, opted_in_at={"push": 7}))
    assert codec.decode(codec.encode("SubscriberProfile", record))[1]["opted_in_at"] == {
        "sms": None, "email": None, "push": 7, "location": None}


def test_explain_shows_the_opt_out_and_when() -> None:
    text = explain(IMSI, [], [], responses=[response("DELIVERED", 1_767_261_600_000),
                                           response("OPTED_OUT", 1_767_261_700_000)])
    assert "2026-01-01 10:01:40 UTC  opted out of sms (sms_keyword:STOP)" in text
    assert "DELIVERED" not in text and f"no decisions for IMSI {IMSI}" in text
