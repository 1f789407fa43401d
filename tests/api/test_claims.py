"""Travel claims through the API: the list (filtered, in pages), one claim with its items,
receipts and history, the bank account masked; claims of another event are not found."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from meetups.events.models import Event, TravelCategory
from meetups.travel import receipts
from meetups.travel.models import Claim, ClaimDecision, ClaimItem, ClaimStatus, DecisionAction
from meetups.travel.samples import receipt_png
from tests import factories
from tests.api.conftest import Caller, error_of, fields_of

IBAN = "DE89370400440532013000"


async def make_claim(
    session: Any,
    event: Event,
    name: str,
    status: ClaimStatus,
    *,
    submitted_days_ago: int | None = 2,
    organizer_id: int | None = None,
) -> Claim:
    contact = await factories.make_contact(
        session, name=name, email=f"{name.split()[0].lower()}@example.com"
    )
    invitee = await factories.make_invitee(session, event, contact, status="accepted", seats=1)
    submitted = (
        datetime.now(UTC) - timedelta(days=submitted_days_ago)
        if submitted_days_ago is not None
        else None
    )
    claim = Claim(
        event_id=event.id,  # type: ignore[arg-type]
        invitee_id=invitee.id,  # type: ignore[arg-type]
        status=status,
        payee_name=name,
        iban=IBAN,
        requested_cents=4990 + 3000,
        approved_cents=7990 if status == ClaimStatus.approved else None,
        submitted_at=submitted,
    )
    session.add(claim)
    await session.flush()
    train = ClaimItem(
        claim_id=claim.id,  # type: ignore[arg-type]
        category=TravelCategory.train,
        spent_on=date(2031, 5, 14),
        description="ICE Köln – Montabaur",
        amount_cents=4990,
    )
    car = ClaimItem(
        claim_id=claim.id,  # type: ignore[arg-type]
        category=TravelCategory.car,
        spent_on=date(2031, 5, 14),
        description="Zum Bahnhof",
        distance_tenths_km=1000,
        mileage_rate_cents=30,
        amount_cents=3000,
    )
    session.add_all([train, car])
    await session.flush()
    await receipts.store_receipt(
        session=session,
        claim_id=claim.id,  # type: ignore[arg-type]
        item_id=train.id,  # type: ignore[arg-type]
        item_position=1,
        data=receipt_png(),
        filename="ticket.png",
    )
    if submitted is not None:
        session.add(
            ClaimDecision(
                claim_id=claim.id,  # type: ignore[arg-type]
                action=DecisionAction.submitted,
                by_invitee=True,
                actor_name=name,
                at=submitted,
                requested_cents=claim.requested_cents,
            )
        )
    if status == ClaimStatus.approved:
        session.add(
            ClaimDecision(
                claim_id=claim.id,  # type: ignore[arg-type]
                action=DecisionAction.approved,
                organizer_id=organizer_id,
                actor_name="Olga Organizer",
                at=submitted + timedelta(days=1),  # type: ignore[operator]
                requested_cents=claim.requested_cents,
                approved_cents=7990,
                reason="Alles belegt.",
            )
        )
    await session.flush()
    return claim


@pytest.fixture
async def event(session: Any) -> Event:
    ends = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    event = await factories.make_event(
        session,
        starts_at=ends - timedelta(hours=4),
        travel_enabled=True,
        travel_claim_deadline=ends + timedelta(days=30),
    )
    await session.commit()
    return event


async def test_the_claims_list_waits_longest_first_and_filters(  # type: ignore[no-untyped-def]
    api, session, event: Event, viewer: Caller
) -> None:
    late = await make_claim(session, event, "Anna Alt", ClaimStatus.submitted, submitted_days_ago=1)
    early = await make_claim(
        session, event, "Bert Bach", ClaimStatus.approved, submitted_days_ago=3
    )
    draft = await make_claim(
        session, event, "Cleo Cramer", ClaimStatus.draft, submitted_days_ago=None
    )
    await session.commit()
    url = f"/api/v1/events/{event.slug}/claims"

    page = (await api.get(url, headers=viewer.headers)).json()
    assert [claim["id"] for claim in page["items"]] == [early.id, late.id, draft.id]
    assert page["total"] == 3
    first = page["items"][0]
    assert first["guest"] == {"id": early.invitee_id, "name": "Bert Bach"}
    assert first["status"] == "approved"
    assert (first["requested_cents"], first["approved_cents"], first["items"]) == (7990, 7990, 2)
    assert first["url"] == f"http://testserver/events/{event.slug}/travel/claims/{early.id}"
    assert "iban" not in str(first).lower()

    submitted = (await api.get(url + "?status=submitted", headers=viewer.headers)).json()
    assert [claim["id"] for claim in submitted["items"]] == [late.id]
    paged = (await api.get(url + "?limit=1&offset=1", headers=viewer.headers)).json()
    assert [claim["id"] for claim in paged["items"]] == [late.id]
    assert paged["next"].endswith("?limit=1&offset=2")

    wrong = await api.get(url + "?status=lost", headers=viewer.headers)
    assert wrong.status_code == 422
    assert "status" in fields_of(wrong)


async def test_one_claim_with_items_receipts_and_history(  # type: ignore[no-untyped-def]
    api, session, event: Event, viewer: Caller
) -> None:
    organizer = await factories.make_organizer(session, email="olga@example.com")
    claim = await make_claim(
        session, event, "Bert Bach", ClaimStatus.approved, organizer_id=organizer.id
    )
    await session.commit()

    response = await api.get(
        f"/api/v1/events/{event.slug}/claims/{claim.id}", headers=viewer.headers
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["payee_name"] == "Bert Bach"
    assert IBAN not in response.text
    assert data["iban_masked"].startswith("DE89")
    assert data["iban_masked"].endswith("00")
    train, car = data["claim_items"]
    assert (train["category"], train["amount_cents"], train["spent_on"]) == (
        "train",
        4990,
        "2031-05-14",
    )
    assert train["receipt"] == {
        "content_type": "image/png",
        "size": len(receipt_png()),
        "original_name": "ticket.png",
    }
    assert (car["distance_tenths_km"], car["mileage_rate_cents"], car["receipt"]) == (
        1000,
        30,
        None,
    )
    assert [step["action"] for step in data["history"]] == ["submitted", "approved"]
    assert data["history"][0]["by_guest"] is True
    assert data["history"][0]["organizer_name"] is None
    assert data["history"][1]["organizer_name"] == "Olga Organizer"
    assert data["history"][1]["reason"] == "Alles belegt."

    # Reading through the API is not an organizer looking at the claim.
    await session.refresh(claim)
    assert claim.seen_at is None


async def test_a_claim_of_another_event_is_not_found(
    api, session, event: Event, viewer: Caller
) -> None:  # type: ignore[no-untyped-def]
    other = await factories.make_event(session, slug="anderes-treffen")
    foreign = await make_claim(session, other, "Erik Eck", ClaimStatus.submitted)
    await session.commit()
    response = await api.get(
        f"/api/v1/events/{event.slug}/claims/{foreign.id}", headers=viewer.headers
    )
    assert response.status_code == 404
    assert "Erik" not in response.text
    assert error_of(response)["code"] == "not_found"
    for claim_id in ("0", "x", "99999999999"):
        response = await api.get(
            f"/api/v1/events/{event.slug}/claims/{claim_id}", headers=viewer.headers
        )
        assert response.status_code == 404
