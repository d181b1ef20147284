"""Opt-out is binding on the real worker (session Apache Kafka): after an SMS STOP (an OPTED_OUT
response) a later profile that still carries the old SMS consent does not bring SMS back; the
next offer is suppressed, and `cjo explain` shows the opt-out and when."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cjo.adapters.audit_commands import run_explain
from cjo.adapters.broker import Broker
from tests.integration.pipeline import Pipeline, write_log
from tests.scenarios.default_triggers import DAY, HOUR, T0, imsi, line, loc, profile

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

N = 1  # a subscriber the default catalogue's roaming welcome is sent to (not held out)
OPT_OUT_AT = T0 + 2 * HOUR
LATER = T0 + 15 * DAY  # past the travel pass's 14-day dedupe: without the opt-out it is sent


def sms_only(at: int) -> dict:  # type: ignore[type-arg]
    record = profile(N, at)
    record["value"]["consent"] = {"sms": True, "push": False, "email": False,
                                  "location": False}
    return record


def test_an_offer_is_suppressed_after_an_opt_out_despite_a_later_profile_with_consent(
        broker: Broker, unique_prefix: str, tmp_path: Path) -> None:
    log = write_log(tmp_path / "opt_out.jsonl", [
        sms_only(T0 - HOUR),
        loc(N, T0), loc(N, T0 + HOUR, "20801"),  # lands in France: welcome offer by SMS
        line("responses", N, {"event_id": "stop-1", "event_time": OPT_OUT_AT,
                              "offer_id": "offer-of-the-first-trip", "channel": "SMS",
                              "status": "OPTED_OUT", "reason": "sms_keyword:STOP"}),
        loc(N, T0 + 3 * HOUR),  # home
        sms_only(LATER - HOUR),  # the CRM's copy, still saying yes to SMS
        loc(N, LATER, "21401"),  # Spain
    ])
    pipeline = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=2)
    summary = pipeline.run(log, timeout_s=180)
    welcomes = sorted((d for d in summary.decisions if d["imsi"] == imsi(N)
                       and d["trigger_id"] == "roaming_welcome"),
                      key=lambda d: d["trigger_time"])
    assert [(d["outcome"], d["channel"]) for d in welcomes] == [
        ("SENT", "SMS"), ("SUPPRESSED", None)], welcomes
    assert welcomes[1]["reasons"] == ["no_consent:push,sms,email"]  # SMS withdrawn too
    assert [o["channel"] for o in summary.offers] == ["SMS"]

    out = io.StringIO()
    assert run_explain(pipeline.settings, imsi(N), out=out) == 0
    text = out.getvalue()
    assert ("2026-01-10 12:00:00 UTC  opted out of sms (sms_keyword:STOP), answering offer id "
            "offer-of-the-first-trip") in text
    assert "no_consent" in text
