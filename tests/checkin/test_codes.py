"""Check-in codes: genuine ones are read back (typed, scanned, or as the QR code's address),
anything else is refused, and the QR codes decode to what they should hold."""

import pytest
import segno

from meetups.checkin.codes import (
    CODE_PATTERN,
    ParsedCode,
    checkin_code,
    parse_code,
    qr_png,
    qr_svg,
)

SECRET = b"s" * 40


def test_a_code_names_its_event_and_guest() -> None:
    code = checkin_code(12, 345, SECRET)
    assert CODE_PATTERN.match(code)
    assert code.startswith("12-345-")
    assert parse_code(code, SECRET) == ParsedCode(event_id=12, invitee_id=345)


@pytest.mark.parametrize(
    "spelling",
    [
        "{code}",
        "  {code}\n",
        "{lower}",
        "{spaced}",
        "http://testserver/checkin/{code}",
        "https://meetups.example.com/checkin/{code}/",
        "https://elsewhere.example/checkin/{lower}",
    ],
)
def test_it_reads_however_it_arrives(spelling: str) -> None:
    code = checkin_code(7, 8, SECRET)
    text = spelling.format(code=code, lower=code.lower(), spaced=" ".join(code))
    assert parse_code(text, SECRET) == ParsedCode(event_id=7, invitee_id=8)


def test_it_cannot_be_made_up() -> None:
    code = checkin_code(7, 8, SECRET)
    mac = code.rsplit("-", 1)[1]
    # The same MAC for another guest or event, a changed character, another secret: all refused.
    assert parse_code(f"7-9-{mac}", SECRET) is None
    assert parse_code(f"6-8-{mac}", SECRET) is None
    changed = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    assert parse_code(f"7-8-{changed}", SECRET) is None
    assert parse_code(code, b"t" * 40) is None


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "7-8",
        "7-8-",
        "x" * 10_000,
        "7-8-ÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜ",
        "-1-8-AAAAAAAAAAAAAAAA",
        "99999999999-8-AAAAAAAAAAAAAAAA",
        "http://",
        "/",
        "%00",
        "7-8-AAAAAAAAAAAAAAA1",
    ],
)
def test_anything_else_is_no_code(text: str | None) -> None:
    assert parse_code(text, SECRET) is None


def test_the_qr_codes_hold_the_address() -> None:
    content = "http://testserver/checkin/" + checkin_code(7, 8, SECRET)
    svg = qr_svg(content, title="Check-in code")
    assert svg.startswith(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox=')
    assert b"<title>Check-in code</title>" in svg
    assert b"<script" not in svg
    assert b"style=" not in svg  # nothing a strict CSP would block
    png = qr_png(content)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # What is drawn is the code of exactly this content (same symbol as segno makes for it).
    expected = segno.make(content, error="m")
    assert f'viewBox="0 0 {expected.symbol_size(scale=1, border=4)[0]}'.encode() in svg
