"""Bank details: IBANs and BICs checked with schwifty, shown masked, and text made fit for a SEPA
file."""

import re
import unicodedata

from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)
from text_unidecode import unidecode

from meetups.i18n import gettext as _

# What people paste along with an IBAN: spaces of every kind, dashes, dots.
_IBAN_NOISE = re.compile(r"[\s\u00a0\u202f\u2009.\-]+")
# The characters every SEPA bank accepts (the EPC's Latin subset), everything else becomes a space.
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


def clean_iban(text: str | None) -> str:
    """The IBAN in its compact form ("DE89370400440532013000"), from however it was typed (spaces,
    lower case). Raises ValueError with a message for a wrong or non-SEPA one."""
    value = _IBAN_NOISE.sub("", unicodedata.normalize("NFKC", text or "")).upper()
    if not value:
        raise ValueError(_("Please enter your IBAN."))
    if len(value) > 34 or not value.isascii() or not value.isalnum():
        raise ValueError(
            _("An IBAN has letters and digits only, e.g. DE89 3704 0044 0532 0130 00.")
        )
    try:
        # The check digits (ISO 7064 mod 97) catch typos. Banks' national check methods are
        # not applied: a wrong implementation of one would refuse someone's real account.
        iban = IBAN(value)
    except InvalidChecksumDigits:
        raise ValueError(
            _(
                "This IBAN has a typo: its check digits do not match. "
                "Please compare it with your bank card."
            )
        ) from None
    except InvalidCountryCode:
        raise ValueError(_("This IBAN starts with an unknown country code.")) from None
    except InvalidLength:
        raise ValueError(_("This IBAN is too short or too long for its country.")) from None
    except SchwiftyException:
        raise ValueError(_("This is not a valid IBAN.")) from None
    if not iban.in_sepa_zone:
        raise ValueError(
            _(
                "We can only transfer money to accounts in the SEPA area "
                "(e.g. Germany, Austria, Switzerland)."
            )
        )
    return iban.compact


def clean_bic(text: str | None, *, required: bool = False) -> str:
    """A BIC in upper case ("COBADEFFXXX"), or "" when none was typed and none is required."""
    value = _IBAN_NOISE.sub("", unicodedata.normalize("NFKC", text or "")).upper()
    if not value:
        if required:
            raise ValueError(_("Please enter the BIC."))
        return ""
    if len(value) > 11 or not value.isascii() or not value.isalnum():
        raise ValueError(_("A BIC has 8 or 11 letters and digits, e.g. COBADEFFXXX."))
    try:
        return str(BIC(value))
    except SchwiftyException:
        raise ValueError(_("This is not a valid BIC.")) from None


def bic_for(iban: str) -> str:
    """The BIC of the IBAN's bank where schwifty knows it (German banks, say), else ""."""
    try:
        bic = IBAN(iban).bic
    except SchwiftyException:
        return ""
    return str(bic) if bic is not None else ""


def needs_bic(iban: str) -> bool:
    """Transfers to SEPA countries outside the EEA (Switzerland, the UK, ...) need the BIC."""
    try:
        country = IBAN(iban).country_code
    except SchwiftyException:
        return False
    return country in {"CH", "GB", "SM", "VA", "MC", "AD", "GI", "JE", "GG", "IM"}


def format_iban(iban: str) -> str:
    """In groups of four, as on a bank card."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def mask_iban(iban: str) -> str:
    """ "DE89 •••• •••• •••• ••30 00": enough to recognize one's own account, not to use it."""
    if len(iban) < 8:
        return "•" * len(iban)
    hidden = iban[:4] + "•" * (len(iban) - 8) + iban[-4:]
    return format_iban(hidden)


def sepa_text(text: str, max_length: int) -> str:
    """Text as every bank takes it in a transfer: transliterated ("Jürgen" → "Jurgen"), only the
    SEPA character set, single spaces, at most `max_length` characters."""
    ascii_text = unidecode(unicodedata.normalize("NFC", text)).replace("&", "+")
    return " ".join(_NOT_SEPA.sub(" ", ascii_text).split())[:max_length].strip()
