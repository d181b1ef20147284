from hypothesis import given
from hypothesis import strategies as st

from cjo.state import SubscriberState
from cjo.triggers.kinds import KINDS
from tests.unit.factories import IMSI, charging, drive, location, observe, profile, trigger, usage
from tests.unit.roaming_reference import ROAMING_WELCOME, detect_roaming_welcome

WELCOME = trigger("transition", {"attribute": "network", "from": "home", "to": "foreign"},
                  ROAMING_WELCOME)
BACK_HOME = trigger("transition", {"attribute": "network", "from": "foreign", "to": "home"})
NEW_PHONE = trigger("transition", {"attribute": "device"})


def imei(tac: str) -> str:
    return tac + "0000001"


def test_home_to_foreign_is_the_roaming_welcome_moment() -> None:
    [moment] = drive(WELCOME, [("subscribers", profile()), ("location", location("23415", 10)),
                               ("location", location("20801", 20)),
                               ("location", location("20801", 30))])
    assert (moment.trigger_id, moment.instance, moment.event_time) == (
        ROAMING_WELCOME, "trip-20", 20)
    assert moment.attrs == {"country": "France", "mcc": "208", "serving_plmn": "20801",
                            "previous_country": "the United Kingdom", "previous_mcc": "234"}


def test_foreign_to_home_fires_once_per_trip_end() -> None:
    moments = drive(BACK_HOME, [("location", location("20801", 10)),
                                ("location", location("21401", 20)),  # same trip
                                ("location", location("23415", 30)),
                                ("location", location("23410", 40)),
                                ("location", location("310260", 50)),
                                ("location", location("23415", 60))])
    assert [(m.instance, m.event_time) for m in moments] == [
        ("trip-10-end", 30), ("trip-50-end", 60)]
    assert moments[0].attrs["mcc"] == "234" and moments[0].attrs["serving_plmn"] == "23415"
    # back home, $country is home; $previous_country is where she was (the trip's last country)
    assert [(m.attrs["country"], m.attrs["previous_country"], m.attrs["previous_mcc"])
            for m in moments] == [("the United Kingdom", "Spain", "214"),
                                  ("the United Kingdom", "the United States", "310")]


def test_any_to_any_sees_both_directions_but_home_to_foreign_not_the_return() -> None:
    records = [("location", location("20801", 10)), ("location", location("23415", 20))]
    both = drive(trigger("transition", {"attribute": "network"}), records)
    assert [m.instance for m in both] == ["trip-10", "trip-10-end"]
    assert [m.instance for m in drive(WELCOME, records)] == ["trip-10"]


def test_a_late_foreign_event_starts_no_trip() -> None:
    moments = drive(WELCOME, [("location", location("23415", 50)),
                              ("location", location("20801", 40))])
    assert moments == []


def test_device_change_between_known_tacs() -> None:
    moments = drive(NEW_PHONE, [
        ("location", location("23415", 10, imeisv=imei("86072104"))),  # first sighting
        ("location", location("23415", 20, imeisv=imei("86072104"))),
        ("location", location("23415", 30)),  # no imeisv: unchanged
        ("location", location("23415", 40, imeisv=imei("35875109"))),
    ])
    [moment] = moments
    assert (moment.instance, moment.event_time) == ("tac-35875109-40", 40)
    assert moment.attrs == {"tac": "35875109", "previous_tac": "86072104"}


def test_device_from_to_are_tac_globs() -> None:
    to_apple = trigger("transition", {"attribute": "device", "to": "3587*"})
    records = [("location", location("23415", 10, imeisv=imei("35875109"))),
               ("location", location("23415", 20, imeisv=imei("86072104"))),
               ("location", location("23415", 30, imeisv=imei("35870000")))]
    assert [m.attrs["tac"] for m in drive(to_apple, records)] == ["35870000"]


def test_network_transition_ignores_records_without_a_trip_change() -> None:
    obs = observe(SubscriberState(imsi=IMSI), "usage", usage(5))
    assert KINDS["transition"].on_event(WELCOME, obs, {}, {}).moments == []


PLMNS = st.sampled_from(["23415", "23410", "20801", "21401", "310260", None])
STREAMS = st.sampled_from(["location", "charging", "usage"])


@given(st.lists(st.tuples(STREAMS, PLMNS, st.integers(0, 100)), max_size=40))
def test_network_home_to_foreign_equals_detect_roaming_welcome(
        events: list[tuple[str, str | None, int]]) -> None:
    state = observe(SubscriberState(imsi=IMSI), "subscribers", profile()).after
    kind = KINDS["transition"]
    for i, (stream, plmn, at) in enumerate(events):
        if stream == "usage":
            record = {**usage(at, serving=plmn), "event_id": f"e{i}"}
        elif plmn is None:
            continue  # charging and location always name a serving network
        elif stream == "charging":
            record = {**charging(plmn, at), "event_id": f"e{i}"}
        else:
            record = location(plmn, at, event_id=f"e{i}")
        obs = observe(state, stream, record)
        expected = detect_roaming_welcome(record, obs.before, obs.after)
        assert kind.on_event(WELCOME, obs, {}, {}).moments == expected
        state = obs.after
