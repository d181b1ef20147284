"""Message templates per trigger and language, with English as the fallback.

Templates use ``string.Template`` placeholders (``$country``); a missing value renders as the
placeholder's name rather than failing, so a message is never lost to a template slip.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Template
from typing import Any

FALLBACK_LANGUAGE = "en"

TEMPLATES: dict[str, dict[str, str]] = {
    "roaming_welcome": {
        "en": "Welcome to $country! Stay connected with our Travel Pass: 1 GB for 7 days. "
              "Reply YES to activate.",
        "de": "Willkommen in $country! Bleiben Sie mit unserem Travel Pass verbunden: 1 GB "
              "für 7 Tage. Antworten Sie JA zum Aktivieren.",
        "fr": "Bienvenue : $country ! Restez connecté avec notre Travel Pass : 1 Go pendant "
              "7 jours. Répondez OUI pour l'activer.",
        "es": "¡Bienvenido a $country! Sigue conectado con nuestro Travel Pass: 1 GB durante "
              "7 días. Responde SÍ para activarlo.",
        "pl": "Witamy: $country! Zostań w kontakcie z pakietem Travel Pass: 1 GB na 7 dni. "
              "Odpowiedz TAK, aby włączyć.",
    },
}


def _base_language(tag: str) -> str:
    return tag.replace("_", "-").split("-", 1)[0].lower()


def render(
    trigger_id: str, language: str, values: Mapping[str, Any],
    templates: Mapping[str, Mapping[str, str]] = TEMPLATES,
) -> tuple[str, str]:
    """The message and the language it was rendered in (the subscriber's, else English)."""
    by_language = templates[trigger_id]
    for candidate in (language, _base_language(language), FALLBACK_LANGUAGE):
        if candidate in by_language:
            text = Template(by_language[candidate]).safe_substitute(values)
            return text, candidate
    raise KeyError(f"no template for {trigger_id} in {language} nor {FALLBACK_LANGUAGE}")
