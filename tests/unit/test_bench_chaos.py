"""The pure parts of the bench's --burst and --soak stages: schedule, recovery, per-minute lines."""

from __future__ import annotations

from bench.broker_scan import ScanRound, scan_text
from bench.chaos import (
    LoadRun,
    Phase,
    Sample,
    burst_phases,
    burst_report,
    due_times,
    recovery_s,
    soak_report,
)


def test_due_times_follow_each_phase_rate() -> None:
    due = list(due_times([Phase("a", 2, 2), Phase("b", 4, 1)]))
    assert due == [0.0, 0.5, 1.0, 1.5, 2.0, 2.25, 2.5, 2.75]


def test_burst_is_ten_times_the_steady_rate() -> None:
    before, burst, after = burst_phases(100, quick=False)
    assert (before.rate, burst.rate, after.rate) == (100, 1000, 100)
    assert burst.seconds == 60


def load_with(series: list[tuple[float, int]]) -> LoadRun:
    phases = [Phase("before", 1, 10), Phase("burst", 10, 10), Phase("after", 1, 30)]
    return LoadRun(phases, 0.0, [Sample(5, 100 << 20, 3, 10), Sample(15, 300 << 20, 90, 50)],
                   sorted(series))


def test_recovery_is_when_every_later_window_is_back_under_the_steady_p99() -> None:
    series = [(t, 100) for t in range(10)]  # steady: 100 ms
    series += [(t, 5_000) for t in range(10, 20)]  # burst
    series += [(20.0, 4_000), (26.0, 90), (31.0, 3_000), (36.0, 80), (41.0, 70), (46.0, 60),
               (48.0, 9_000)]  # the last window: the end of the input, not judged
    load = load_with(series)
    assert recovery_s(load, 100) == 15.0  # the window from 35 s on, 15 s after the burst
    report = burst_report(load)
    assert report["phases"]["burst"]["p50_ms"] == 5_000
    assert report["max_lag"] == 90 and report["peak_rss_mb"] == 300
    assert report["steady_window_p99_ms"] == 100 and report["recovery_s"] == 15.0
    assert recovery_s(load, 100, "p50_ms") == 15.0
    assert [w["p99_ms"] for w in report["after_windows"][:2]] == [4_000, 90]


def test_no_recovery_when_the_last_window_judged_is_still_slow() -> None:
    load = load_with([(1.0, 100), (41.0, 9_000)])
    assert recovery_s(load, 100) is None


def test_soak_reports_one_line_a_minute() -> None:
    load = LoadRun([Phase("steady", 10, 120)], 0.0,
                   [Sample(30, 50 << 20, 5, 600), Sample(90, 60 << 20, 7, 1_200)],
                   [(10.0, 200), (70.0, 300)], base=0)
    minutes = soak_report(load)
    assert [m["minute"] for m in minutes] == [1, 2]
    assert minutes[0]["records_per_s"] == 10
    assert minutes[1]["rss_mb"] == 60 and minutes[1]["p99_ms"] == 300
    assert minutes[1]["records_per_s"] == 10  # 600 records committed in the second minute


def test_broker_scan_prints_each_round_against_the_first() -> None:
    text = scan_text([ScanRound(15_200, 56.6, 10.0), ScanRound(30_400, 65.4, 25.0)])
    lines = text.splitlines()
    assert lines[1].split() == ["15,200", "56.6", "10.0", "(1.0x)"]
    assert lines[2].split() == ["30,400", "65.4", "25.0", "(2.5x)"]
