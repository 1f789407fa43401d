"""The retention purge: old events lose their guests' personal data (by the mail worker's hook and
by `meetups purge`), their numbers stay, and contacts with nothing current left are anonymized."""

import asyncio
import os
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner, Result

from meetups.cli import app
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.events.models import Event
from meetups.feedback.models import FeedbackAnswer, FeedbackResponse
from meetups.feedback.report import event_results
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.invitations.tracking import guest_list_counts
from meetups.mail.models import OutboxMessage
from meetups.mail.scheduler import registered_hooks
from meetups.privacy.erasure import ERASED_ADDRESS
from meetups.privacy.models import PrivacyAction, PrivacyActor, PrivacyRecord
from meetups.privacy.retention import purge_expired_data, retention_cutoff
from meetups.travel.models import Claim, Receipt
from tests import factories
from tests.conftest import TEST_SECRET, Browser, text_of
from tests.privacy.helpers import PAST_SLUG, World, fresh, rows
from tests.smtp import changed


@pytest.mark.parametrize(
    ("now", "months", "cutoff"),
    [
        (datetime(2026, 5, 14, 9, 30, tzinfo=UTC), 12, datetime(2025, 5, 14, 9, 30, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2024, 3, 31, tzinfo=UTC), 1, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 25, datetime(2023, 12, 15, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 0, datetime(2026, 1, 15, tzinfo=UTC)),
    ],
)
def test_the_cutoff_counts_calendar_months(now: datetime, months: int, cutoff: datetime) -> None:
    assert retention_cutoff(now, months) == cutoff


async def _age(session: Any, event_id: int, days: int) -> None:
    """Moves an event (and its deadlines) `days` into the past."""
    event = await session.get(Event, event_id)
    shift = timedelta(days=days)
    event.starts_at -= shift
    event.ends_at -= shift
    if event.feedback_closes_at:
        event.feedback_closes_at -= shift
    session.add(event)
    await session.commit()


async def _numbers(session: Any, settings: Any, event_id: int) -> dict[str, Any]:
    session.expunge_all()
    event = await session.get(Event, event_id)
    results = await event_results(event, session=session, settings=settings)
    numbers = {
        "guest_list": asdict(await guest_list_counts(event, session=session)),
        "responses": results.responses,
        "scales": [(r.scale, r.nps) for r in results.questions if r.kind.is_scale],
        "choices": [r.choices for r in results.questions if r.kind.has_options],
        # The purge keeps free text, unlinked from the person.
        "texts": sorted(t.text for r in results.questions for t in r.texts),
    }
    await session.commit()
    return numbers


def test_the_purge_is_a_scheduler_hook() -> None:
    assert purge_expired_data in registered_hooks()


async def test_the_worker_purges_an_old_event_and_keeps_its_numbers(
    world: World, session: Any, settings: Any, deliver: Any
) -> None:
    await _age(session, world.past.id, 400)  # type: ignore[arg-type]
    before = await _numbers(session, settings, world.past.id)  # type: ignore[arg-type]
    assert "Anna's frank opinion" in before["texts"]

    await deliver(hooks=True)

    past = await fresh(session, Event, world.past.id)
    assert past.personal_data_purged_at is not None
    guests = await rows(session, select(Invitee).where(Invitee.event_id == world.past.id))
    assert len(guests) == 2
    for guest in guests:
        assert guest.erased_at is not None
        assert (guest.link_lookup, guest.dietary_needs, guest.comment) == (None, "", "")
        assert guest.status == InviteeStatus.accepted
    # Claims: amounts stay, bank details and receipts go.
    claims = await rows(session, select(Claim).where(Claim.event_id == world.past.id))
    assert sorted(claim.requested_cents for claim in claims) == [3000, 4990]
    assert {(claim.payee_name, claim.iban) for claim in claims} == {("", "")}
    claim_ids = [claim.id for claim in claims]
    assert await rows(session, select(Receipt).where(col(Receipt.claim_id).in_(claim_ids))) == []
    # Feedback: unlinked, words kept.
    responses = await rows(session, select(FeedbackResponse))
    assert {response.invitee_id for response in responses} == {None}
    assert "Ben's view" in await rows(session, select(FeedbackAnswer.text))
    # E-mails about the event are scrubbed.
    mails = await rows(
        session, select(OutboxMessage).where(OutboxMessage.event_id == world.past.id)
    )
    assert mails
    assert {(mail.recipient, mail.raw) for mail in mails} == {(ERASED_ADDRESS, "")}
    # The numbers are the same.
    assert await _numbers(session, settings, world.past.id) == before  # type: ignore[arg-type]
    # Other events and the address book are untouched: both people are on current events.
    spring = await rows(session, select(Invitee).where(Invitee.event_id == world.spring.id))
    assert [guest.erased_at for guest in spring] == [None]
    assert (await fresh(session, Contact, world.anna.contact.id)).name == "Anna Müller"
    spring_entry = await fresh(session, Invitee, world.anna.spring_invitee.id)  # type: ignore[union-attr]
    assert spring_entry.link_lookup is not None
    # One record for the event, naming nobody.
    [record] = await rows(session, select(PrivacyRecord))
    assert (record.action, record.actor, record.event_id) == (
        PrivacyAction.purged,
        PrivacyActor.retention,
        world.past.id,
    )
    assert "invitations=2" in record.summary
    assert "receipts=2" in record.summary

    # A second round finds nothing more to do.
    await deliver(hooks=True)
    assert len(await rows(session, select(PrivacyRecord))) == 1


async def test_organizers_see_that_an_event_was_purged_and_an_email_scrubbed(
    world: World, session: Any, deliver: Any, editor: Browser
) -> None:
    slug = world.past.slug
    before = await editor.get(f"/events/{slug}/guests")
    assert "personal data was deleted" not in text_of(before.text)
    await _age(session, world.past.id, 400)  # type: ignore[arg-type]

    await deliver(hooks=True)

    for tab in ("", "/guests", "/emails", "/travel", "/feedback"):
        page = await editor.get(f"/events/{slug}{tab}")
        assert page.status_code == 200, tab
        assert "The guests' personal data was deleted on" in unescape(text_of(page.text)), tab
    [mail, *_others] = await rows(
        session, select(OutboxMessage).where(OutboxMessage.event_id == world.past.id)
    )
    shown = await editor.get(f"/events/{slug}/emails/{mail.id}")
    assert shown.status_code == 200
    assert "What this e-mail said, and the address it went to, were deleted" in text_of(shown.text)
    # An event that was not purged says nothing of the kind.
    current = await editor.get(f"/events/{world.upcoming.slug}/guests")
    assert "personal data was deleted" not in text_of(current.text)


async def test_contacts_with_nothing_current_left_are_anonymized(
    session: Any, settings: Any, deliver: Any
) -> None:
    long_ago = utcnow() - timedelta(days=800)
    old = await factories.make_event(
        session,
        slug="damals",
        title="Damals",
        starts_at=long_ago,
        ends_at=long_ago + timedelta(hours=3),
    )
    recent = await factories.make_event(session, slug="neulich", title="Neulich")
    gone = await factories.make_contact(
        session, name="Olaf Alt", email="olaf@example.com", created_at=long_ago, updated_at=long_ago
    )
    edited = await factories.make_contact(
        session, name="Erika Neu", email="erika@example.com", created_at=long_ago
    )
    current = await factories.make_contact(
        session,
        name="Clara Jetzt",
        email="clara@example.com",
        created_at=long_ago,
        updated_at=long_ago,
    )
    untouched = await factories.make_contact(
        session, name="Nina Nie", email="nina@example.com", created_at=long_ago, updated_at=long_ago
    )
    for contact in (gone, edited, current):
        await factories.make_invitee(session, old, contact, status=InviteeStatus.accepted)
    await factories.make_invitee(session, recent, current)
    await session.commit()
    people = {"gone": gone, "edited": edited, "current": current, "untouched": untouched}
    ids = {key: contact.id for key, contact in people.items()}

    await deliver(hooks=True)

    names = {
        key: (await fresh(session, Contact, contact_id)).name for key, contact_id in ids.items()
    }
    assert names == {
        "gone": "Deleted contact",
        "edited": "Erika Neu",  # changed within the retention period
        "current": "Clara Jetzt",  # on an event not purged
        "untouched": "Nina Nie",  # on no guest list: the address book is not event data
    }
    # The old event keeps its guest list (and so its numbers).
    assert len(await rows(session, select(Invitee).where(Invitee.event_id == old.id))) == 3
    records = await rows(session, select(PrivacyRecord).order_by(col(PrivacyRecord.id)))
    assert [(r.action, r.actor, r.contact_id) for r in records] == [
        (PrivacyAction.purged, PrivacyActor.retention, None),
        (PrivacyAction.purged, PrivacyActor.retention, ids["gone"]),
    ]


async def test_with_retention_off_nothing_is_purged(
    world: World, session: Any, settings: Any, deliver: Any
) -> None:
    await _age(session, world.past.id, 4000)  # type: ignore[arg-type]

    await deliver(changed(settings, retention_months=0), hooks=True)

    assert (await fresh(session, Event, world.past.id)).personal_data_purged_at is None
    assert await rows(session, select(PrivacyRecord)) == []


async def test_a_longer_retention_keeps_the_event(
    world: World, session: Any, settings: Any, deliver: Any
) -> None:
    await _age(session, world.past.id, 400)  # type: ignore[arg-type]

    await deliver(changed(settings, retention_months=24), hooks=True)

    assert (await fresh(session, Event, world.past.id)).personal_data_purged_at is None


async def _cli(settings: Any, *arguments: str, **environment: str) -> Result:
    """Runs `meetups purge` as a shell would, on the test's database (in a thread: the command
    runs its own event loop)."""
    env: dict[str, str | None] = {key: None for key in os.environ if key.startswith("MEETUPS_")}
    env.update(
        {
            "MEETUPS_DATABASE_URL": settings.resolved_database_url,
            "MEETUPS_SECRET_KEY": TEST_SECRET,
            "MEETUPS_VAR_DIR": str(settings.var_dir),
            "MEETUPS_DEFAULT_LANGUAGE": "en",
            **environment,
        }
    )
    return await asyncio.to_thread(CliRunner().invoke, app, ["purge", *arguments], env=env)


async def test_purge_dry_run_prints_and_changes_nothing_then_purge_does_it(
    world: World, session: Any, settings: Any
) -> None:
    await _age(session, world.past.id, 400)  # type: ignore[arg-type]

    dry = await _cli(settings, "--dry-run")

    assert dry.exit_code == 0, dry.output
    assert "Retention: 12 months" in dry.output
    assert "Would purge 1 events:" in dry.output
    assert f"{PAST_SLUG} ('Blogger-Feedback Montabaur'" in dry.output
    assert "2 guests, 2 decided claims without bank details" in dry.output
    assert "2 receipts" in dry.output
    assert "Nothing was changed (--dry-run)." in dry.output
    assert (await fresh(session, Event, world.past.id)).personal_data_purged_at is None
    entry = await fresh(session, Invitee, world.anna.invitee.id)
    assert (entry.dietary_needs, entry.erased_at) == ("vegan", None)
    assert await rows(session, select(PrivacyRecord)) == []

    done = await _cli(settings)

    assert done.exit_code == 0, done.output
    assert "Purged 1 events:" in done.output
    assert "Nothing was changed" not in done.output
    assert (await fresh(session, Event, world.past.id)).personal_data_purged_at is not None
    assert (await fresh(session, Invitee, world.anna.invitee.id)).dietary_needs == ""

    again = await _cli(settings)
    assert "Nothing to purge." in again.output


async def test_purge_says_when_it_is_off(settings: Any) -> None:
    result = await _cli(settings, "--dry-run", MEETUPS_RETENTION_MONTHS="0")

    assert result.exit_code == 0
    assert "The retention purge is off" in result.output


async def test_purge_refuses_a_wrong_setting(settings: Any) -> None:
    result = await _cli(settings, MEETUPS_RETENTION_MONTHS="-3")

    assert result.exit_code == 2
    assert "MEETUPS_RETENTION_MONTHS" in result.output
