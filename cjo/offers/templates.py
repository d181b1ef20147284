"""Rendering an offer's message in the subscriber's language, with English as the fallback.

Templates use ``string.Template`` placeholders (``$country``). The catalogue's validation renders
every template against sample values, so an unknown placeholder never gets this far; should one
still be missing, it renders as written rather than losing the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Template
from typing import Any

FALLBACK_LANGUAGE = "en"


def _base_language(tag: str) -> str:
    return tag.replace("_", "-").split("-", 1)[0].lower()


def render(
    by_language: Mapping[str, str], language: str, values: Mapping[str, Any]
) -> tuple[str, str]:
    """The message and the language it was rendered in (the subscriber's, else English)."""
    for candidate in (language, _base_language(language), FALLBACK_LANGUAGE):
        if candidate in by_language:
            return Template(by_language[candidate]).safe_substitute(values), candidate
    raise KeyError(f"no template in {language} nor {FALLBACK_LANGUAGE}")
