"""Deleting one's data behind the personal link (with a confirmation step), and an organizer's
"Delete" in the address book: the same erasure everywhere, with the events' numbers kept."""

import asyncio
import re
from dataclasses import asdict
from typing import Any

from sqlmodel import col, select

from meetups.checkin.desk import desk_counts
from meetups.checkin.models import CheckIn
from meetups.contacts.models import Contact
from meetups.coverage.models import CoverageLink
from meetups.events.models import Event
from meetups.feedback.models import FeedbackAnswer, FeedbackResponse
from meetups.feedback.report import event_results
from meetups.invitations import sending
from meetups.invitations.models import Invitee, InviteeStatus, Suppression
from meetups.invitations.tracking import guest_list_counts
from meetups.mail.models import CaughtMail, OutboxMessage, OutboxStatus
from meetups.privacy.erasure import ERASED_ADDRESS
from meetups.privacy.models import PrivacyAction, PrivacyActor, PrivacyRecord
from meetups.travel.models import (
    Claim,
    ClaimDecision,
    ClaimItem,
    ClaimStatus,
    Receipt,
    ReceiptContent,
)
from tests import factories
from tests.conftest import Browser, text_of
from tests.privacy.helpers import World, fresh, mail_text, outbox_to, rows


async def _numbers(session: Any, settings: Any, world: World) -> dict[str, Any]:
    """Every number the events show that an erasure must leave alone."""
    session.expunge_all()
    past = await session.get(Event, world.past.id)
    results = await event_results(past, session=session, settings=settings, with_texts=False)
    numbers = {
        "guest_list": asdict(await guest_list_counts(past, session=session)),
        "desk": asdict(await desk_counts(past, session=session)),
        "claims": len((await session.exec(select(Claim).where(Claim.event_id == past.id))).all()),
        "responses": results.responses,
        "scales": [(r.scale, r.nps) for r in results.questions if r.kind.is_scale],
        "choices": [r.choices for r in results.questions if r.kind.has_options],
    }
    await session.commit()
    return numbers


def _input(html: str, name: str) -> str:
    match = re.search(rf'<input type="checkbox" id="f-{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


def _stats(html: str) -> list[str]:
    """The numbers at the top of the guest list, as shown."""
    return re.findall(r'<a class="stat[^"]*"[^>]*>\s*<strong>([^<]*)', html)


async def _delete(browser: Browser, token: str, **fields: str) -> Any:
    return await browser.submit(f"/i/{token}/privacy/delete", {"lang": "en", **fields})


async def test_the_privacy_page_says_what_deleting_means(browser: Browser, world: World) -> None:
    page = await browser.get(f"/i/{world.anna.token}/privacy?lang=en")

    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    text = text_of(page.text)
    assert "to 3 events" in text
    assert "Your place at “Bloggertreffen Herbst”" in text
    assert "Your travel claim that has not been decided yet is withdrawn" in text
    assert "Decided travel claims stay in our accounts" in text
    assert "your written comments are removed" in text
    assert "Links to your posts stay on our list" in text
    # "Never write to me again" is ticked; the confirmation is not.
    assert "checked" in _input(page.text, "suppress")
    assert "checked" not in _input(page.text, "confirm")


async def test_deleting_needs_the_confirmation(
    browser: Browser, world: World, session: Any
) -> None:
    response = await _delete(browser, world.anna.token, suppress="on")

    assert response.status_code == 422
    assert "Please confirm that you want your data deleted." in response.text
    contact = await fresh(session, Contact, world.anna.contact.id)
    assert contact.name == "Anna Müller"
    assert (await browser.get(f"/i/{world.anna.token}")).status_code == 200
    assert await rows(session, select(PrivacyRecord)) == []


async def test_with_htmx_the_form_answers_in_place_and_then_leaves(
    browser: Browser, world: World
) -> None:
    refused = await browser.submit(
        f"/i/{world.anna.token}/privacy/delete", {"lang": "en"}, htmx=True
    )
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith('<section id="privacy"')
    assert "Please confirm that you want your data deleted." in refused.text

    done = await browser.submit(
        f"/i/{world.anna.token}/privacy/delete", {"lang": "de", "confirm": "on"}, htmx=True
    )
    assert done.status_code == 204
    assert done.headers["HX-Redirect"] == "/privacy/deleted?lang=de"
    assert '<html lang="de">' in (await browser.get(done.headers["HX-Redirect"])).text


async def test_deleting_erases_her_everywhere_and_keeps_the_numbers(
    browser: Browser, world: World, session: Any, settings: Any
) -> None:
    anna, ben = world.anna, world.ben
    before = await _numbers(session, settings, world)
    [invitation] = [
        row for row in await outbox_to(session, [anna.invitee.id]) if row.kind == "invitation"
    ]
    assert anna.token in mail_text(invitation.raw)  # the e-mail carried her link

    response = await _delete(browser, anna.token, confirm="on", suppress="on")

    assert response.status_code == 303
    assert response.headers["location"] == "/privacy/deleted?lang=en"
    goodbye = await browser.get(response.headers["location"])
    assert "Your data is deleted" in goodbye.text
    assert goodbye.headers["referrer-policy"] == "no-referrer"
    # Her links are dead, on every page behind them.
    for path in ("", "/privacy", "/travel", "/feedback", "/calendar.ics"):
        dead = await browser.get(f"/i/{anna.token}{path}")
        assert dead.status_code == 404, path
        assert "This link does not work" in dead.text

    contact = await fresh(session, Contact, anna.contact.id)
    assert contact.name == "Deleted contact"
    assert contact.email == f"deleted-{contact.id}@invalid"
    assert (contact.city, contact.blog_url, contact.notes, contact.tag_names) == (
        None,
        None,
        None,
        [],
    )
    entries = await rows(
        session,
        select(Invitee).where(Invitee.contact_id == contact.id).order_by(col(Invitee.id)),
    )
    assert len(entries) == 3  # the rows stay for the numbers
    for entry in entries:
        assert entry.erased_at is not None
        assert (entry.link_nonce, entry.link_lookup) == (None, None)
        assert (entry.dietary_needs, entry.accessibility_needs, entry.travelling_from) == (
            "",
            "",
            "",
        )
        assert (entry.comment, entry.needs_hotel) == ("", False)
    past_entry = next(e for e in entries if e.event_id == world.past.id)
    assert past_entry.status == InviteeStatus.accepted
    assert past_entry.plus_one_name == "+1"

    # Her place at the upcoming event is given up, and Ben moves up from the waitlist.
    upcoming = next(e for e in entries if e.event_id == world.upcoming.id)
    assert (upcoming.status, upcoming.seats) == (InviteeStatus.declined, 0)
    waiting = await fresh(session, Invitee, ben.upcoming_invitee.id)  # type: ignore[union-attr]
    assert waiting.status == InviteeStatus.accepted
    assert (await fresh(session, Event, world.upcoming.id)).seats_taken == 1

    # The paid claim keeps its amounts and history, without bank details, text or receipts.
    paid = await fresh(session, Claim, anna.paid_claim.id)  # type: ignore[union-attr]
    assert (paid.status, paid.requested_cents, paid.approved_cents) == (
        ClaimStatus.paid,
        4990,
        4990,
    )
    assert (paid.payee_name, paid.iban, paid.bic) == ("", "", "")
    [item] = await rows(session, select(ClaimItem).where(ClaimItem.claim_id == paid.id))
    assert (item.amount_cents, item.description) == (4990, "")
    history = await rows(
        session,
        select(ClaimDecision).where(ClaimDecision.claim_id == paid.id).order_by(ClaimDecision.id),
    )
    assert [(step.action.value, step.actor_name, step.reason) for step in history] == [
        ("submitted", "", ""),
        ("paid", "Olga Organizer", "Receipt checked"),
    ]
    # The undecided claim of the spring event is withdrawn.
    claims = await rows(session, select(Claim).order_by(col(Claim.id)))
    assert [claim.invitee_id for claim in claims] == [anna.invitee.id, ben.invitee.id]
    # Only Ben's receipt is left.
    receipts = await rows(session, select(Receipt))
    assert [receipt.claim_id for receipt in receipts] == [claims[1].id]
    assert len(await rows(session, select(ReceiptContent))) == 1
    ben_claim = claims[1]
    assert (ben_claim.payee_name, ben_claim.iban) == ("Ben Berger", "DE89370400440532013000")

    # Her feedback still counts, unlinked and without her words.
    responses = await rows(session, select(FeedbackResponse))
    assert sorted(r.invitee_id or 0 for r in responses) == [0, ben.invitee.id]
    unlinked = next(r for r in responses if r.invitee_id is None)
    assert (unlinked.submitted_at, unlinked.updated_at) == (None, None)
    texts = await rows(session, select(FeedbackAnswer.text).where(FeedbackAnswer.text != ""))
    assert texts == ["Ben's view"]

    # Her post stays listed, without her.
    [link] = await rows(session, select(CoverageLink))
    assert (link.url, link.invitee_id, link.author_name) == (
        "https://anna.example.org/montabaur",
        None,
        "",
    )
    # Check-ins stay.
    assert len(await rows(session, select(CheckIn))) == 2

    # E-mails: the sent one is scrubbed, the queued one cancelled; Ben's untouched.
    mails = await rows(session, select(OutboxMessage).order_by(col(OutboxMessage.id)))
    hers = [m for m in mails if m.recipient == ERASED_ADDRESS]
    assert [(m.kind, m.status, m.raw, m.recipient_name) for m in hers] == [
        ("invitation", OutboxStatus.sent, "", "")
    ]
    assert hers[0].subject == invitation.subject
    # Queued now: only Ben's news that a place is free for him.
    queued = [(m.recipient, m.kind) for m in mails if m.status == OutboxStatus.queued]
    assert queued == [("ben.berger@example.com", "promotion")]
    for mail in mails:
        for trace in ("Anna", "anna.mueller", anna.token):
            assert trace not in mail.raw
            assert trace not in mail.recipient
    [bens] = [m for m in mails if m.invitee_id == ben.invitee.id]
    assert ben.token in mail_text(bens.raw)
    assert await rows(session, select(CaughtMail)) == []

    # Never written to again; recorded in the privacy log.
    [entry] = await rows(session, select(Suppression))
    assert (entry.email, entry.reason) == ("anna.mueller@example.com", "erased")
    [record] = await rows(session, select(PrivacyRecord))
    assert (record.action, record.actor, record.organizer_id) == (
        PrivacyAction.erased,
        PrivacyActor.invitee,
        None,
    )
    assert (record.contact_id, record.invitee_id) == (contact.id, anna.invitee.id)
    for part in ("contact_anonymized=1", "suppressed=1", "claims_kept=1", "claims_withdrawn=1"):
        assert part in record.summary

    # The events' numbers are what they were.
    assert await _numbers(session, settings, world) == before
    # Ben's own link works as before.
    assert (await browser.get(f"/i/{ben.token}")).status_code == 200


async def test_guest_list_shows_the_same_counts_after_erasure(
    editor: Browser, world: World
) -> None:
    guests = f"/events/{world.past.slug}/guests"
    before = (await editor.get(guests)).text
    assert "Anna Müller" in before

    await _delete(editor, world.anna.token, confirm="on")

    after = (await editor.get(guests)).text
    assert "Anna Müller" not in after
    assert "Deleted contact" in text_of(after)
    assert _stats(before) == _stats(after)
    assert _stats(after)[0] == "2"  # on the list


async def test_an_address_that_comes_back_is_not_invited_again(
    browser: Browser, world: World, session: Any
) -> None:
    await _delete(browser, world.anna.token, confirm="on", suppress="on")

    again = await factories.make_contact(session, name="Anna M.", email="anna.mueller@example.com")
    entry = await sending.suppression_of(again, session=session)
    await session.commit()
    assert entry is not None
    assert entry.reason == "erased"


async def test_without_never_write_again_the_address_is_not_kept(
    browser: Browser, world: World, session: Any
) -> None:
    response = await _delete(browser, world.anna.token, confirm="on")

    assert response.status_code == 303
    assert await rows(session, select(Suppression)) == []
    [record] = await rows(session, select(PrivacyRecord))
    assert "suppressed" not in record.summary


async def test_an_organizer_deleting_a_contact_erases_the_same_way_and_is_logged(
    editor: Browser, world: World, session: Any
) -> None:
    response = await editor.submit(f"/contacts/{world.anna.contact.id}/delete", {"confirm": "yes"})

    assert response.status_code == 303
    assert (await editor.get(f"/i/{world.anna.token}")).status_code == 404
    entries = await rows(
        session, select(Invitee).where(Invitee.contact_id == world.anna.contact.id)
    )
    assert all(entry.erased_at and not entry.link_lookup for entry in entries)
    assert all(entry.dietary_needs == "" for entry in entries)
    mails = await outbox_to(session, [entry.id for entry in entries])
    assert [mail.recipient for mail in mails] == [ERASED_ADDRESS]
    # The organizers' pages show what is left without stumbling over it.
    email_page = await editor.get(f"/events/{world.past.slug}/emails/{mails[0].id}")
    assert email_page.status_code == 200
    assert "anna.mueller" not in email_page.text
    guest_page = await editor.get(f"/events/{world.past.slug}/guests/{world.anna.invitee.id}")
    assert guest_page.status_code == 200
    assert "Deleted contact" in text_of(guest_page.text)
    assert "vegan" not in guest_page.text
    # An organizer's deletion keeps no address: that is for the person to ask.
    assert await rows(session, select(Suppression)) == []
    [record] = await rows(session, select(PrivacyRecord))
    assert (record.action, record.actor) == (PrivacyAction.erased, PrivacyActor.organizer)
    assert record.organizer_id is not None
    assert record.contact_id == world.anna.contact.id
    assert "contact_anonymized=1" in record.summary


async def test_someone_who_never_answered_is_deleted_outright_with_their_mail_scrubbed(
    editor: Browser, session: Any, settings: Any
) -> None:
    from meetups.invitations import messages
    from meetups.invitations.links import issue_link

    event = await factories.make_event(session)
    contact = await factories.make_contact(session, name="Nora Nie", email="nora@example.com")
    invitee = await factories.make_invitee(session, event, contact, status=InviteeStatus.invited)
    token = issue_link(invitee, settings.secret)
    row = messages.queue_invitation(invitee, contact, event, session=session, settings=settings)
    row.status = OutboxStatus.sent
    await session.commit()

    response = await editor.submit(f"/contacts/{contact.id}/delete", {"confirm": "yes"})

    assert response.status_code == 303
    assert response.headers["location"] == "/contacts"
    assert await fresh(session, Contact, contact.id) is None
    assert await rows(session, select(Invitee)) == []
    [mail] = await rows(session, select(OutboxMessage))
    assert (mail.recipient, mail.raw, mail.invitee_id) == (ERASED_ADDRESS, "", None)
    assert token not in mail.raw
    [record] = await rows(session, select(PrivacyRecord))
    assert "contact_deleted=1" in record.summary
    assert record.contact_id == contact.id


async def test_a_viewer_cannot_delete_a_contact(
    viewer: Browser, world: World, session: Any
) -> None:
    response = await viewer.submit(f"/contacts/{world.anna.contact.id}/delete", {"confirm": "yes"})

    assert response.status_code == 403
    assert (await fresh(session, Contact, world.anna.contact.id)).name == "Anna Müller"
    assert await rows(session, select(PrivacyRecord)) == []


async def test_a_double_click_deletes_once(browser: Browser, world: World, session: Any) -> None:
    url = f"/i/{world.anna.token}/privacy/delete"
    # The page first, as in a browser (it sets the CSRF cookie both clicks carry).
    assert (await browser.get(f"/i/{world.anna.token}/privacy")).status_code == 200
    first, second = await asyncio.gather(
        browser.submit(url, {"lang": "en", "confirm": "on", "suppress": "on"}),
        browser.submit(url, {"lang": "en", "confirm": "on", "suppress": "on"}),
    )

    assert first.status_code == 303
    # The second either waited and found the work done, or came after and found the link dead.
    if second.status_code == 303:
        assert second.headers["location"] == "/privacy/deleted?lang=en"
    else:
        assert second.status_code == 404
        assert "This link does not work" in second.text
    records = await rows(session, select(PrivacyRecord))
    assert [record.action for record in records] == [PrivacyAction.erased]
    assert len(await rows(session, select(Suppression))) == 1


async def test_an_entry_anonymized_before_its_links_were_revoked_can_still_be_cleared(
    browser: Browser, world: World, session: Any
) -> None:
    # Older versions anonymized the address book entry but left the personal links working.
    contact = await session.get(Contact, world.anna.contact.id)
    contact.name, contact.email = "Deleted contact", f"deleted-{contact.id}@invalid"
    contact.anonymized_at = contact.updated_at
    session.add(contact)
    await session.commit()

    response = await _delete(browser, world.anna.token, confirm="on", suppress="on")

    assert response.status_code == 303
    assert (await browser.get(f"/i/{world.anna.token}")).status_code == 404
    entry = await fresh(session, Invitee, world.anna.invitee.id)
    assert (entry.dietary_needs, entry.link_lookup) == ("", None)
    assert await rows(session, select(Suppression)) == []  # no real address left to keep
    [record] = await rows(session, select(PrivacyRecord))
    assert "contact_anonymized" not in record.summary
