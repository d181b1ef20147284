"""Opaque per-offer tokens: the email gateway's bounce address (VERP), DSN envelope id and
unsubscribe link carry one, and a bounce or an unsubscribe names its offer and subscriber by it
without the IMSI ever appearing in clear.

``<offer uuid, base32>.<IMSI sealed with a pad drawn from HMAC(key, offer id), and a 5-byte
MAC, base32>``: 48 characters, so ``bounce+<token>@domain`` fits the 64 characters of an address's
local part. A token whose MAC does not hold is refused (a forged or mangled bounce).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid

_MAC_BYTES = 5


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _unb32(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


def _pad(key: bytes, offer_id: str) -> int:
    return int.from_bytes(hmac.new(key, b"pad|" + offer_id.encode(), hashlib.sha256).digest()[:8])


def _mac(key: bytes, offer_id: str, imsi: str) -> bytes:
    return hmac.new(key, f"mac|{offer_id}|{imsi}".encode(), hashlib.sha256).digest()[:_MAC_BYTES]


def seal(offer_id: str, imsi: str, key: bytes) -> str:
    """The token of an offer (its id a UUID, as ``cjo.offers.ids`` makes them) and IMSI."""
    packed = int(imsi) * 16 + len(imsi)
    sealed = (packed ^ _pad(key, offer_id)).to_bytes(8)
    return f"{_b32(uuid.UUID(offer_id).bytes)}.{_b32(sealed + _mac(key, offer_id, imsi))}"


def unseal(token: str, key: bytes) -> tuple[str, str] | None:
    """(offer id, IMSI) of a token, or None when it is not one of ours."""
    head, _, tail = token.strip().lower().partition(".")
    try:
        offer_id = str(uuid.UUID(bytes=_unb32(head)))
        raw = _unb32(tail)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 8 + _MAC_BYTES:
        return None
    packed = int.from_bytes(raw[:8]) ^ _pad(key, offer_id)
    imsi = str(packed // 16).zfill(packed % 16)
    if not hmac.compare_digest(raw[8:], _mac(key, offer_id, imsi)):
        return None
    return offer_id, imsi
