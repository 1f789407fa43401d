"""Languages: the current locale of a request, gettext, and locale-aware formatting (Babel)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import NullTranslations, Translations

from meetups import PACKAGE_DIR

LANGUAGES: dict[str, str] = {"de": "Deutsch", "en": "English"}
LOCALE_DIR = PACKAGE_DIR / "locale"

_current_locale: ContextVar[str] = ContextVar("meetups_locale", default="en")


def current_locale() -> str:
    return _current_locale.get()


def set_locale(language: str) -> None:
    _current_locale.set(language if language in LANGUAGES else "en")


@contextmanager
def use_locale(language: str) -> Iterator[None]:
    """Render something (an e-mail, a CLI message) in another language for a moment."""
    token = _current_locale.set(language if language in LANGUAGES else "en")
    try:
        yield
    finally:
        _current_locale.reset(token)


@cache
def translations(language: str) -> NullTranslations:
    return Translations.load(str(LOCALE_DIR), [language], domain="messages")


def gettext(message: str, **variables: object) -> str:
    text = translations(current_locale()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    locale = current_locale()
    text = translations(locale).ungettext(singular, plural, n)
    # The count reads as the language writes numbers: "1,000" in English, "1.000" in German.
    return text % {"num": babel_numbers.format_decimal(n, locale=locale), **variables}


def lazy(message: str) -> str:
    """Marks a message for extraction where it is defined; translate with gettext() when shown."""
    return message


def negotiate_language(accept_language: str | None, default: str) -> str:
    """The best of our languages for an Accept-Language header."""
    if not accept_language:
        return default
    preferences: list[tuple[float, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
            # q=0 means "not this one"; NaN, inf and out-of-range values are nonsense.
            if not 0 < quality <= 1:
                continue
        # Earlier entries win among equal qualities.
        preferences.append((quality - index * 1e-6, tag.strip().lower()))
    for _quality, tag in sorted(preferences, reverse=True):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return default


def _locale() -> Locale:
    try:
        return Locale.parse(current_locale())
    except (UnknownLocaleError, ValueError):
        return Locale("en")


def _in_zone(moment: datetime, zone: str | tzinfo) -> datetime:
    return moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)


def format_datetime(moment: datetime | None, zone: str | tzinfo, style: str = "medium") -> str:
    if moment is None:
        return ""
    return babel_dates.format_datetime(_in_zone(moment, zone), style, locale=_locale())


def format_date(
    moment: datetime | date | None, zone: str | tzinfo | None = None, style: str = "medium"
) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime) and zone is not None:
        moment = _in_zone(moment, zone)
    return babel_dates.format_date(moment, style, locale=_locale())


def format_time(moment: datetime | None, zone: str | tzinfo, style: str = "short") -> str:
    if moment is None:
        return ""
    return babel_dates.format_time(_in_zone(moment, zone), style, locale=_locale())


def zone_abbreviation(moment: datetime, zone: str) -> str:
    """'MEZ' / 'CET' where the locale has a short name, else what the zone database calls it."""
    local = _in_zone(moment, zone)
    name = babel_dates.format_datetime(local, "zzz", locale=_locale())
    return name if name.isalpha() else (local.tzname() or zone)


def format_event_span(starts_at: datetime, ends_at: datetime, zone: str) -> str:
    """The full date and the hours in the event's zone, folding the date when both share a day."""
    start, end = _in_zone(starts_at, zone), _in_zone(ends_at, zone)
    locale = _locale()
    abbreviation = zone_abbreviation(start, zone)
    if start.date() == end.date():
        day = babel_dates.format_date(start, "full", locale=locale)
        hours = babel_dates.format_interval(start.time(), end.time(), "Hm", locale=locale)
        return f"{day}, {hours} {abbreviation}"

    def moment(value: datetime) -> str:
        day = babel_dates.format_date(value, "medium", locale=locale)
        return f"{day}, {babel_dates.format_time(value, 'short', locale=locale)}"

    return f"{moment(start)} – {moment(end)} {abbreviation}"


def format_zone(zone: str, when: datetime) -> str:
    return babel_dates.get_timezone_name(_in_zone(when, zone), "long", locale=_locale())


def format_number(value: int | float | Decimal) -> str:
    return babel_numbers.format_decimal(value, locale=_locale())


def format_money(cents: int | None, currency: str = "EUR") -> str:
    if cents is None:
        return ""
    return babel_numbers.format_currency(Decimal(cents) / 100, currency, locale=_locale())
