"""Standard Webhooks 1.0 signatures (the push gateway's): ``webhook-id``, ``webhook-timestamp``
and ``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, where the key
is the base64 after ``whsec_`` in the shared secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ``ValueError`` for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_ (then base64 of 24-64 bytes)")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as err:
        raise ValueError(f"a webhook secret is whsec_ then base64: {err}") from None
    if not 24 <= len(key) <= 64:
        raise ValueError(f"a webhook secret's key is 24 to 64 bytes, not {len(key)}")
    return key


def signature(key: bytes, message_id: str, timestamp_s: int, body: bytes) -> str:
    signed = b"%s.%d.%s" % (message_id.encode(), timestamp_s, body)
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(key: bytes, message_id: str, timestamp_s: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp_s),
            "webhook-signature": signature(key, message_id, timestamp_s, body)}
