"""Plain HTTP calls to a worker's web server (urllib: what an operator's curl does)."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import orjson


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, method: str = "GET", headers: Mapping[str, str] | None = None,
         timeout_s: float = 10.0) -> tuple[int, bytes]:
    """(status, body); (0, b"") when nothing answers."""
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


def get_json(url: str, **kwargs: Any) -> tuple[int, Any]:
    status, body = call(url, **kwargs)
    try:
        return status, orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return status, body.decode(errors="replace")


def wait_until(what: str, check: Callable[[], bool], timeout_s: float,
               context: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{context()}")
        time.sleep(0.2)
