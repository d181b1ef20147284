"""The demo's channels: loopback endpoints (``sim/endpoints.py``, a development install's) and one
``cjo gateway <channel>`` process each, then what they delivered, from ``cjo.offers.responses``.

A channel joins the demo with an entry in ``ENDPOINTS``: a function that starts its loopback
endpoint and returns it with the gateway's environment.
"""

from __future__ import annotations

import base64
import importlib
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from cjo import codec
from cjo.adapters.kafka_admin import committed_offsets, end_offsets, read_all
from cjo.adapters.worker_process import WorkerProcess, worker_env
from cjo.errors import CjoError
from cjo.settings import Settings

PUSH_SECRET = "whsec_" + base64.b64encode(b"cjo-demo-push-secret-000000").decode()


@dataclass
class DemoEndpoint:
    endpoint: AbstractContextManager[Any]
    env: dict[str, str]
    what: str  # "push service", "SMTP relay"


def _push(sim: Any) -> DemoEndpoint:
    endpoint = sim.PushEndpoint(PUSH_SECRET).start()
    return DemoEndpoint(endpoint, {"CJO_PUSH_URL": endpoint.url, "CJO_PUSH_SECRET": PUSH_SECRET},
                        "push service")


def _email(sim: Any) -> DemoEndpoint:
    endpoint = sim.SmtpEndpoint(keep=False).start()
    return DemoEndpoint(endpoint, {"CJO_EMAIL_PORT": str(endpoint.port), "CJO_EMAIL_TLS": "none",
                                   "CJO_EMAIL_HELO_NAME": "demo.example"}, "SMTP relay")


def _sms(_sim: Any) -> DemoEndpoint:
    smsc = importlib.import_module("sim.smsc").SmscProcess("--demo")
    return DemoEndpoint(smsc, {"CJO_SMS_PORT": str(smsc.port), "CJO_SMS_RATE_PER_S": "0",
                               "CJO_SMS_RECEIPT_WAIT_S": "5"}, "SMSC")


ENDPOINTS: dict[str, Callable[[Any], DemoEndpoint]] = {"push": _push, "email": _email,
                                                        "sms": _sms}


@dataclass
class DemoGateways:
    settings: Settings
    workdir: Path
    endpoints: dict[str, DemoEndpoint] = field(default_factory=dict)
    processes: dict[str, WorkerProcess] = field(default_factory=dict)

    def start(self) -> Self:
        """Endpoints and gateways; none (and ``available`` false) without the simulator."""
        try:
            sim = importlib.import_module("sim.endpoints")
        except ModuleNotFoundError:
            return self
        for channel, make in ENDPOINTS.items():
            self.endpoints[channel] = made = make(sim)
            env = {**worker_env(self.settings), "CJO_LOG_LEVEL": "WARNING", **made.env}
            self.processes[channel] = WorkerProcess(
                env, self.workdir / f"gateway-{channel}.log",
                ("-m", "cjo", "gateway", channel)).start()
        return self

    @property
    def available(self) -> bool:
        return bool(self.processes)

    def wait(self, timeout_s: float) -> None:
        """Until every gateway committed its channel's offers topic to the end."""
        deadline = time.monotonic() + timeout_s
        for channel, process in self.processes.items():
            topic = self.settings.topics[channel]
            ends = {tp: end for tp, end in end_offsets(self.settings.broker, [topic]).items()
                    if end > 0}
            group = f"{self.settings.app_id}-gateway-{channel}"
            while True:
                committed = committed_offsets(self.settings.broker, group, [topic])
                if all(committed.get(tp, -1) >= end for tp, end in ends.items()):
                    break
                if not process.alive or time.monotonic() > deadline:
                    raise CjoError(f"the {channel} gateway did not finish; its log "
                                   f"({process.log_path}) ends with:\n{process.log_tail(10)}")
                time.sleep(0.3)

    def summary(self) -> str:
        """One line per channel: the responses by status, and what the endpoint took."""
        records = read_all(self.settings.broker, [self.settings.topics["responses"]],
                           isolation=self.settings.isolation_level)
        by_channel: dict[str, Counter[str]] = {}
        for record in records:
            if record.value is None:
                continue
            response = codec.decode(record.value, "OfferResponse")[1]
            status = str(response["status"])
            if response.get("reason"):
                status += f" ({str(response['reason']).split(' ')[0]})"
            by_channel.setdefault(str(response["channel"]).lower(), Counter())[status] += 1
        lines = ["gateways (responses on cjo.offers.responses):"]
        for channel, made in self.endpoints.items():
            counts = by_channel.get(channel, Counter())
            shown = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"
            taken = _taken(made.endpoint)
            lines.append(f"  {channel:<6} {shown}; the loopback {made.what} took {taken}")
        return "\n".join(lines)

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop(10)
        for made in self.endpoints.values():
            made.endpoint.__exit__(None, None, None)

    def keep_logs(self) -> list[Path]:
        return [p.log_path for p in self.processes.values()]


def _taken(endpoint: Any) -> int:
    accepted = getattr(endpoint, "accepted", None) or getattr(endpoint, "by_message_id", None)
    return sum(accepted.values()) if accepted else 0
