"""Integer cents and tenths of a km (km × rate rounding), caps, and IBANs/BICs with schwifty."""

import pytest

from meetups import i18n
from meetups.travel.banking import (
    bic_for,
    clean_bic,
    clean_iban,
    mask_iban,
    needs_bic,
    sepa_text,
)
from meetups.travel.money import (
    format_distance,
    mileage_cents,
    over_cap_by,
    parse_amount,
    parse_distance,
)


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.set_locale("en")


@pytest.mark.parametrize(
    ("tenths", "rate", "cents"),
    [
        (1420, 30, 4260),  # 142 km × 0.30 = 42.60
        (1425, 30, 4275),  # 142.5 km × 0.30 = 42.75
        (333, 35, 1166),  # 33.3 km × 0.35 = 11.655 → half up: 11.66
        (1, 30, 3),  # 0.1 km × 0.30 = 0.03
        (1, 4, 0),  # 0.1 km × 0.04 = 0.004 → 0.00
        (1, 5, 1),  # 0.005 → half up: 0.01
        (15, 33, 50),  # 1.5 × 0.33 = 0.495 → 0.50 (float would say 0.49499...)
        (1000_0, 42, 42000),  # 1000 km × 0.42
        (10_000_0, 1000, 100_000_00),  # the largest distance at the largest rate
    ],
)
def test_mileage_is_rounded_half_up_to_whole_cents(tenths: int, rate: int, cents: int) -> None:
    result = mileage_cents(tenths, rate)
    assert result == cents
    assert isinstance(result, int)


def test_float_arithmetic_would_have_got_it_wrong() -> None:
    # The case that proves we do not go through float: 1.5 km × 0.33 EUR.
    assert round(1.5 * 0.33, 2) == 0.49
    assert mileage_cents(15, 33) == 50


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("49,90", 4990),
        ("49.90", 4990),
        ("1.234,50", 123450),
        ("1,234.50", 123450),
        ("12", 1200),
        ("0,01", 1),
        ("€ 19,99", 1999),
        ("19,99 EUR", 1999),
    ],
)
def test_amounts_become_integer_cents(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Please enter the amount"),
        ("0", "more than zero"),
        ("-5", "cannot be negative"),
        ("12,345", "At most"),
        ("1,2,3", "Please enter an amount"),
        ("abc", "Please enter an amount"),
        ("99999999", "At most"),
        ("1e3", "Please enter an amount"),
        ("NaN", "Please enter an amount"),
    ],
)
def test_bad_amounts_are_refused_with_a_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "tenths"),
    [("142", 1420), ("142,5", 1425), ("142.5", 1425), ("142 km", 1420), (" 7 KM ", 70)],
)
def test_distances_become_tenths_of_a_km(text: str, tenths: int) -> None:
    assert parse_distance(text) == tenths


@pytest.mark.parametrize("text", ["", "0", "-3", "1,25", "12a", "1e2", "99999999"])
def test_bad_distances_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"distance|km"):
        parse_distance(text)


def test_distances_are_shown_in_the_reader_s_language() -> None:
    assert format_distance(1425) == "142.5"
    assert format_distance(1420) == "142"
    with i18n.use_locale("de"):
        assert format_distance(1425) == "142,5"


def test_over_the_cap() -> None:
    assert over_cap_by(150_00, 150_00) == 0
    assert over_cap_by(150_01, 150_00) == 1
    assert over_cap_by(10_00, None) == 0


@pytest.mark.parametrize(
    ("typed", "compact"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("de89370400440532013000", "DE89370400440532013000"),
        ("  DE89-3704-0044-0532-0130-00 ", "DE89370400440532013000"),
        ("AT61 1904 3002 3457 3201", "AT611904300234573201"),
        ("at611904300234573201", "AT611904300234573201"),
        ("CH93 0076 2011 6238 5295 7", "CH9300762011623852957"),
        ("ch93\u00a00076\u00a02011\u00a06238\u00a05295\u00a07", "CH9300762011623852957"),
    ],
)
def test_valid_ibans_of_germany_austria_and_switzerland(typed: str, compact: str) -> None:
    assert clean_iban(typed) == compact


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("DE89 3704 0044 0532 0130 01", "check digits do not match"),
        ("DE88 3704 0044 0532 0130 00", "check digits do not match"),
        ("AT61 1904 3002 3457 3202", "check digits do not match"),
        ("CH93 0076 2011 6238 5295 8", "check digits do not match"),
        ("DE89 3704 0044 0532 0130", "too short or too long"),
        ("XX89 3704 0044 0532 0130 00", "unknown country code"),
        ("", "Please enter your IBAN"),
        ("DE89 3704 0044 0532 0130 0Ö", "letters and digits only"),
        ('=HYPERLINK("x")', "letters and digits only"),
        ("BR15 0000 0000 0000 1093 2840 814P 2", "SEPA area"),
    ],
)
def test_invalid_ibans_are_refused_with_a_clear_message(typed: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        clean_iban(typed)


def test_ibans_are_shown_masked() -> None:
    assert mask_iban("DE89370400440532013000") == "DE89 •••• •••• •••• ••30 00"
    assert mask_iban("AT611904300234573201") == "AT61 •••• •••• •••• 3201"
    masked = mask_iban("CH9300762011623852957")
    assert masked.startswith("CH93 ")
    assert masked.replace(" ", "").endswith("2957")
    assert "0076" not in masked


def test_bics() -> None:
    assert clean_bic("cobadeffxxx") == "COBADEFFXXX"
    assert clean_bic("") == ""
    with pytest.raises(ValueError, match="Please enter the BIC"):
        clean_bic("", required=True)
    with pytest.raises(ValueError, match="BIC"):
        clean_bic("NOTABIC")
    assert bic_for("DE89370400440532013000") == "COBADEFFXXX"
    assert needs_bic("CH9300762011623852957")
    assert not needs_bic("DE89370400440532013000")


def test_sepa_text_keeps_to_the_bank_character_set() -> None:
    assert sepa_text("Jürgen Müßig & Söhne <GmbH>", 70) == "Jurgen Mussig + Sohne GmbH"
    assert sepa_text("x" * 200, 140) == "x" * 140
