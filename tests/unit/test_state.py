from cjo.state import Position, SubscriberState, apply_record
from tests.unit.factories import IMSI, charging, location, profile, usage


def fresh() -> SubscriberState:
    return SubscriberState(imsi=IMSI)


def test_profile_sets_contact_details_and_consent() -> None:
    after = apply_record(fresh(), "subscribers", profile(sms=True, language="de"), Position("p", 0))
    assert after is not None
    assert after.consent["sms"] is True and after.consent["push"] is False
    assert after.language == "de" and after.msisdn == "447700900001"
    assert after.home_plmn == "23415"


def test_older_profile_never_overwrites_newer() -> None:
    s = apply_record(fresh(), "subscribers", profile(at=10, language="fr"), Position("p", 0))
    assert s is not None
    s2 = apply_record(s, "subscribers", profile(at=5, language="de"), Position("p", 1))
    assert s2 is not None and s2.language == "fr" and s2.profile_at == 10


def test_redelivered_offset_is_skipped_and_state_untouched() -> None:
    s = apply_record(fresh(), "location", location("20801", 100), Position("loc", 7))
    assert s is not None and s.events == 1
    assert apply_record(s, "location", location("20801", 100), Position("loc", 7)) is None
    assert apply_record(s, "location", location("20801", 100), Position("loc", 3)) is None
    # another topic keeps its own offsets
    assert apply_record(s, "charging", charging("20801", 101), Position("chg", 3)) is not None


def test_apply_does_not_mutate_the_state_it_was_given() -> None:
    s = fresh()
    after = apply_record(s, "location", location("20801", 100), Position("loc", 0))
    assert after is not None and after.trip is not None
    assert s.trip is None and s.applied == {} and s.events == 0


def test_trip_starts_abroad_and_ends_at_home() -> None:
    s = fresh()
    for i, (plmn, at) in enumerate([("23415", 1), ("20801", 2), ("20810", 3), ("26201", 4)]):
        nxt = apply_record(s, "location", location(plmn, at), Position("loc", i))
        assert nxt is not None
        s = nxt
    assert s.trip == {"mcc": "262", "plmn": "26201", "started_at": 2} and s.trips == 1
    back = apply_record(s, "charging", charging("23410", 5), Position("chg", 0))
    assert back is not None and back.trip is None and back.trips == 1


def test_late_event_does_not_move_serving_network_back() -> None:
    s = apply_record(fresh(), "location", location("20801", 100), Position("loc", 0))
    assert s is not None
    late = apply_record(s, "charging", charging("23415", 50), Position("chg", 0))
    assert late is not None and late.trip is not None and late.serving_plmn == "20801"


def test_charging_tracks_balance_and_bundle() -> None:
    rec = charging("23415", 10, balance=4.5, currency="GBP", bundle_id="b1",
                   bundle_total_octets=100, bundle_remaining_octets=30)
    s = apply_record(fresh(), "charging", rec, Position("chg", 0))
    assert s is not None and s.balance == 4.5 and s.currency == "GBP"
    assert s.bundle == {"id": "b1", "total": 100, "remaining": 30, "at": 10}


def test_location_tracks_device_and_position() -> None:
    rec = location("23415", 10, imeisv="3569870012345601", lat=51.5, lon=-0.1, cell_id="c1")
    s = apply_record(fresh(), "location", rec, Position("loc", 0))
    assert s is not None and s.device_tac == "35698700"
    assert s.location is not None and s.location["lat"] == 51.5


def test_usage_with_serving_network_can_start_a_trip_once_home_is_known() -> None:
    unknown_home = apply_record(fresh(), "usage", usage(10, serving="310260"), Position("u", 0))
    assert unknown_home is not None and unknown_home.trip is None
    s = apply_record(fresh(), "subscribers", profile(), Position("p", 0))
    assert s is not None
    s = apply_record(s, "usage", usage(10, serving="310260"), Position("use", 0))
    assert s is not None and s.trip is not None and s.trip["mcc"] == "310"


def test_state_round_trips_through_bytes() -> None:
    s = apply_record(fresh(), "subscribers", profile(sms=True), Position("p", 0))
    assert s is not None
    s = apply_record(s, "location", location("20801", 100), Position("loc", 0))
    assert s is not None
    s.mark_decided("roaming_welcome:trip-100", 100)
    assert SubscriberState.from_bytes(s.to_bytes()) == s
