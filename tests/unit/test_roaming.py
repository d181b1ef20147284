from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from cjo.catalogue.validate import default_catalogue
from cjo.engine.decide import Context, Effects, decide, new_state
from cjo.offers import offer_id
from cjo.state import Position, SubscriberState
from tests.unit.factories import IMSI, location, profile

# these tests are about detection (tiny epoch offsets: midnight, trips ms apart): no contact policy
_DEFAULT = default_catalogue()
CATALOGUE = replace(_DEFAULT, policy=_DEFAULT.policy.model_copy(update={
    "quiet_hours": None, "caps": [], "dedupe": 0}))


def run(records: list[tuple[str, dict]], state: SubscriberState | None = None):
    state = state or new_state(IMSI)
    decisions, offers = [], []
    for offset, (stream, record) in enumerate(records):
        now = record.get("event_time", record.get("updated_at"))
        effects = Effects()
        after = decide(stream, record, state, Position(stream, offset),
                       Context(CATALOGUE, now=now, ingested_at=1), effects)
        if after is not None:
            state = after
            decisions += effects.decisions
            offers += effects.offers
    return state, decisions, offers


def test_one_offer_per_trip_on_the_first_consented_channel() -> None:
    _, decisions, offers = run([
        ("subscribers", profile(sms=True, email=True)),
        ("location", location("23415", 10)),
        ("location", location("20801", 20)),
        ("location", location("20801", 30)),
        ("location", location("21401", 40)),  # another country, same trip
        ("location", location("23415", 50)),  # home: trip over
        ("location", location("310260", 60)),  # second trip
    ])
    assert [o["channel"] for o in offers] == ["SMS", "SMS"]
    assert [o["trigger_time"] for o in offers] == [20, 60]
    assert offers[0]["offer_id"] == offer_id(IMSI, "roaming_welcome", "trip-20")
    assert offers[0]["destination"] == "447700900001"
    assert [d["outcome"] for d in decisions] == ["SENT", "SENT"]
    assert "France" in offers[0]["message"] and "the United States" in offers[1]["message"]


def test_push_is_preferred_when_consented() -> None:
    _, _, offers = run([("subscribers", profile(sms=True, push=True)),
                        ("location", location("20801", 20))])
    assert offers[0]["channel"] == "PUSH" and offers[0]["destination"] == "app-1"


def test_no_consent_is_suppressed_without_offer() -> None:
    _, decisions, offers = run([("subscribers", profile()), ("location", location("20801", 20))])
    assert offers == []
    # the reason names the channels of the offer she has not consented to
    assert [(d["outcome"], d["reasons"]) for d in decisions] == [
        ("SUPPRESSED", ["no_consent:push,sms,email"])]


def test_message_in_subscriber_language_else_english() -> None:
    _, _, de = run([("subscribers", profile(sms=True, language="de-AT")),
                    ("location", location("20801", 20))])
    assert de[0]["message"].startswith("Willkommen") and de[0]["language"] == "de"
    _, _, sv = run([("subscribers", profile(sms=True, language="sv")),
                    ("location", location("20801", 20))])
    assert sv[0]["message"].startswith("Welcome") and sv[0]["language"] == "en"


def test_home_only_subscriber_gets_nothing() -> None:
    _, decisions, _ = run([("subscribers", profile(sms=True))]
                          + [("location", location("23415", t)) for t in range(10)])
    assert decisions == []


def test_redelivery_after_crash_gives_same_offer_id_and_no_second_decision() -> None:
    records = [("subscribers", profile(sms=True)), ("location", location("20801", 20))]
    state, _, first = run(records)
    # the same records again against the state that saw them: nothing new
    _, again, _ = run(records, state)
    assert again == []
    # state lost (e.g. crash before the changelog write): the re-sent offer carries the same id
    _, _, resent = run(records)
    assert resent[0]["offer_id"] == first[0]["offer_id"]


@given(st.lists(st.sampled_from(["23415", "23410", "20801", "21401", "310260"]), max_size=40))
def test_offers_equal_home_to_abroad_transitions(networks: list[str]) -> None:
    records = [("subscribers", profile(sms=True))] + [
        ("location", location(plmn, 10 * (i + 1))) for i, plmn in enumerate(networks)]
    _, _, offers = run(records)
    abroad = [not p.startswith("234") for p in networks]
    starts = sum(1 for i, a in enumerate(abroad) if a and (i == 0 or not abroad[i - 1]))
    assert len(offers) == starts
    assert len({o["offer_id"] for o in offers}) == starts
