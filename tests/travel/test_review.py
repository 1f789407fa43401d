"""The organizers' review: looking at a claim, approving in full or in part, the cap override,
rejecting, sending back, paying one by one or in a batch, the history, and what viewers may do."""

from typing import Any

from meetups.travel.models import ClaimStatus, DecisionAction
from tests.conftest import Browser, sign_in_as, text_of
from tests.travel.conftest import Guest
from tests.travel.helpers import (
    add_item,
    claim_of,
    file_claim,
    history_of,
    items_of,
    mail_text,
    mails,
    submit,
    today,
)


def claim_url(event: Any, claim_id: int, action: str = "") -> str:
    return f"/events/{event.slug}/travel/claims/{claim_id}" + (f"/{action}" if action else "")


async def approve(browser: Browser, event: Any, claim: Any, **fields: str) -> Any:
    data = {"revision": str(claim.revision), **fields}
    return await browser.submit(claim_url(event, claim.id, "approve"), data)


async def test_a_viewer_can_look_but_not_decide(
    browser: Browser, session: Any, guest: Guest, event: Any, png: bytes
) -> None:
    await file_claim(browser, guest.token, png)
    claim = await claim_of(session, guest.invitee.id)
    await sign_in_as(browser, session, "viewer")
    page = await browser.get(claim_url(event, claim.id))
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Anna Müller" in text
    assert "deciding on them needs the organizer role" in text
    assert 'action="/events/blogger-feedback/travel/claims' not in page.text
    for action, data in (
        ("approve", {}),
        ("reject", {"rejection": "no"}),
        ("send-back", {"note": "fix"}),
        ("paid", {"paid_on": today()}),
    ):
        response = await browser.submit(
            claim_url(event, claim.id, action), {"revision": str(claim.revision), **data}
        )
        assert response.status_code == 403
    response = await browser.submit(f"/events/{event.slug}/travel/paid", [("claim", str(claim.id))])
    assert response.status_code == 403
    assert (await browser.get(f"/events/{event.slug}/travel/claims.csv")).status_code == 403
    assert (await browser.get(f"/events/{event.slug}/travel/sepa.xml")).status_code == 403
    after = await claim_of(session, claim.id and guest.invitee.id)
    assert after.status == ClaimStatus.submitted
    assert after.seen_at is None  # a viewer's look does not lock the claim for the guest
    assert [m.kind for m in await mails(session)] == ["travel_submitted"]


async def test_approving_in_full_tells_the_invitee_with_the_amount(
    editor: Browser, session: Any, guest: Guest, event: Any, png: bytes
) -> None:
    await file_claim(editor, guest.token, png, amount="49,90")
    claim = await claim_of(session, guest.invitee.id)
    page = await editor.get(claim_url(event, claim.id))
    assert page.status_code == 200
    assert "Costs and receipts" in text_of(page.text)
    claim = await claim_of(session, guest.invitee.id)
    assert claim.seen_at is not None
    response = await approve(editor, event, claim)
    assert response.status_code == 303, response.text
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.approved
    assert claim.approved_cents == 4990
    [step] = [s for s in await history_of(session, claim.id) if not s.by_invitee]
    assert step.action == DecisionAction.approved
    assert step.actor_name == "Organizer Person"
    assert step.approved_cents == 4990
    mail = (await mails(session))[-1]
    assert mail.kind == "travel_approved"
    assert "€49.90" in mail.subject
    assert "approved your travel claim" in mail_text(mail)
    # The invitee sees the decision and can no longer change the claim.
    page = text_of((await editor.get(guest.url)).text)
    assert "Approved: €49.90" in page
    assert (
        await add_item(editor, guest.token, receipt=("x.png", png, "image/png"))
    ).status_code == 409


async def test_approving_in_part_needs_a_reason_and_lowers_single_items(
    editor: Browser, session: Any, guest: Guest, event: Any, png: bytes
) -> None:
    await add_item(editor, guest.token, amount="80", receipt=("a.png", png, "image/png"))
    await file_claim(editor, guest.token, png, amount="40", category="hotel", description="Hotel")
    claim = await claim_of(session, guest.invitee.id)
    train, hotel = sorted(
        await items_of(session, claim.id), key=lambda item: item.amount_cents, reverse=True
    )
    await editor.get(claim_url(event, claim.id))
    claim = await claim_of(session, guest.invitee.id)

    response = await approve(editor, event, claim, **{f"approved_{train.id}": "60,00"})
    assert response.status_code == 422
    assert "Tell the guest why you approve less than claimed." in text_of(response.text)
    response = await approve(editor, event, claim, **{f"approved_{train.id}": "90,00"})
    assert response.status_code == 422
    assert "At most the amount claimed, €80.00." in text_of(response.text)

    response = await approve(
        editor,
        event,
        claim,
        **{
            f"approved_{train.id}": "60,00",
            f"approved_{hotel.id}": "40",
            "reason": "Second class is reimbursed.",
        },
    )
    assert response.status_code == 303, response.text
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.partly_approved
    assert claim.approved_cents == 10000
    amounts = {item.id: item.approved_cents for item in await items_of(session, claim.id)}
    assert amounts == {train.id: 6000, hotel.id: 4000}
    steps = await history_of(session, claim.id)
    assert steps[-1].action == DecisionAction.partly_approved
    assert steps[-1].reason == "Second class is reimbursed."
    mail = (await mails(session))[-1]
    assert mail.kind == "travel_partly_approved"
    body = mail_text(mail)
    assert "approved €100.00 of the €120.00 you claimed" in body
    assert "Second class is reimbursed." in body
    page = text_of((await editor.get(guest.url)).text)
    assert "Approved in part: €100.00 of the €120.00" in page
    assert "Second class is reimbursed." in page


async def test_approving_above_the_cap_needs_an_explicit_override_with_a_reason(
    editor: Browser, session: Any, guest: Guest, event: Any, png: bytes
) -> None:
    await file_claim(editor, guest.token, png, amount="200")
    claim = await claim_of(session, guest.invitee.id)
    page = text_of((await editor.get(claim_url(event, claim.id))).text)
    assert "€50.00 above the cap per person" in page
    claim = await claim_of(session, guest.invitee.id)

    response = await approve(editor, event, claim)
    assert response.status_code == 422
    assert "€50.00 above the cap of €150.00" in text_of(response.text)
    response = await approve(editor, event, claim, override="on")
    assert response.status_code == 422
    assert "Say why this claim may go above the cap." in text_of(response.text)
    assert (await claim_of(session, guest.invitee.id)).status == ClaimStatus.submitted

    response = await approve(
        editor, event, claim, override="on", override_reason="Flight from Vienna, agreed by phone."
    )
    assert response.status_code == 303
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.approved
    assert claim.approved_cents == 20000
    step = (await history_of(session, claim.id))[-1]
    assert step.cap_override is True
    assert step.override_reason == "Flight from Vienna, agreed by phone."


async def test_lowering_to_the_cap_needs_no_override(
    editor: Browser, session: Any, guest: Guest, event: Any, png: bytes
) -> None:
    await file_claim(editor, guest.token, png, amount="200")
    claim = await claim_of(session, guest.invitee.id)
    [item] = await items_of(session, claim.id)
    response = await approve(
        editor, event, claim, **{f"approved_{item.id}": "150", "reason": "Our cap is €150."}
    )
    assert response.status_code == 303
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.partly_approved
    assert claim.approved_cents == 15000
    assert (await history_of(session, claim.id))[-1].cap_override is False


async def test_rejecting_needs_a_reason(
    editor: Browser, session: Any, guest: Guest, event: Any, png: bytes
) -> None:
    await file_claim(editor, guest.token, png)
    claim = await claim_of(session, guest.invitee.id)
    url = claim_url(event, claim.id, "reject")
    response = await editor.submit(url, {"revision": str(claim.revision), "rejection": "  "})
    assert response.status_code == 422
    assert "Tell the guest why the claim is rejected." in text_of(response.text)
    response = await editor.submit(
        url, {"revision": str(claim.revision), "rejection": "You did not come to the event."}
    )
    assert response.status_code == 303
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.rejected
    assert claim.approved_cents == 0
    mail = (await mails(session))[-1]
    assert mail.kind == "travel_rejected"
    assert "You did not come to the event." in mail_text(mail)


async def test_sending_back_lets_the_invitee_correct_and_resubmit(
    editor: Browser, session: Any, guest: Guest, event: Any, png: bytes
) -> None:
    await file_claim(editor, guest.token, png)
    claim = await claim_of(session, guest.invitee.id)
    await editor.get(claim_url(event, claim.id))
    claim = await claim_of(session, guest.invitee.id)
    response = await editor.submit(
        claim_url(event, claim.id, "send-back"),
        {"revision": str(claim.revision), "note": "Please add the return ticket."},
    )
    assert response.status_code == 303
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.needs_changes
    mail = (await mails(session))[-1]
    assert mail.kind == "travel_needs_changes"
    assert "Please add the return ticket." in mail_text(mail)

    page = text_of((await editor.get(guest.url)).text)
    assert "Please add the return ticket." in page
    assert (
        await add_item(editor, guest.token, receipt=("r.png", png, "image/png"))
    ).status_code == 303
    assert (await submit(editor, guest.token)).status_code == 303
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.submitted
    assert claim.requested_cents == 2 * 4990
    assert claim.seen_at is None
    mail = (await mails(session))[-1]
    assert mail.kind == "travel_submitted"
    assert "Thank you for correcting your travel claim" in mail_text(mail)


async def test_a_decision_on_a_claim_that_changed_meanwhile_is_refused(
    editor: Browser, session: Any, guest: Guest, event: Any, png: bytes
) -> None:
    await file_claim(editor, guest.token, png)
    claim = await claim_of(session, guest.invitee.id)
    old_revision = claim.revision
    # The guest changes the claim before anyone has looked at it.
    await add_item(editor, guest.token, amount="10", receipt=("b.png", png, "image/png"))
    response = await editor.submit(
        claim_url(event, claim.id, "approve"), {"revision": str(old_revision)}
    )
    assert response.status_code == 409
    assert "The claim changed while you were looking at it" in text_of(response.text)
    assert (await claim_of(session, guest.invitee.id)).status == ClaimStatus.submitted


async def test_paying_one_claim_with_its_date(
    editor: Browser, session: Any, guest: Guest, event: Any, png: bytes
) -> None:
    await file_claim(editor, guest.token, png)
    claim = await claim_of(session, guest.invitee.id)
    await approve(editor, event, claim)
    url = claim_url(event, claim.id, "paid")
    response = await editor.submit(url, {"paid_on": "2999-01-01"})
    assert response.status_code == 422
    assert "once the bank has carried out the transfer" in text_of(response.text)
    response = await editor.submit(url, {"paid_on": today()})
    assert response.status_code == 303
    claim = await claim_of(session, guest.invitee.id)
    assert claim.status == ClaimStatus.paid
    assert claim.paid_on.isoformat() == today()
    step = (await history_of(session, claim.id))[-1]
    assert step.action == DecisionAction.paid
    assert step.paid_on == claim.paid_on
    mail = (await mails(session))[-1]
    assert mail.kind == "travel_paid"
    assert "We transferred €49.90" in mail_text(mail)
    # Paid is final.
    response = await approve(editor, event, claim)
    assert response.status_code == 409
    assert "paid already" in text_of(response.text)


async def test_paying_a_batch_skips_what_is_not_approved(
    editor: Browser,
    session: Any,
    settings: Any,
    guest: Guest,
    other_guest: Guest,
    event: Any,
    png: bytes,
) -> None:
    from tests.travel.conftest import make_guest

    third = await make_guest(session, settings, event, name="Cleo", email="cleo@example.com")
    await session.commit()
    for person in (guest, other_guest, third):
        await file_claim(editor, person.token, png)
    first = await claim_of(session, guest.invitee.id)
    second = await claim_of(session, other_guest.invitee.id)
    waiting = await claim_of(session, third.invitee.id)
    await approve(editor, event, first)
    await approve(editor, event, second)
    response = await editor.submit(
        f"/events/{event.slug}/travel/paid",
        [
            ("claim", str(first.id)),
            ("claim", str(second.id)),
            ("claim", str(waiting.id)),
            ("claim", "abc"),
            ("paid_on", today()),
        ],
    )
    assert response.status_code == 303
    assert (await claim_of(session, guest.invitee.id)).status == ClaimStatus.paid
    assert (await claim_of(session, other_guest.invitee.id)).status == ClaimStatus.paid
    assert (await claim_of(session, third.invitee.id)).status == ClaimStatus.submitted
    page = text_of((await editor.get(f"/events/{event.slug}/travel")).text)
    assert "2 claims are marked as paid" in page
    assert "1 claim was skipped" in page
    assert len([m for m in await mails(session) if m.kind == "travel_paid"]) == 2


async def test_the_travel_tab_filters_by_status_and_shows_totals_against_the_budget(
    editor: Browser, session: Any, guest: Guest, other_guest: Guest, event: Any, png: bytes
) -> None:
    await file_claim(editor, guest.token, png, amount="100")
    await file_claim(editor, other_guest.token, png, amount="40")
    first = await claim_of(session, guest.invitee.id)
    await approve(editor, event, first)
    response = await editor.submit(f"/events/{event.slug}/travel/budget", {"budget": "1.000"})
    assert response.status_code == 303
    page = await editor.get(f"/events/{event.slug}/travel")
    text = text_of(page.text)
    assert "€140.00 Requested" in text
    assert "€100.00 Approved" in text
    assert "€900.00 Left of the budget of €1,000.00" in text
    assert "Anna Müller" in text
    assert "Ben Berger" in text
    text = text_of((await editor.get(f"/events/{event.slug}/travel?status=approved")).text)
    assert "Anna Müller" in text
    assert "Ben Berger" not in text
    response = await editor.submit(f"/events/{event.slug}/travel/budget", {"budget": "lots"})
    assert response.status_code == 422
    assert "Please enter an amount" in text_of(response.text)


async def test_the_queue_across_events(
    editor: Browser, session: Any, settings: Any, guest: Guest, png: bytes
) -> None:
    from tests.travel.conftest import make_guest, make_travel_event

    second_event = await make_travel_event(session, slug="zweites-treffen", title="Zweites Treffen")
    elsewhere = await make_guest(
        session, settings, second_event, name="Dora", email="d@example.com"
    )
    await session.commit()
    await file_claim(editor, guest.token, png)
    await file_claim(editor, elsewhere.token, png)
    page = await editor.get("/travel")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Blogger-Feedback Montabaur" in text
    assert "Zweites Treffen" in text
    assert "/events/zweites-treffen/travel/claims/" in page.text
    assert (await editor.get("/travel?status=paid")).status_code == 200
    assert "Nothing to review" not in text
    assert (await editor.get("/travel?status=nonsense")).status_code == 200
