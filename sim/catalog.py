"""Fixed reference data of the simulator: places, networks, apps, plans, products.

Everything here is a tuple (never a set or a dict iterated for randomness), so that choices drawn
from it are the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 1_000_000_000
MB = 1_000_000

HOME_PLMNS: tuple[tuple[str, float], ...] = (("23415", 0.85), ("23410", 0.15))

# (city, lat, lon, weight): where subscribers live.
UK_CITIES: tuple[tuple[str, float, float, float], ...] = (
    ("London", 51.5072, -0.1276, 30.0),
    ("Birmingham", 52.4862, -1.8904, 8.0),
    ("Manchester", 53.4808, -2.2426, 8.0),
    ("Leeds", 53.8008, -1.5491, 5.0),
    ("Glasgow", 55.8642, -4.2518, 5.0),
    ("Liverpool", 53.4084, -2.9916, 4.0),
    ("Bristol", 51.4545, -2.5879, 4.0),
    ("Sheffield", 53.3811, -1.4701, 4.0),
    ("Edinburgh", 55.9533, -3.1883, 4.0),
    ("Newcastle", 54.9783, -1.6178, 3.0),
    ("Cardiff", 51.4816, -3.1791, 3.0),
    ("Belfast", 54.5973, -5.9301, 3.0),
    ("Nottingham", 52.9548, -1.1581, 3.0),
    ("Southampton", 50.9097, -1.4044, 3.0),
    ("Leicester", 52.6369, -1.1398, 3.0),
    ("Norwich", 52.6309, 1.2974, 2.0),
    ("Plymouth", 50.3755, -4.1427, 2.0),
    ("Aberdeen", 57.1497, -2.0943, 2.0),
)


@dataclass(frozen=True)
class Destination:
    """A country a subscriber can travel to, with its networks."""

    country: str
    city: str
    lat: float
    lon: float
    utc_offset_h: int
    flight_h: float
    plmns: tuple[str, ...]
    weight: float
    eu: bool = True


DESTINATIONS: tuple[Destination, ...] = (
    Destination("FR", "Paris", 48.8566, 2.3522, 1, 1.3, ("20801", "20810", "20820"), 16.0),
    Destination("ES", "Malaga", 36.7213, -4.4214, 1, 2.6, ("21401", "21403", "21407"), 14.0),
    Destination("DE", "Berlin", 52.5200, 13.4050, 1, 1.8, ("26201", "26202", "26203"), 9.0),
    Destination("IT", "Rome", 41.9028, 12.4964, 1, 2.5, ("22201", "22210"), 8.0),
    Destination("IE", "Dublin", 53.3498, -6.2603, 0, 1.2, ("27201", "27205"), 7.0),
    Destination("NL", "Amsterdam", 52.3676, 4.9041, 1, 1.2, ("20404", "20408"), 6.0),
    Destination("PT", "Lisbon", 38.7223, -9.1393, 0, 2.6, ("26801", "26806"), 5.0),
    Destination("PL", "Warsaw", 52.2297, 21.0122, 1, 2.4, ("26001", "26002"), 4.0),
    Destination("GR", "Athens", 37.9838, 23.7275, 2, 3.6, ("20201", "20205"), 3.0),
    Destination("US", "New York", 40.7128, -74.0060, -5, 8.0, ("310260", "310410"), 7.0, False),
    Destination("AE", "Dubai", 25.2048, 55.2708, 4, 7.0, ("42402", "42403"), 3.0, False),
    Destination("CH", "Zurich", 47.3769, 8.5417, 1, 1.7, ("22801", "22802"), 3.0, False),
)

# language -> country that speakers of it visit far more often (family, home).
LANGUAGE_HOME: tuple[tuple[str, str], ...] = (
    ("pl", "PL"),
    ("de", "DE"),
    ("fr", "FR"),
    ("es", "ES"),
)

LANGUAGES: tuple[tuple[str, float], ...] = (
    ("en", 88.0),
    ("pl", 4.0),
    ("de", 3.0),
    ("fr", 2.5),
    ("es", 2.5),
)
LANGUAGE_TIMEZONES: tuple[tuple[str, str], ...] = (
    ("pl", "Europe/Warsaw"),
    ("de", "Europe/Berlin"),
    ("fr", "Europe/Paris"),
    ("es", "Europe/Madrid"),
)
OTHER_TIMEZONES: tuple[str, ...] = ("Europe/Dublin", "Europe/Paris", "America/New_York")

AGE_BANDS: tuple[tuple[str | None, float], ...] = (
    ("UNDER_18", 4.0),
    ("A18_24", 14.0),
    ("A25_34", 20.0),
    ("A35_44", 19.0),
    ("A45_54", 17.0),
    ("A55_64", 13.0),
    ("A65_PLUS", 10.0),
    (None, 3.0),
)
SEGMENTS: tuple[str, ...] = ("youth", "family", "business", "value", "premium", "student")

PAYMENT_TYPES: tuple[tuple[str, float], ...] = (
    ("PREPAID", 40.0),
    ("POSTPAID", 50.0),
    ("HYBRID", 10.0),
)

# (plan_id, weight, data allowance in bytes or None for unlimited)
POSTPAID_PLANS: tuple[tuple[str, float, int | None], ...] = (
    ("SIMO_12M_10GB", 3.0, 10 * GB),
    ("SIMO_24M_50GB", 2.0, 50 * GB),
    ("HANDSET_24M_30GB", 3.0, 30 * GB),
    ("UNLIMITED_5G", 2.0, None),
)
PREPAID_PLANS: tuple[str, ...] = ("PAYG_STARTER", "PAYG_PLUS")
HYBRID_PLAN: tuple[str, int] = ("FLEX_CAP_8GB", 8 * GB)
PREPAID_BUNDLES: tuple[tuple[str, float, int], ...] = (
    ("ADDON_1GB_1D", 2.0, 1 * GB),
    ("ADDON_5GB_30D", 4.0, 5 * GB),
    ("ADDON_15GB_30D", 3.0, 15 * GB),
)

# (product_id, weight)
TRIAL_PRODUCTS: tuple[tuple[str, float], ...] = (
    ("gaming_pass_1d", 3.0),
    ("video_plus_7d", 4.0),
    ("music_plus_30d", 2.0),
    ("cloud_200gb_14d", 1.0),
    ("sports_pass_3d", 2.0),
)

# Device type allocation codes (first 8 digits of the IMEI).
DEVICE_TACS: tuple[str, ...] = (
    "35328911",
    "35391811",
    "35467211",
    "35290611",
    "86072104",
    "86420305",
    "35875109",
    "35163612",
    "35998011",
    "86891703",
    "35744310",
    "35203512",
)


@dataclass(frozen=True)
class App:
    """An application as the DPI sees it, with a typical session."""

    app_id: str
    category: str
    rating_group: int
    weight: float  # how often sessions of it occur
    mean_bytes: float
    mean_duration_s: float
    uplink_share: float


APPS: tuple[App, ...] = (
    App("youtube", "VIDEO", 20, 8.0, 200 * MB, 900, 0.03),
    App("netflix", "VIDEO", 20, 3.0, 400 * MB, 2400, 0.02),
    App("bbc_iplayer", "VIDEO", 20, 2.0, 300 * MB, 1800, 0.02),
    App("tiktok", "VIDEO", 20, 6.0, 130 * MB, 900, 0.04),
    App("instagram", "SOCIAL", 30, 8.0, 40 * MB, 600, 0.08),
    App("facebook", "SOCIAL", 30, 5.0, 25 * MB, 500, 0.08),
    App("snapchat", "SOCIAL", 30, 3.0, 20 * MB, 300, 0.20),
    App("x", "SOCIAL", 30, 2.0, 10 * MB, 300, 0.10),
    App("whatsapp", "MESSAGING", 50, 10.0, 1.5 * MB, 60, 0.40),
    App("imessage", "MESSAGING", 50, 4.0, 1.0 * MB, 60, 0.40),
    App("telegram", "MESSAGING", 50, 1.0, 1.0 * MB, 60, 0.30),
    App("whatsapp_call", "VOIP", 60, 3.0, 5 * MB, 400, 0.50),
    App("facetime", "VOIP", 60, 1.0, 20 * MB, 600, 0.50),
    App("teams", "VOIP", 60, 1.0, 30 * MB, 1800, 0.40),
    App("fortnite", "GAMING", 40, 1.5, 40 * MB, 1800, 0.15),
    App("roblox", "GAMING", 40, 1.5, 30 * MB, 1500, 0.15),
    App("clash_royale", "GAMING", 40, 1.0, 8 * MB, 600, 0.20),
    App("chrome", "WEB", 10, 6.0, 8 * MB, 300, 0.05),
    App("safari", "WEB", 10, 4.0, 8 * MB, 300, 0.05),
    App("spotify", "MUSIC", 70, 4.0, 40 * MB, 2400, 0.02),
    App("apple_music", "MUSIC", 70, 1.0, 40 * MB, 2400, 0.02),
    App("google_maps", "OTHER", 80, 2.0, 5 * MB, 900, 0.10),
    App("icloud", "OTHER", 80, 1.0, 50 * MB, 600, 0.70),
)
CATEGORIES: tuple[str, ...] = (
    "VIDEO",
    "SOCIAL",
    "GAMING",
    "MESSAGING",
    "VOIP",
    "WEB",
    "MUSIC",
    "OTHER",
)

# Relative activity by local hour of day (0-23): quiet nights, busy evenings.
DIURNAL: tuple[float, ...] = (
    0.20,
    0.10,
    0.05,
    0.05,
    0.05,
    0.10,
    0.40,
    0.90,
    1.20,
    1.00,
    1.00,
    1.10,
    1.30,
    1.20,
    1.10,
    1.10,
    1.20,
    1.40,
    1.50,
    1.60,
    1.80,
    1.90,
    1.60,
    0.90,
)
