"""A real headless browser for page tests: Debian's chromium and its matching chromedriver,
driven by selenium, offline.

``headless_chromium()`` installs the two Debian packages when they are missing (``apt-get``, as
root: what a fresh CI machine needs; a developer without root gets a skip saying what to run,
CI never skips). Selenium Manager is told to stay offline (``SE_OFFLINE``): the browser and the
driver are the system's, never downloads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PACKAGES = ("chromium", "chromium-driver")
ARTIFACTS = Path(os.environ.get("CJO_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[2] / "test-artifacts"))


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def ensure_chromium() -> None:
    """Install chromium and chromium-driver with apt-get if either is missing."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    why = ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        why = "needs root and apt-get"
    else:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for argv in (["apt-get", "update", "-qq"],
                     ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]):
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600,
                                  check=False)
            if done.returncode != 0:
                why = f"{' '.join(argv)} failed: {done.stderr.strip()[-500:]}"
                break
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        message = (f"the browser test needs Debian's {' and '.join(PACKAGES)} "
                   f"(apt-get install -y {' '.join(PACKAGES)}): {why or 'not installed'}")
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def headless_chromium(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    ensure_chromium()
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: no network, no downloads
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--no-first-run", "--disable-extensions",
                     f"--window-size={width},{height}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str) -> Path:
    """Save what the browser shows as ``test-artifacts/<name>.png`` (``CJO_TEST_ARTIFACTS``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
