"""Signed control records: the catalogue's wire envelope, and the fingerprint of a signing key.

A catalogue record on ``cjo.catalogue`` is, like a scorer snapshot (``cjo.scoring.snapshot``)::

    cjo.catalogue/1\\n               header: format name and version
    <64 hex digits>\\n               HMAC-SHA256 of header + payload, keyed with CJO_CATALOGUE_KEY
    <payload>                        the ``Catalogue.to_payload`` JSON document

Broker ACLs are the first line (who may write the control topics at all), the signature the
second: a producer that can write the topic but does not hold the key cannot change an offer
text. Every worker logs the fingerprint of each key that signed what it runs, at start and on
every adoption, so an adoption signed with an unexpected key (the public default, a leaked
one) is visible in the logs.
"""

from __future__ import annotations

import hashlib
import hmac

from cjo.errors import CjoError

CATALOGUE_HEADER = b"cjo.catalogue/1\n"
DIGEST_HEX = 64

#: The development defaults, public in this repository: a fingerprint of one says so.
PUBLIC_DEFAULT_KEYS = {b"cjo-development-models-key", b"cjo-development-catalogue-key"}


class SignatureError(CjoError):
    """A control record that is not signed with this worker's key."""


def _digest(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, CATALOGUE_HEADER + body, hashlib.sha256).hexdigest().encode()


def sign_catalogue(payload: bytes, key: bytes) -> bytes:
    return CATALOGUE_HEADER + _digest(key, payload) + b"\n" + payload


def open_catalogue(data: bytes, key: bytes) -> bytes:
    """The payload of a signed catalogue record; ``SignatureError`` unless signed with ``key``."""
    data = bytes(data)
    if not data.startswith(CATALOGUE_HEADER):
        raise SignatureError("catalogue record is not signed (no cjo.catalogue/1 header): "
                             "publish catalogues with `cjo catalogue apply`, which signs them "
                             "with CJO_CATALOGUE_KEY")
    start = len(CATALOGUE_HEADER)
    signed, payload = data[start:start + DIGEST_HEX], data[start + DIGEST_HEX + 1:]
    if data[start + DIGEST_HEX:start + DIGEST_HEX + 1] != b"\n" or not hmac.compare_digest(
            signed, _digest(key, payload)):
        raise SignatureError("catalogue record signature does not match: altered, truncated, "
                             "or signed with another CJO_CATALOGUE_KEY")
    return payload


def fingerprint(key: bytes) -> str:
    """16 hex digits naming a key without revealing it (SHA-256 of a labelled key), with
    ``(public default)`` appended for the repository's development keys."""
    name = hashlib.sha256(b"cjo key fingerprint\n" + key).hexdigest()[:16]
    return f"{name} (public default)" if key in PUBLIC_DEFAULT_KEYS else name
