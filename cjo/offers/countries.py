"""Country names of mobile country codes (ITU-T E.212), for messages. Unknown MCCs fall back."""

from __future__ import annotations

_NAMES = {
    "202": "Greece", "204": "the Netherlands", "206": "Belgium", "208": "France",
    "212": "Monaco", "214": "Spain", "216": "Hungary", "218": "Bosnia and Herzegovina",
    "219": "Croatia", "220": "Serbia", "222": "Italy", "226": "Romania", "228": "Switzerland",
    "230": "Czechia", "231": "Slovakia", "232": "Austria", "234": "the United Kingdom",
    "235": "the United Kingdom", "238": "Denmark", "240": "Sweden", "242": "Norway",
    "244": "Finland", "246": "Lithuania", "247": "Latvia", "248": "Estonia", "250": "Russia",
    "255": "Ukraine", "260": "Poland", "262": "Germany", "268": "Portugal", "270": "Luxembourg",
    "272": "Ireland", "274": "Iceland", "278": "Malta", "280": "Cyprus", "284": "Bulgaria",
    "286": "Türkiye", "293": "Slovenia", "302": "Canada", "310": "the United States",
    "311": "the United States", "334": "Mexico", "404": "India", "405": "India",
    "424": "the United Arab Emirates", "425": "Israel", "440": "Japan", "450": "South Korea",
    "452": "Vietnam", "454": "Hong Kong", "460": "China", "502": "Malaysia", "505": "Australia",
    "510": "Indonesia", "515": "the Philippines", "520": "Thailand", "525": "Singapore",
    "530": "New Zealand", "602": "Egypt", "604": "Morocco", "655": "South Africa",
    "714": "Panama", "722": "Argentina", "724": "Brazil", "730": "Chile", "732": "Colombia",
}


def country_name(mcc: str) -> str:
    return _NAMES.get(mcc, f"network country {mcc}")
