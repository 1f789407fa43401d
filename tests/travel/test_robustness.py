"""No input, however odd, gets a 500 from the travel pages."""

from typing import Any
from urllib.parse import quote

import pytest

from meetups.travel.models import ClaimStatus
from tests.conftest import Browser
from tests.travel.conftest import Guest
from tests.travel.helpers import make_claim


def q(value: str) -> str:
    return quote(value, safe="")


ODD = ["", "0", "-1", "99999999999999999999", "abc", "１２", "\x00", "' OR 1=1 --", "ä" * 5000]


@pytest.fixture
async def claim(session: Any, guest: Guest) -> Any:
    claim = await make_claim(session, guest, status=ClaimStatus.submitted, amounts=[1000])
    await session.commit()
    return claim


async def test_organizer_pages_survive_odd_input(
    signed_in: Browser, event: Any, claim: Any
) -> None:
    base = f"/events/{event.slug}/travel"
    urls = (
        [f"{base}?status={q(odd)}" for odd in ODD]
        + [f"/travel?status={q(odd)}" for odd in ODD]
        + [f"{base}/sepa.xml?execution_date={q(odd)}" for odd in ODD]
        + [f"{base}/claims/{q(odd)}" for odd in ODD if odd]
        + [f"{base}/claims/{claim.id}/receipts/{q(odd)}" for odd in ODD if odd]
        + ["/events/%00/travel", "/events/" + "x" * 500 + "/travel"]
    )
    for url in urls:
        response = await signed_in.get(url)
        assert response.status_code < 500, url
    for odd in ODD:
        for action in ("approve", "reject", "send-back", "paid"):
            response = await signed_in.submit(
                f"{base}/claims/{claim.id}/{action}",
                {
                    "revision": odd,
                    "reason": odd,
                    "rejection": odd,
                    "note": odd,
                    "paid_on": odd,
                    f"approved_{claim.id}": odd,
                    "override": odd,
                    "override_reason": odd,
                },
            )
            assert response.status_code < 500, (action, odd[:20])
        response = await signed_in.submit(f"{base}/paid", [("claim", odd), ("paid_on", odd)])
        assert response.status_code < 500
        response = await signed_in.submit("/travel/paid", [("claim", odd), ("paid_on", odd)])
        assert response.status_code < 500
        response = await signed_in.submit(f"{base}/budget", {"budget": odd})
        assert response.status_code < 500
        response = await signed_in.submit(
            "/settings/payout", {"name": odd, "iban": odd, "bic": odd}
        )
        assert response.status_code < 500


async def test_invitee_pages_survive_odd_input(browser: Browser, guest: Guest, png: bytes) -> None:
    base = guest.url
    for odd in ODD:
        assert (await browser.get(f"{base}?lang={q(odd)}")).status_code < 500
        assert (await browser.get(f"{base}/items/{q(odd) or 'x'}")).status_code < 500
        assert (await browser.get(f"{base}/receipts/{q(odd) or 'x'}")).status_code < 500
        data = {
            "category": odd,
            "spent_on": odd,
            "description": odd,
            "amount": odd,
            "distance_km": odd,
            "lang": odd,
            "payee_name": odd,
            "iban": odd,
            "bic": odd,
            "item_id": odd,
        }
        for path in (
            "items",
            "payee",
            "submit",
            "preview",
            f"items/{q(odd) or 'x'}",
            f"items/{q(odd) or 'x'}/delete",
        ):
            response = await browser.submit(
                f"{base}/{path}", data, files={"receipt": (odd[:100], png, "image/png")}
            )
            assert response.status_code < 500, (path, odd[:20])
            response = await browser.submit(f"{base}/{path}", data, htmx=True)
            assert response.status_code < 500, (path, odd[:20])
