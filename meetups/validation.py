"""Field checks shared by every form: e-mail addresses, names, URLs, free text."""

import unicodedata
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from meetups.i18n import gettext as _

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: str | None, *, max_length: int, multiline: bool = False) -> str:
    """NFC-normalized, trimmed text without control characters; raises ValueError when too long."""
    text = unicodedata.normalize("NFC", value or "").strip()
    allowed = {"\n", "\t"} if multiline else set()
    text = "".join(
        ch
        for ch in text
        if ch in allowed
        or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
        or ch in {"\u200d"}  # zero-width joiner keeps emoji sequences intact
    )
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > max_length:
        raise ValueError(_("At most %(max)s characters, please.", max=max_length))
    return text


def normalize_email(value: str | None) -> str:
    """A deliverable-looking address, lower-cased as a whole so that lookups ignore case."""
    text = clean_text(value, max_length=254)
    if not text:
        raise ValueError(_("Please enter an e-mail address."))
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(_("This is not a valid e-mail address.")) from error
    return result.normalized.lower()


def clean_name(value: str | None, *, max_length: int = 200) -> str:
    name = " ".join(clean_text(value, max_length=max_length).split())
    if not name:
        raise ValueError(_("Please enter a name."))
    if name.startswith(FORMULA_PREFIXES):
        raise ValueError(_("A name cannot start with %(char)s.", char=name[0]))
    return name


def clean_url(value: str | None) -> str | None:
    text = clean_text(value, max_length=500)
    if not text:
        return None
    if "://" not in text and "." in text.split("/")[0] and " " not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.netloc
        or " " in text
        or "." not in parts.netloc
    ):
        raise ValueError(_("Please enter a web address starting with https://."))
    return text
