"""`catalogue try` and `explain` say what happened in words (issue 20, points 9 and 10): the bad
lines try skipped, listed and counted as replay counts them; disabled triggers apart from those
that never fired; the text that was sent; ``why`` in words; the channels ``no_consent`` means;
no publication date for what was never published; no ``late:2h>2h``."""

from __future__ import annotations

import io
from pathlib import Path

import orjson

from cjo.adapters.catalogue_commands import run_try
from cjo.catalogue.validate import DEFAULTS_DIR, load_catalogue
from cjo.engine.offline import read_log, run_offline
from cjo.report.explain import render_decision
from tests.scenarios.default_triggers import HOUR, T0, imsi, loc, profile

BUNDLED = [DEFAULTS_DIR / "venues.yaml", DEFAULTS_DIR / "triggers.yaml"]
INCOMPLETE = b'{"topic":"usage","key":"234150000000001","value":{"event_time":"12345678901"}}'


def _log(path: Path, *extra: bytes, **fields: object) -> Path:
    first = profile(1)
    first["value"].update(fields)
    lines = [orjson.dumps(x) for x in (first, loc(1, T0), loc(1, T0 + HOUR, "20801"))]
    path.write_bytes(b"\n".join([*lines, *extra]) + b"\n")
    return path


def test_try_lists_the_bad_lines_it_skipped_and_counts_them_as_replay(tmp_path: Path) -> None:
    log = _log(tmp_path / "log.jsonl", b"", b"not json", b"   ", INCOMPLETE)
    out = io.StringIO()
    assert run_try(BUNDLED, log, out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("3 records (2 bad lines skipped), 0 timers fired, 1 decision ")
    # blank lines are not bad lines (replay skips them too); each bad one with its reason, and
    # the user's own value where it is not personal data
    assert lines[1] == "    line 5: not JSON: invalid literal, expected 'null': line 1 column 1 " \
                       "(char 0)"
    assert lines[2] == "    line 7: value.event_id: required field missing"
    assert [n for n, _error in read_log(log)[1]] == [5, 7]


def test_try_tells_a_disabled_trigger_from_one_that_never_fired(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_try(BUNDLED, _log(tmp_path / "log.jsonl"), out=out) == 0
    rows = {line.split()[0]: line.split(None, 1)[1] for line in out.getvalue().splitlines()
            if line.startswith("  ") and not line.startswith("   ")}
    assert rows["roaming_welcome"] == "SENT 1"
    assert rows["welcome_home"] == "disabled (enabled: false)"  # enabled: false in the file
    assert rows["bill_shock"] == "no moment in this log"


def test_explain_shows_the_text_sent_and_why_in_words_without_a_1970_date(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_try(BUNDLED, _log(tmp_path / "log.jsonl"), out=out, explain_imsi=imsi(1)) == 0
    text = out.getvalue()
    assert "  text         [en] Welcome to France! Stay connected with our Travel Pass" in text
    assert "  why          sent: by push, the first channel of the offer she consented to" in text
    assert "  purpose      roaming" in text
    assert "1970" not in text and "published" not in text


def test_no_consent_names_the_channels_and_why_says_so(tmp_path: Path) -> None:
    log = _log(tmp_path / "log.jsonl", email=None,
               consent={"push": False, "sms": False, "email": True, "location": True})
    result = run_offline(read_log(log)[0], load_catalogue(
        [(str(p), p.read_text()) for p in BUNDLED]))
    [decision] = result.decisions
    # the profile has no e-mail address: consented, but cannot be reached there either
    assert decision["reasons"] == ["no_consent:push,sms", "no_address:email"]
    block = render_decision(decision)
    assert "why          not sent: she has not consented to push or sms, the offer's channels " \
           "she cannot be reached on; no address known for email" in block


def test_how_late_is_never_rounded_down_to_the_limit() -> None:
    from cjo.policy.eligibility import late_by

    hour, minute, second = 3_600_000, 60_000, 1_000
    assert late_by(2 * hour + 30 * second, 2 * hour) == "2h30s"  # was late:2h>2h
    assert late_by(2 * hour + 61 * second, 2 * hour) == "2h1m"
    assert late_by(3 * hour + 20 * minute, hour) == "3h"
    assert late_by(26 * hour, 24 * hour) == "1d2h"
    assert late_by(2 * hour + 500, 2 * hour) == "2h500ms"
