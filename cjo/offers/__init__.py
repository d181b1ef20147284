"""Offers: deterministic ids, channel choice, message templates."""

from cjo.offers.channels import choose_channel, destination
from cjo.offers.ids import decision_id, offer_id
from cjo.offers.templates import render

__all__ = ["choose_channel", "decision_id", "destination", "offer_id", "render"]
