"""`cjo demo --catalogue FILE --decisions FILE` on a small simulated log: the worker runs that
catalogue, every decision lands in the file with its reasons, the summary counts outcomes per
reason; and a demo that fails keeps the worker's log and prints where it is."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cjo.adapters.demo import DemoOptions, run_demo
from cjo.cli import main
from sim import simulate, write_log
from tests.integration.http_client import call, get_json, wait_until
from tests.integration.test_hot_reload import VIDEO_ONLY

pytestmark = pytest.mark.integration


@pytest.fixture
def small_log(tmp_path: Path) -> Path:
    path = tmp_path / "day.jsonl"
    with path.open("w") as out:
        write_log(simulate(subscribers=20, days=1, seed=7), out)
    return path


def test_demo_runs_the_given_catalogue_and_writes_every_decision(
        small_log: Path, tmp_path: Path) -> None:
    catalogue = tmp_path / "video.yaml"
    catalogue.write_text(VIDEO_ONLY)
    decisions = tmp_path / "decisions.jsonl"
    out = io.StringIO()
    assert run_demo(DemoOptions(events=small_log, partitions=2, timeout_s=180,
                                catalogue=(catalogue,), decisions=decisions), out) == 0
    rows = [json.loads(line) for line in decisions.read_text().splitlines()]
    assert rows and {r["trigger_id"] for r in rows} == {"video_binge"}
    assert all(r["reasons"] for r in rows)
    text = out.getvalue()
    assert f"wrote {len(rows)} decisions (with their reasons) to {decisions}" in text
    assert "decisions by outcome and reason:" in text
    assert "end offsets" not in text  # behind --verbose


def test_a_failed_demo_keeps_the_worker_log(small_log: Path,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--events", str(small_log), "--partitions", "2", "--timeout", "0"])
    err = capfd.readouterr().err
    assert code == 2
    kept = re.search(r"the worker's log is kept: (\S+)", err)
    assert kept is not None, err
    path = Path(kept.group(1))
    try:
        assert path.is_file()
        assert f"worker log: {path}" in err  # the timeout names the same, kept, file
    finally:
        path.unlink(missing_ok=True)


@pytest.fixture
def three_channel_log(tmp_path: Path) -> Path:
    """A day of 20 subscribers whose offers go out on push, SMS and e-mail (10 offers, 4 of
    them SMS, by `cjo catalogue try`): seed 7's small log sends none by SMS."""
    path = tmp_path / "three-channels.jsonl"
    with path.open("w") as out:
        write_log(simulate(subscribers=20, days=1, seed=8), out)
    return path


@pytest.mark.kafka
def test_cjo_demo_kafka_prints_offers_and_serves_the_dashboard(three_channel_log: Path,
                                                                tmp_path: Path) -> None:
    """``cjo demo --kafka --serve``: the dashboard's URL printed first, the summary with what
    the gateways delivered, then the dashboard served (its figures are the demo's) until
    Ctrl-C, which ends the demo cleanly."""
    stdout = tmp_path / "demo.out"
    with stdout.open("w") as out:
        demo = subprocess.Popen([sys.executable, "-m", "cjo", "demo", "--kafka", "--serve",
                                 "--events", str(three_channel_log), "--partitions", "2",
                                 "--timeout", "240"],
                                stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until("the dashboard served", lambda: "serving the dashboard at" in
                   stdout.read_text(), 400, stdout.read_text)
        text = stdout.read_text()
        url = re.search(r"^live dashboard: (http://127\.0\.0\.1:\d+/dashboard)$", text,
                        re.MULTILINE)
        assert url is not None, text
        assert text.index("live dashboard:") < text.index("; replaying ")
        assert f"serving the dashboard at {url.group(1)} until Ctrl-C" in text
        status, page = call(url.group(1))
        assert status == 200 and b"/dashboard/static/dashboard.js" in page
        offers = re.search(r"first \d+ of (\d+) offers:", text)
        assert offers is not None and int(offers.group(1)) > 0, text
        wait_until("the dashboard's figures", lambda: get_json(
            url.group(1) + "/snapshot")[1]["offers"], 30)
        snapshot = get_json(url.group(1) + "/snapshot")[1]
        assert sum(o["count"] for o in snapshot["offers"]) == int(offers.group(1))
        _assert_gateways_delivered(text)
        demo.send_signal(signal.SIGINT)  # Ctrl-C
        assert demo.wait(60) == 0, stdout.read_text()
    finally:
        if demo.poll() is None:
            demo.kill()
    assert re.search(r"^Apache Kafka broker on 127\.0\.0\.1:\d+; replaying ",
                     stdout.read_text(), re.MULTILINE), stdout.read_text()
    assert call(url.group(1))[0] == 0  # nothing serves it any more


def _assert_gateways_delivered(text: str) -> None:
    # the gateways: each channel's offers answered on cjo.offers.responses, and the loopback
    # endpoint took as many as the responses say were delivered or sent
    lines = re.findall(r"^  (push|email|sms)\s+(.*); the loopback .* took (\d+)$", text,
                       re.MULTILINE)
    assert {channel for channel, _, _ in lines} >= {"push", "email", "sms"}, text
    for channel, statuses, took in lines:
        counts = {k: int(v) for v, k in re.findall(r"(\d+) (\w+)", statuses)}
        if channel == "sms":  # SENT when the SMSC took it (a part each), DELIVERED on receipt
            assert 0 < counts.get("SENT", 0) <= int(took), text
            assert counts.get("DELIVERED", 0) + counts.get("OPTED_OUT", 0) > 0, text
            continue
        assert counts.get("DELIVERED", 0) + counts.get("SENT", 0) == int(took), text
    assert sum(int(took) for _, _, took in lines) > 0, text


def test_ctrl_c_interrupts_the_demo_without_calling_it_a_failure(
        small_log: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"  # where the demo puts its worker's log
    tmp.mkdir()
    demo = subprocess.Popen([sys.executable, "-m", "cjo", "demo", "--events", str(small_log),
                             "--partitions", "1"], env={**os.environ, "TMPDIR": str(tmp)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp.glob("cjo-demo-worker-*.log")):
            assert demo.poll() is None and time.monotonic() < deadline, demo.communicate()
            time.sleep(0.05)
        demo.send_signal(signal.SIGINT)
        _out, err = demo.communicate(timeout=60)
    finally:
        demo.kill()
    assert demo.returncode == 130, err
    assert "demo failed" not in err and err.rstrip().endswith("cjo: interrupted"), err
    assert all(log.stat().st_size > 0 for log in tmp.glob("cjo-demo-worker-*.log"))
