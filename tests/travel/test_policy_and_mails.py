"""The policy in plain words (invitation e-mail, invitation page), the link to the claim, and the
status e-mails in the invitee's language."""

from typing import Any

from sqlmodel import select

from meetups.contacts.models import Contact
from meetups.invitations import messages
from meetups.invitations.models import InviteeStatus
from meetups.travel.messages import render_claim_email
from meetups.travel.models import ClaimItem, ClaimStatus
from tests.conftest import Browser, text_of
from tests.travel.conftest import Guest, make_guest
from tests.travel.helpers import make_claim


async def test_the_invitation_page_states_the_policy_and_links_to_the_claim(
    browser: Browser, session: Any, settings: Any, event: Any, guest: Guest
) -> None:
    page = await browser.get(f"/i/{guest.token}?lang=en")
    text = text_of(page.text)
    assert "We reimburse your travel costs up to €150.00 per person" in text
    assert f'href="/i/{guest.token}/travel?lang=en"' in page.text

    maybe = await make_guest(
        session, settings, event, email="m@example.com", status=InviteeStatus.maybe
    )
    await session.commit()
    page = await browser.get(f"/i/{maybe.token}?lang=en")
    assert "We reimburse your travel costs" in text_of(page.text)
    assert f"/i/{maybe.token}/travel" not in page.text


async def test_no_policy_no_mention(
    browser: Browser, session: Any, event: Any, guest: Guest
) -> None:
    event.travel_enabled = False
    session.add(event)
    await session.commit()
    page = await browser.get(f"/i/{guest.token}?lang=en")
    assert "reimburse" not in page.text
    assert f"/i/{guest.token}/travel" not in page.text


async def test_the_invitation_e_mail_mentions_the_policy_in_the_guest_s_language(
    session: Any, settings: Any, event: Any
) -> None:
    contact = Contact(name="Anna", email="anna@example.com", language="de")
    preview = messages.render_invitation_preview(event, contact, settings=settings)
    assert "150,00" in preview.text  # the cap, written the German way
    assert "0,30" in preview.text  # the mileage rate
    english = Contact(name="Anna", email="anna@example.com", language="en")
    preview = messages.render_invitation_preview(event, english, settings=settings)
    assert "We reimburse your travel costs up to €150.00 per person" in preview.text
    assert "We reimburse your travel costs" in preview.html


async def test_status_e_mails_carry_the_amounts_in_the_invitee_s_language(
    session: Any, settings: Any, event: Any, guest: Guest
) -> None:
    claim = await make_claim(
        session,
        guest,
        status=ClaimStatus.partly_approved,
        amounts=[12000, 3000],
        approved=[9000, 3000],
    )
    items = list(
        (await session.exec(select(ClaimItem).where(ClaimItem.claim_id == claim.id))).all()
    )
    german = Contact(name="Anna", email="anna@example.com", language="de")
    mail = render_claim_email(
        claim, items, event=event, contact=german, link="http://x/i/t/travel", reason="Zu teuer."
    )
    assert "120,00\xa0€" in mail.text
    assert "90,00\xa0€" in mail.text
    assert "120,00\xa0€" in mail.html
    assert "Zu teuer." in mail.text
    english = Contact(name="Anna", email="anna@example.com", language="en")
    mail = render_claim_email(
        claim, items, event=event, contact=english, link="http://x/i/t/travel", reason="Too much."
    )
    assert mail.subject == "Your travel claim for Blogger-Feedback Montabaur: €120.00 approved"
    assert "approved €120.00 of the €150.00 you claimed" in mail.text
    assert "DE89 •••• •••• •••• ••30 00" in mail.text
    assert "<script" not in mail.html


def test_travel_e_mails_have_readable_kinds() -> None:
    assert messages.kind_label("travel_approved") == "Travel claim approved"
    assert messages.kind_label("travel_paid") == "Travel costs paid"
    assert messages.kind_label("something_else") == "something_else"
