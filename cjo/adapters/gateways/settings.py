"""Settings every gateway shares (``CJO_GATEWAY_*``); each channel module has its own too."""

from __future__ import annotations

import os
import socket

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cjo.delivery import RetryPolicy


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CJO_GATEWAY_", frozen=True, extra="ignore")

    instance: str = Field(
        default="", description="this gateway process's name in the claim ledger (default: "
        "host-pid)")
    max_attempts: int = Field(
        default=5, ge=1, description="attempts per offer, the first included, for temporary "
        "refusals (5xx, 429, SMTP 4xx, network errors)")
    backoff_base_s: float = Field(
        default=0.5, gt=0, description="wait after the first refused attempt; doubles after "
        "each (with +-20 % jitter)")
    backoff_max_s: float = Field(
        default=30.0, gt=0, description="longest backoff of the gateway's own")
    max_retry_after_s: float = Field(
        default=300.0, ge=0, description="longest Retry-After honoured; a longer one fails "
        "the offer")
    ledger_retention_hours: float = Field(
        default=168.0, gt=0, description="how long the claim ledger keeps an entry "
        "(compact,delete); longer than any offer's validity: an offer read again after that "
        "is past its validity and only reported FAILED expired")
    max_in_flight: int = Field(
        default=1000, ge=1, description="offers read and not yet recorded at once (the "
        "channel's concurrency of them in a send; the others await the broker's "
        "acknowledgements of their claims and outcomes)")
    commit_interval_ms: int = Field(
        default=200, ge=10, description="how often finished offers' offsets are committed")

    def owner(self) -> str:
        return self.instance or f"{socket.gethostname()}-{os.getpid()}"

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, base_s=self.backoff_base_s,
                           max_s=self.backoff_max_s, max_retry_after_s=self.max_retry_after_s)
