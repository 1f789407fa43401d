"""Receipts: recognized by their content, size-limited, with clean names, stored in the database,
and served only to their invitee and to organizers, with the right headers."""

from typing import Any

import pytest
from sqlmodel import select

from meetups.travel import receipts
from meetups.travel.models import Receipt, ReceiptContent
from tests.conftest import Browser, sign_in_as, text_of
from tests.travel.conftest import Guest
from tests.travel.helpers import add_item, claim_of, items_of, reload

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png"),
        (JPEG, "image/jpeg"),
        (SVG, None),
        (HTML, None),
        (b"GIF89a" + b"\x00" * 20, None),
        (b"PK\x03\x04 a zip", None),
        (b"<html>%PDF-1.4</html>", None),
    ],
)
def test_the_type_comes_from_the_first_bytes(data: bytes, expected: str | None) -> None:
    kind = receipts.sniff(data)
    assert (kind.content_type if kind else None) == expected


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system32\\ticket.pdf", "ticket.pdf"),
        ("C:\\Users\\anna\\Desktop\\Bahn Ticket.pdf", "Bahn Ticket.pdf"),
        ("/home/x/../quittung.png", "quittung.png"),
        ("ti\x00ck\u202eet.pdf", "ticket.pdf"),
        ("..", "receipt"),
        ("", "receipt"),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
    ],
)
def test_names_lose_their_folders_and_control_characters(name: str, clean: str) -> None:
    assert receipts.clean_filename(name) == clean


async def test_an_upload_is_stored_in_the_database_under_a_generated_name(
    browser: Browser, session: Any, guest: Guest, pdf: bytes
) -> None:
    response = await add_item(
        browser, guest.token, receipt=("../../Fahrkarte Köln.pdf", pdf, "image/png")
    )
    assert response.status_code == 303, response.text
    claim = await claim_of(session, guest.invitee.id)
    [receipt] = await reload(session, select(Receipt).where(Receipt.claim_id == claim.id))
    assert receipt.content_type == "application/pdf"  # by content, not what the browser said
    assert receipt.original_name == "Fahrkarte Köln.pdf"
    assert receipt.stored_name == f"receipt-{claim.id}-1.pdf"
    assert receipt.size == len(pdf)
    [content] = await reload(
        session, select(ReceiptContent).where(ReceiptContent.receipt_id == receipt.id)
    )
    assert content.data == pdf


async def test_a_file_that_lies_about_its_type_is_judged_by_its_content(
    browser: Browser, session: Any, guest: Guest, png: bytes
) -> None:
    # A PNG named .pdf is taken as the PNG it is ...
    response = await add_item(browser, guest.token, receipt=("ticket.pdf", png, "application/pdf"))
    assert response.status_code == 303
    claim = await claim_of(session, guest.invitee.id)
    [receipt] = await reload(session, select(Receipt).where(Receipt.claim_id == claim.id))
    assert receipt.content_type == "image/png"
    assert receipt.stored_name.endswith(".png")
    # ... and HTML named .pdf with a PDF type is refused.
    response = await add_item(browser, guest.token, receipt=("ticket.pdf", HTML, "application/pdf"))
    assert response.status_code == 422
    assert "SVG, HTML and other web files cannot be receipts" in text_of(response.text)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("drawing.svg", SVG, "SVG, HTML and other web files cannot be receipts"),
        ("page.html", HTML, "SVG, HTML and other web files cannot be receipts"),
        ("scan.gif", b"GIF89a" + b"\x00" * 40, "not a PDF, JPEG or PNG"),
        ("empty.pdf", b"", "empty"),
    ],
)
async def test_other_files_are_refused(
    browser: Browser, session: Any, guest: Guest, name: str, data: bytes, message: str
) -> None:
    response = await add_item(browser, guest.token, receipt=(name, data, "image/svg+xml"))
    assert response.status_code == 422
    assert message in text_of(response.text)
    assert await reload(session, select(Receipt)) == []


async def test_a_file_over_10_mb_is_refused(browser: Browser, session: Any, guest: Guest) -> None:
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)
    response = await add_item(browser, guest.token, receipt=("big.pdf", big, "application/pdf"))
    assert response.status_code == 422
    assert "larger than 10 MB" in text_of(response.text)
    assert await reload(session, select(Receipt)) == []


async def test_a_file_of_exactly_the_limit_is_taken_one_byte_more_is_not(
    browser: Browser, session: Any, guest: Guest
) -> None:
    head = b"%PDF-1.4\n"
    at_limit = head + b"0" * (receipts.MAX_RECEIPT_BYTES - len(head))
    assert len(at_limit) == receipts.MAX_RECEIPT_BYTES
    response = await add_item(
        browser, guest.token, receipt=("limit.pdf", at_limit + b"0", "application/pdf")
    )
    assert response.status_code == 422
    assert "larger than 10 MB" in text_of(response.text)
    assert await reload(session, select(Receipt)) == []

    response = await add_item(
        browser, guest.token, receipt=("limit.pdf", at_limit, "application/pdf")
    )
    assert response.status_code == 303, text_of(response.text)
    [receipt] = await reload(session, select(Receipt))
    assert receipt.size == receipts.MAX_RECEIPT_BYTES
    [content] = await reload(
        session, select(ReceiptContent).where(ReceiptContent.receipt_id == receipt.id)
    )
    assert content.data == at_limit


async def test_the_invitee_gets_their_receipt_with_safe_headers(
    browser: Browser, session: Any, guest: Guest, pdf: bytes
) -> None:
    await add_item(browser, guest.token, receipt=("t.pdf", pdf, "application/pdf"))
    claim = await claim_of(session, guest.invitee.id)
    [receipt] = await reload(session, select(Receipt).where(Receipt.claim_id == claim.id))
    response = await browser.get(f"/i/{guest.token}/travel/receipts/{receipt.id}")
    assert response.status_code == 200
    assert response.content == pdf
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == f'inline; filename="{receipt.stored_name}"'
    assert response.headers["referrer-policy"] == "no-referrer"
    response = await browser.get(f"/i/{guest.token}/travel/receipts/{receipt.id}?download=1")
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_one_invitee_cannot_reach_another_ones_claim_or_receipt(
    browser: Browser, session: Any, guest: Guest, other_guest: Guest, png: bytes, pdf: bytes
) -> None:
    await add_item(browser, guest.token, receipt=("anna.pdf", pdf, "application/pdf"))
    await add_item(
        browser, other_guest.token, description="Bus", receipt=("ben.png", png, "image/png")
    )
    anna = await claim_of(session, guest.invitee.id)
    [anna_item] = await items_of(session, anna.id)
    [anna_receipt] = await reload(session, select(Receipt).where(Receipt.claim_id == anna.id))

    # Ben tries Anna's receipt and item ids behind his own link.
    ben = other_guest.token
    response = await browser.get(f"/i/{ben}/travel/receipts/{anna_receipt.id}")
    assert response.status_code == 404
    assert pdf not in response.content
    assert "anna.pdf" not in response.text
    response = await browser.get(f"/i/{ben}/travel/items/{anna_item.id}")
    assert response.status_code == 404
    assert "ICE Köln – Montabaur<" not in response.text
    assert "anna.pdf" not in response.text
    response = await browser.submit(
        f"/i/{ben}/travel/items/{anna_item.id}",
        {"category": "train", "amount": "1", "spent_on": anna_item.spent_on.isoformat()},
        files={"receipt": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 404
    response = await browser.submit(f"/i/{ben}/travel/items/{anna_item.id}/delete", {})
    assert response.status_code == 404
    [still] = await items_of(session, anna.id)
    assert still.amount_cents == anna_item.amount_cents

    # Odd ids change nothing either.
    for odd in ("0", "-1", "99999999999", "abc", "１"):
        response = await browser.get(f"/i/{ben}/travel/receipts/{odd}")
        assert response.status_code == 404
        response = await browser.submit(f"/i/{ben}/travel/items/{odd}/delete", {})
        assert response.status_code == 404


async def test_organizers_see_receipts_of_their_events_claims_only(
    browser: Browser, session: Any, guest: Guest, png: bytes, event: Any
) -> None:
    await add_item(browser, guest.token, receipt=("t.png", png, "image/png"))
    claim = await claim_of(session, guest.invitee.id)
    [receipt] = await reload(session, select(Receipt).where(Receipt.claim_id == claim.id))
    url = f"/events/{event.slug}/travel/claims/{claim.id}/receipts/{receipt.id}"
    assert (await browser.get(url)).status_code in (303, 307)  # signed out: to the login
    await sign_in_as(browser, session, "viewer")
    response = await browser.get(url)
    assert response.status_code == 200
    assert response.content == png
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    # The receipt under another claim's address is not found.
    assert (
        await browser.get(
            f"/events/{event.slug}/travel/claims/{claim.id + 1}/receipts/{receipt.id}"
        )
    ).status_code == 404
