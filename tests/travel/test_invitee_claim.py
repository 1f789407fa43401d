"""The invitee's claim behind the personal link: items with receipts, the live total, the bank
details, submitting, changing until an organizer looks, and who may claim until when."""

from datetime import UTC, datetime, timedelta
from typing import Any

from meetups.checkin.models import CheckIn
from meetups.invitations.models import InviteeStatus
from meetups.travel.models import ClaimStatus, DecisionAction
from tests.conftest import Browser, text_of
from tests.travel.conftest import Guest, make_guest, make_travel_event
from tests.travel.helpers import (
    add_item,
    claim_of,
    file_claim,
    history_of,
    items_of,
    mail_text,
    mails,
    save_payee,
    submit,
)


async def test_page_shows_the_policy_and_an_empty_claim(browser: Browser, guest: Guest) -> None:
    response = await browser.get(guest.url)
    assert response.status_code == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    text = text_of(response.text)
    assert "Your travel costs" in text
    assert "up to €150.00 per person" in text
    assert "Car at €0.30 per km" in text
    assert "No costs yet." in text


async def test_filing_a_claim_from_draft_to_submitted(
    browser: Browser, session: Any, guest: Guest, png: bytes, pdf: bytes
) -> None:
    response = await add_item(browser, guest.token, receipt=("ticket.pdf", pdf, "application/pdf"))
    assert response.status_code == 303
    response = await add_item(
        browser,
        guest.token,
        category="car",
        distance="142,5",
        amount="",
        description="",
    )
    assert response.status_code == 303, response.text
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.draft
    items = await items_of(session, claim.id)
    assert [item.amount_cents for item in items] == [4990, 4275]
    assert items[1].distance_tenths_km == 1425
    assert claim.requested_cents == 9265

    page = text_of((await browser.get(guest.url)).text)
    assert "Total: €92.65" in page
    assert "Tell us the account holder and the IBAN" in page

    assert (
        await save_payee(browser, guest.token, iban="de89 3704 0044 0532 0130 00")
    ).status_code == 303
    page = text_of((await browser.get(guest.url)).text)
    assert "DE89 •••• •••• •••• ••30 00" in page
    assert "3704 0044 0532" not in page

    response = await submit(browser, guest.token)
    assert response.status_code == 303, response.text
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.submitted
    assert claim.iban == "DE89370400440532013000"
    assert claim.payee_name == "Anna Müller"
    assert not claim.over_cap
    [step] = await history_of(session, claim.id)
    assert step.action == DecisionAction.submitted
    assert step.by_invitee
    [mail] = await mails(session)
    assert mail.kind == "travel_submitted"
    assert mail.recipient == guest.contact.email
    body = mail_text(mail)
    assert "€92.65" in body
    assert "€49.90" in body
    assert "€42.75" in body
    assert f"/i/{guest.token}/travel" in body
    assert "DE89 •••• •••• •••• ••30 00" in body


async def test_a_claim_over_the_cap_can_be_submitted_and_is_flagged(
    browser: Browser, session: Any, guest: Guest, png: bytes
) -> None:
    await file_claim(browser, guest.token, png, amount="180,00")
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.submitted
    assert claim.over_cap is True
    page = text_of((await browser.get(guest.url)).text)
    assert "€30.00 above the cap" in page
    [mail] = await mails(session)
    assert "above our limit of €150.00" in mail_text(mail)


async def test_the_live_total_shows_the_amount_and_the_cap_while_typing(
    browser: Browser, session: Any, guest: Guest, png: bytes
) -> None:
    await add_item(browser, guest.token, amount="100", receipt=("t.png", png, "image/png"))
    response = await browser.submit(
        f"/i/{guest.token}/travel/preview",
        {"category": "car", "distance_km": "200", "lang": "en"},
        htmx=True,
    )
    assert response.status_code == 200
    text = text_of(response.text)
    assert "This drive: 200 km × €0.30 = €60.00" in text
    assert "Your claim with this cost: €160.00 of at most €150.00" in text
    assert "€10.00 more than the cap" in text

    response = await browser.submit(
        f"/i/{guest.token}/travel/preview", {"category": "train", "amount": "abc"}, htmx=True
    )
    assert "Please enter an amount" in text_of(response.text)


async def test_the_invitee_can_change_a_submitted_claim_until_an_organizer_looks(
    browser: Browser, session: Any, guest: Guest, png: bytes, event: Any
) -> None:
    await file_claim(browser, guest.token, png)
    claim = await claim_of(session, guest.invitee.id)
    [item] = await items_of(session, claim.id)
    response = await browser.submit(
        f"/i/{guest.token}/travel/items/{item.id}",
        {
            "category": "train",
            "amount": "59,90",
            "spent_on": item.spent_on.isoformat(),
            "description": "ICE 1st class",
        },
        files={"receipt": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 303, response.text
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.submitted
    assert claim.requested_cents == 5990
    steps = await history_of(session, claim.id)
    assert [s.action for s in steps] == [DecisionAction.submitted, DecisionAction.changed]

    # An organizer opens it: from now on the guest cannot change it.
    from tests.conftest import sign_in_as

    organizer_browser = Browser(browser._transport.app, browser.secret)  # type: ignore[attr-defined]
    async with organizer_browser:
        await sign_in_as(organizer_browser, session, "organizer")
        response = await organizer_browser.get(f"/events/{event.slug}/travel/claims/{claim.id}")
        assert response.status_code == 200
    response = await add_item(browser, guest.token, receipt=("t2.png", png, "image/png"))
    assert response.status_code == 409
    assert "The organizers are looking at your claim" in text_of(response.text)
    assert len(await items_of(session, claim.id)) == 1


async def test_a_claim_without_a_receipt_or_bank_details_cannot_be_submitted(
    browser: Browser, session: Any, guest: Guest
) -> None:
    response = await add_item(browser, guest.token)
    assert response.status_code == 422
    assert "Please add the receipt" in text_of(response.text)
    response = await add_item(
        browser, guest.token, category="car", distance="30", amount="", description=""
    )
    assert response.status_code == 303
    response = await submit(browser, guest.token)
    assert response.status_code == 422
    assert "Tell us the account holder and the IBAN" in text_of(response.text)
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.draft
    assert await mails(session) == []


async def test_bad_item_input_gets_messages_next_to_the_fields(
    browser: Browser, session: Any, guest: Guest, png: bytes
) -> None:
    future = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    response = await add_item(
        browser,
        guest.token,
        category="rocket",
        amount="-5",
        spent_on=future,
        receipt=("t.png", png, "image/png"),
    )
    assert response.status_code == 422
    text = text_of(response.text)
    assert "Please choose what kind of cost this is." in text
    assert "This date is in the future." in text
    response = await add_item(
        browser, guest.token, amount="12,3456", receipt=("t.png", png, "image/png")
    )
    assert "At most two digits after the decimal point" in text_of(response.text)
    response = await add_item(
        browser, guest.token, category="car", distance="lots", amount="", description=""
    )
    assert "distance in km as a number" in text_of(response.text)


async def test_a_category_the_event_does_not_reimburse_is_refused(
    browser: Browser, session: Any, guest: Guest, event: Any, png: bytes
) -> None:
    event.travel_categories = "train,car"
    session.add(event)
    await session.commit()
    response = await add_item(
        browser, guest.token, category="flight", receipt=("t.png", png, "image/png")
    )
    assert response.status_code == 422
    assert "not reimbursed for this event" in text_of(response.text)


async def test_after_the_deadline_a_claim_is_refused_with_a_clear_message(
    browser: Browser, session: Any, settings: Any, png: bytes
) -> None:
    starts_at = datetime.now(UTC) - timedelta(days=40)
    event = await make_travel_event(
        session, starts_at=starts_at, travel_claim_deadline=starts_at + timedelta(days=30)
    )
    guest = await make_guest(session, settings, event)
    await session.commit()
    page = await browser.get(guest.url)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "The deadline for travel claims was" in text
    assert "claims can no longer be filed" in text
    response = await add_item(browser, guest.token, receipt=("t.png", png, "image/png"))
    assert response.status_code == 409
    assert "The deadline for travel claims was" in text_of(response.text)


async def test_only_attendees_may_claim(
    browser: Browser, session: Any, settings: Any, event: Any, png: bytes
) -> None:
    declined = await make_guest(
        session, settings, event, email="d@example.com", status=InviteeStatus.declined
    )
    await session.commit()
    response = await add_item(browser, declined.token, receipt=("t.png", png, "image/png"))
    assert response.status_code == 409
    assert "guests who accepted the invitation and came" in text_of(response.text)

    # Once check-in is used, only those checked in count.
    came = await make_guest(session, settings, event, email="came@example.com")
    stayed_home = await make_guest(session, settings, event, email="home@example.com")
    session.add(CheckIn(invitee_id=came.invitee.id, event_id=event.id))
    await session.commit()
    response = await add_item(browser, came.token, receipt=("t.png", png, "image/png"))
    assert response.status_code == 303
    response = await add_item(browser, stayed_home.token, receipt=("t.png", png, "image/png"))
    assert response.status_code == 409
    assert "no record of your arrival" in text_of(response.text)


async def test_before_the_event_a_claim_can_be_prepared_but_not_submitted(
    browser: Browser, session: Any, settings: Any, png: bytes
) -> None:
    event = await make_travel_event(session, starts_at=datetime.now(UTC) + timedelta(days=5))
    guest = await make_guest(session, settings, event)
    await session.commit()
    assert (
        await add_item(browser, guest.token, receipt=("t.png", png, "image/png"))
    ).status_code == 303
    assert (await save_payee(browser, guest.token)).status_code == 303
    response = await submit(browser, guest.token)
    assert response.status_code == 422
    assert "submit it once the event has begun" in text_of(response.text)


async def test_travel_off_means_no_claims(
    browser: Browser, session: Any, settings: Any, png: bytes
) -> None:
    event = await make_travel_event(session, travel_enabled=False)
    guest = await make_guest(session, settings, event)
    await session.commit()
    assert "does not reimburse travel costs" in text_of((await browser.get(guest.url)).text)
    response = await add_item(browser, guest.token, receipt=("t.png", png, "image/png"))
    assert response.status_code == 409


async def test_wrong_links_get_the_friendly_page(browser: Browser) -> None:
    response = await browser.get("/i/" + "x" * 32 + "/travel")
    assert response.status_code == 404
    assert "This link does not work" in text_of(response.text)
    response = await browser.submit("/i/" + "x" * 32 + "/travel/submit", {})
    assert response.status_code == 404
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_removing_an_item_updates_the_total(
    browser: Browser, session: Any, guest: Guest, png: bytes
) -> None:
    await add_item(browser, guest.token, amount="10", receipt=("a.png", png, "image/png"))
    await add_item(browser, guest.token, amount="20", receipt=("b.png", png, "image/png"))
    claim = await claim_of(session, guest.invitee.id)
    first, _second = await items_of(session, claim.id)
    response = await browser.submit(
        f"/i/{guest.token}/travel/items/{first.id}/delete", {"lang": "en"}, htmx=True
    )
    assert response.status_code == 200
    assert "Total: €20.00" in text_of(response.text)
    claim = await claim_of(session, guest.invitee.id)
    assert claim.requested_cents == 2000


async def test_many_tabs_at_once_open_one_claim(
    browser: Browser, session: Any, guest: Guest, png: bytes
) -> None:
    import asyncio

    from sqlmodel import select

    from meetups.travel.models import Claim

    responses = await asyncio.gather(
        *(
            add_item(browser, guest.token, amount=str(10 + n), receipt=("t.png", png, "image/png"))
            for n in range(8)
        )
    )
    assert all(response.status_code == 303 for response in responses), [
        r.status_code for r in responses
    ]
    session.expunge_all()
    claims = (await session.exec(select(Claim).where(Claim.invitee_id == guest.invitee.id))).all()
    await session.commit()
    assert len(claims) == 1
    items = await items_of(session, claims[0].id)
    assert len(items) == 8
    assert (await claim_of(session, guest.invitee.id)).requested_cents == sum(
        (10 + n) * 100 for n in range(8)
    )
