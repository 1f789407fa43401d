"""Doing what an invitee does on their claim page, and reading back what the app stored."""

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlmodel import col, select

from meetups.mail.models import OutboxMessage
from meetups.travel.models import Claim, ClaimDecision, ClaimItem
from tests.conftest import Browser

GOOD_IBAN = "DE89 3704 0044 0532 0130 00"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


async def add_item(
    browser: Browser,
    token: str,
    *,
    category: str = "train",
    amount: str = "49,90",
    distance: str = "",
    description: str = "ICE Köln – Montabaur",
    spent_on: str | None = None,
    receipt: tuple[str, bytes, str] | None = None,
    htmx: bool = False,
) -> httpx.Response:
    data = {
        "category": category,
        "amount": amount,
        "distance_km": distance,
        "description": description,
        "spent_on": spent_on or today(),
        "lang": "en",
    }
    files = {"receipt": receipt} if receipt else {"receipt": ("", b"", "application/octet-stream")}
    return await browser.submit(f"/i/{token}/travel/items", data, files=files, htmx=htmx)


async def save_payee(
    browser: Browser, token: str, *, name: str = "Anna Müller", iban: str = GOOD_IBAN, bic: str = ""
) -> httpx.Response:
    return await browser.submit(
        f"/i/{token}/travel/payee", {"payee_name": name, "iban": iban, "bic": bic, "lang": "en"}
    )


async def submit(browser: Browser, token: str) -> httpx.Response:
    return await browser.submit(f"/i/{token}/travel/submit", {"lang": "en"})


async def file_claim(browser: Browser, token: str, png: bytes, **item: Any) -> None:
    """A complete claim with one item and a receipt, submitted."""
    response = await add_item(browser, token, receipt=("ticket.png", png, "image/png"), **item)
    assert response.status_code == 303, response.text
    assert (await save_payee(browser, token)).status_code == 303
    response = await submit(browser, token)
    assert response.status_code == 303, response.text


async def reload(session: Any, statement: Any) -> list[Any]:
    """Rows as the database has them now (the session leaves no transaction open)."""
    session.expunge_all()
    rows = list((await session.exec(statement)).all())
    await session.commit()
    return rows


async def claim_of(session: Any, invitee_id: int) -> Claim:
    rows = await reload(session, select(Claim).where(Claim.invitee_id == invitee_id))
    assert rows, "no claim"
    return rows[0]


async def items_of(session: Any, claim_id: int) -> list[ClaimItem]:
    return await reload(
        session, select(ClaimItem).where(ClaimItem.claim_id == claim_id).order_by(col(ClaimItem.id))
    )


async def history_of(session: Any, claim_id: int) -> list[ClaimDecision]:
    return await reload(
        session,
        select(ClaimDecision)
        .where(ClaimDecision.claim_id == claim_id)
        .order_by(col(ClaimDecision.id)),
    )


async def mails(session: Any, kind_prefix: str = "travel_") -> list[OutboxMessage]:
    rows = await reload(session, select(OutboxMessage).order_by(col(OutboxMessage.id)))
    return [row for row in rows if row.kind.startswith(kind_prefix)]


def mail_text(row: OutboxMessage) -> str:
    """The plain-text part of a queued e-mail."""
    import email
    from email.policy import default

    message = email.message_from_string(row.raw, policy=default)
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert part is not None
    return part.get_content()


async def make_claim(
    session: Any,
    guest: Any,
    *,
    status: Any,
    amounts: list[int],
    approved: list[int] | None = None,
    iban: str = "DE89370400440532013000",
    bic: str = "",
    payee: str | None = None,
    descriptions: list[str] | None = None,
) -> Claim:
    """A claim arranged directly in the database (flushed, not committed)."""
    from datetime import date

    from meetups.events.models import TravelCategory
    from meetups.travel.models import ClaimStatus

    now = datetime.now(UTC)
    claim = Claim(
        event_id=guest.invitee.event_id,
        invitee_id=guest.invitee.id,
        status=status,
        payee_name=payee if payee is not None else guest.contact.name,
        iban=iban,
        bic=bic,
        requested_cents=sum(amounts),
        approved_cents=sum(approved) if approved is not None else None,
        submitted_at=now if status != ClaimStatus.draft else None,
        paid_on=now.date() if status == ClaimStatus.paid else None,
    )
    session.add(claim)
    await session.flush()
    for index, cents in enumerate(amounts):
        session.add(
            ClaimItem(
                claim_id=claim.id,
                category=TravelCategory.train,
                spent_on=date.today(),
                description=(descriptions or [""] * len(amounts))[index],
                amount_cents=cents,
                approved_cents=approved[index] if approved is not None else None,
            )
        )
    await session.flush()
    return claim
