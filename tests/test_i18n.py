"""Every visible string is translatable and translated into German; formats follow the locale."""

from datetime import UTC, datetime

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from meetups import PROJECT_DIR, i18n

CATALOG = PROJECT_DIR / "meetups/locale/de/LC_MESSAGES/messages.po"
METHODS = [
    ("meetups/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("emails/**.txt", "jinja2"),
    ("emails/**.html", "jinja2"),
]


def _source_messages() -> set[str]:
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PROJECT_DIR), method_map=METHODS, options_map={}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_string_in_the_code_has_a_german_translation() -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    missing = sorted(
        message
        for message in _source_messages()
        if not (entry := catalog.get(message))
        or not entry.string
        or entry.fuzzy
        or (isinstance(entry.string, tuple) and not all(entry.string))
    )
    assert missing == [], "run `make messages` and translate these:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    problems = [(message.id, errors) for message, errors in catalog.check()]
    assert problems == []


def test_german_is_used_when_chosen() -> None:
    with i18n.use_locale("de"):
        assert i18n.gettext("Sign in") == "Anmelden"
        assert i18n.format_money(123456, "EUR") == "1.234,56\xa0€"
        span = i18n.format_event_span(
            datetime(2026, 12, 19, 13, tzinfo=UTC),
            datetime(2026, 12, 19, 17, tzinfo=UTC),
            "Europe/Berlin",
        )
        assert span.startswith("Samstag, 19. Dezember 2026, 14:00")
    with i18n.use_locale("en"):
        assert i18n.gettext("Sign in") == "Sign in"
        assert i18n.format_money(123456, "EUR") == "€1,234.56"


def test_accept_language_picks_the_best_supported_language() -> None:
    assert i18n.negotiate_language("fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7", "en") == "de"
    assert i18n.negotiate_language("en-US,en;q=0.9,de;q=0.8", "de") == "en"
    assert i18n.negotiate_language("fr, es", "de") == "de"
    assert i18n.negotiate_language("", "en") == "en"
    assert i18n.negotiate_language("de;q=abc, en", "de") == "en"


def test_counts_in_plural_messages_are_written_as_the_language_writes_numbers() -> None:
    with i18n.use_locale("en"):
        assert i18n.ngettext("%(num)s guest", "%(num)s guests", 1000) == "1,000 guests"
    with i18n.use_locale("de"):
        assert i18n.ngettext("%(num)s guest", "%(num)s guests", 1000) == "1.000 Gäste"
        assert i18n.ngettext("%(num)s guest", "%(num)s guests", 1) == "1 Gast"
