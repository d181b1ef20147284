"""cjo tail's lines: a dead letter's bytes shown safely and readably, cut; records as lines."""

from __future__ import annotations

from cjo.report.lines import dead_letter_line, decision_line, excerpt


def test_bytes_are_shown_safely() -> None:
    assert excerpt(b"abc \x00\xff\x1b[31m\\") == "abc \\x00\\xff\\x1b[31m\\x5c"
    assert excerpt(b"") == "(empty)"
    long = excerpt(b"x" * 500, limit=20)
    assert long.startswith("x" * 20) and long.endswith("(500 bytes)")


def test_lines() -> None:
    dead = {"source_topic": "cjo.events.usage", "source_partition": 3, "source_offset": 41,
            "key": b"2341", "payload": b"\x00oops", "error": "imsi: not 5 to 15 digits",
            "failed_at": 1_780_000_000_000}
    assert dead_letter_line(dead) == (
        "2026-05-28T20:26:40Z DEAD cjo.events.usage[3]@41: imsi: not 5 to 15 digits | key 2341"
        " | payload \\x00oops")
    decision = {"published_at": 1_780_000_000_000, "outcome": "SUPPRESSED",
                "trigger_id": "bill_shock", "offer_code": "B", "channel": None,
                "imsi": "234150000000001", "reasons": ["frequency_cap:2/24h", "quiet_hours"],
                "score": 1.5, "model_version": 3}
    assert "SUPPRESSED bill_shock B imsi 234150000000001 reasons [frequency_cap:2/24h, " \
           "quiet_hours] score 1.500 model 3" in decision_line(decision)
