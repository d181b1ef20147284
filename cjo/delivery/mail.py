"""An offer as an e-mail: multipart text and HTML in the subscriber's language, a Message-ID
from the offer id, one-click unsubscribe (RFC 8058) and a bounce address carrying the offer's
token (``cjo.delivery.tokens``)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from cjo.delivery.message import OfferMessage

SUBJECT_MAX = 78
UNSUBSCRIBE = {  # the link's words; English for any other language
    "en": "Unsubscribe", "fr": "Se désabonner", "de": "Abmelden", "es": "Darse de baja",
    "pt": "Cancelar subscrição", "it": "Annulla l'iscrizione", "nl": "Afmelden",
    "pl": "Wypisz się", "sv": "Avregistrera", "tr": "Abonelikten çık", "ar": "إلغاء الاشتراك",
}


@dataclass(frozen=True, slots=True)
class Sender:
    """Who an offer mail comes from, and where its bounces and unsubscribes go."""

    address: str  # From: offers@operator.example
    name: str = ""
    bounce_domain: str = ""  # the VERP domain; default: From's
    unsubscribe_url: str = "https://example.org/unsubscribe/{token}"  # https, RFC 8058
    unsubscribe_mailto: str = ""  # default: unsubscribe+<token>@<bounce domain>

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    def bounce_address(self, token: str) -> str:
        return f"bounce+{token}@{self.bounce_domain or self.domain}"

    def mailto(self, token: str) -> str:
        return (self.unsubscribe_mailto.format(token=token) if self.unsubscribe_mailto
                else f"unsubscribe+{token}@{self.bounce_domain or self.domain}")


def subject(text: str) -> str:
    """The first sentence of the message (so in its language), at most ``SUBJECT_MAX``."""
    first = re.split(r"(?<=[.!?])\s", " ".join(text.split()), maxsplit=1)[0]
    return first if len(first) <= SUBJECT_MAX else first[:SUBJECT_MAX - 1].rstrip() + "…"


def message_id(offer_id: str, domain: str) -> str:
    return f"<{offer_id}@{domain}>"


def compose(message: OfferMessage, sender: Sender, token: str) -> EmailMessage:
    """The mail of ``message``: text/plain and text/html alternatives."""
    url = sender.unsubscribe_url.format(token=token)
    label = UNSUBSCRIBE.get(message.language.split("-")[0].lower(), UNSUBSCRIBE["en"])
    mail = EmailMessage()
    mail["From"] = Address(sender.name, addr_spec=sender.address)
    mail["To"] = message.destination
    mail["Subject"] = subject(message.text)
    mail["Date"] = formatdate(message.published_at / 1000, usegmt=True)
    mail["Message-ID"] = message_id(message.offer_id, sender.domain)
    mail["List-Unsubscribe"] = f"<{url}>, <mailto:{sender.mailto(token)}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(f"{message.text}\n\n{label}: {url}\n")
    lang = html.escape(message.language, quote=True)
    mail.add_alternative(
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"></head><body>\n'
        f"<p>{html.escape(message.text)}</p>\n"
        f'<p><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></p>\n'
        "</body></html>\n", subtype="html")
    mail["Content-Language"] = message.language  # after the parts: they take Content-* headers
    return mail
