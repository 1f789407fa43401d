"""Money and distances as people type them, and the arithmetic on them: integer cents and tenths
of a kilometre, never floats."""

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from meetups.events.form import format_amount_input, parse_money_cents
from meetups.i18n import format_number
from meetups.i18n import gettext as _

# One item can be a long-haul flight, but not a house.
MAX_ITEM_CENTS = 10_000_00
MAX_DISTANCE_TENTHS_KM = 10_000_0  # 10,000 km
_DISTANCE = re.compile(r"([0-9]{1,6})(?:[.,]([0-9]))?", re.ASCII)


def parse_amount(text: str | None) -> int:
    """Integer cents of a typed amount ("49,90", "49.90", "1.234,50"); ValueError with a
    message for the invitee when it is empty, malformed, zero or too large."""
    cents = parse_money_cents(text or "", maximum_cents=MAX_ITEM_CENTS)
    if cents is None:
        raise ValueError(_("Please enter the amount, e.g. 49,90."))
    if cents == 0:
        raise ValueError(_("The amount must be more than zero."))
    return cents


def parse_distance(text: str | None) -> int:
    """Tenths of a km of a typed distance ("142", "142,5", "142.5 km"); ValueError with a message
    when it is empty, malformed, zero or too far."""
    value = unicodedata.normalize("NFKC", text or "").strip().lower().removesuffix("km").strip()
    if not value:
        raise ValueError(_("Please enter the distance in km, e.g. 142."))
    match = _DISTANCE.fullmatch(value)
    if not match:
        raise ValueError(_("Please enter the distance in km as a number, e.g. 142 or 142,5."))
    tenths = int(match.group(1)) * 10 + int(match.group(2) or 0)
    if tenths == 0:
        raise ValueError(_("The distance must be more than zero."))
    if tenths > MAX_DISTANCE_TENTHS_KM:
        raise ValueError(
            _("At most %(km)s km, please.", km=format_number(MAX_DISTANCE_TENTHS_KM // 10))
        )
    return tenths


def mileage_cents(distance_tenths_km: int, rate_cents_per_km: int) -> int:
    """The amount for a drive: distance × rate, rounded half up to whole cents.

    142.5 km at 0.30 EUR is 42.75 EUR; 33.3 km at 0.35 EUR is 11.655, so 11.66 EUR."""
    exact = Decimal(distance_tenths_km) * Decimal(rate_cents_per_km) / Decimal(10)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_distance(distance_tenths_km: int | None) -> str:
    """ "142,5" (German) or "142.5" (English); whole kilometres without a decimal."""
    if distance_tenths_km is None:
        return ""
    whole, tenth = divmod(distance_tenths_km, 10)
    if not tenth:
        return format_number(whole)
    return format_number(Decimal(distance_tenths_km) / 10)


__all__ = [
    "format_amount_input",
    "format_distance",
    "mileage_cents",
    "over_cap_by",
    "parse_amount",
    "parse_distance",
]


def over_cap_by(total_cents: int, cap_cents: int | None) -> int:
    """How much `total_cents` exceeds the cap (0 when within it or without a cap)."""
    if cap_cents is None:
        return 0
    return max(total_cents - cap_cents, 0)
