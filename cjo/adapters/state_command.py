"""``cjo state IMSI``: her state as the worker that owns her partition holds it, asked over the
worker's HTTP API (any worker forwards to the owner): why did she get nothing?"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from typing import Any, TextIO

import orjson

from cjo.errors import CjoError


def worker_url(explicit: str | None, web_url: str, web_port: int) -> str:
    if explicit:
        return explicit.rstrip("/")
    if web_url:
        return web_url.rstrip("/")
    if web_port:
        return f"http://127.0.0.1:{web_port}"
    raise CjoError("which worker? give --worker URL (or set CJO_WEB_URL or CJO_WEB_PORT)")


def fetch_state(base: str, imsi: str, timeout_s: float = 10.0) -> dict[str, Any]:
    url = f"{base}/v1/subscribers/{imsi}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body: dict[str, Any] = orjson.loads(response.read())
            return body
    except urllib.error.HTTPError as err:
        try:
            detail = orjson.loads(err.read())
        except orjson.JSONDecodeError:
            detail = {}
        why = detail.get("reason") or detail.get("error") or err.reason
        raise CjoError(f"{url}: {err.code}: {why}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise CjoError(f"no worker answers at {base} ({reason})") from None


def render(value: Any, indent: int = 0) -> list[str]:
    """Nested values as indented ``key: value`` lines (empty ones left out)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if item in (None, {}, []):
                continue
            if isinstance(item, dict | list):
                lines.append(f"{pad}{key}:")
                lines.extend(render(item, indent + 1))
            else:
                lines.append(f"{pad}{key}: {item}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                inner = render(item, indent + 1)
                if inner:
                    lines.append(f"{pad}- {inner[0].strip()}")
                    lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {item}")
    else:
        lines.append(f"{pad}{value}")
    return lines


def run_state(base: str, imsi: str, out: TextIO = sys.stdout) -> int:
    state = fetch_state(base, imsi)
    if not state.get("known"):
        print(f"{imsi}: no state (no record of hers reached the worker owning partition "
              f"{state.get('partition')}, {state.get('answered_by')})", file=out)
        return 1
    print("\n".join(render(state)), file=out)
    return 0
