"""`meetups demo`: two events, the valid bloggers on the upcoming one's guest list, idempotent."""

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from meetups.accounts.login import ThrottlePolicy, authenticate
from meetups.checkin.desk import attended_invitees
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.demo.seed import DEMO_EMAIL, PAST_SLUG, UPCOMING_SLUG, seed
from meetups.events.models import Event, EventStatus
from meetups.invitations.models import Invitee, InviteeStatus

VALID_BLOGGERS = 40


async def _count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return (await session.exec(select(func.count()).select_from(model).where(*where))).one()


async def test_demo_seeds_two_events_and_the_guest_list_once(settings, session) -> None:  # type: ignore[no-untyped-def]
    first = await seed(settings, session=session)
    await session.commit()
    second = await seed(settings, session=session)
    await session.commit()

    events = {e.slug: e for e in (await session.exec(select(Event))).all()}
    assert set(events) == {UPCOMING_SLUG, PAST_SLUG}
    upcoming, past = events[UPCOMING_SLUG], events[PAST_SLUG]
    assert upcoming.title == "Bloggertreffen Montabaur"
    assert upcoming.status == EventStatus.published
    assert timedelta(days=26) < upcoming.starts_at - utcnow() < timedelta(days=29)
    assert timedelta(days=13) < utcnow() - past.starts_at < timedelta(days=16)

    assert await _count(session, Contact) == VALID_BLOGGERS
    assert await _count(session, Invitee, Invitee.event_id == upcoming.id) == VALID_BLOGGERS
    assert (
        await _count(
            session,
            Invitee,
            Invitee.event_id == upcoming.id,
            Invitee.status != InviteeStatus.not_invited,
        )
        == 0
    )
    assert await _count(session, Invitee, Invitee.event_id == past.id) > 0
    assert "40 bloggers added" in "\n".join(first)
    assert "0 bloggers added" in "\n".join(second)

    password = next(line for line in second if "password:" in line).split()[1]
    policy = ThrottlePolicy(5, timedelta(minutes=15))
    organizer = await authenticate(
        DEMO_EMAIL, password, client="test", session=session, policy=policy
    )
    assert organizer.role.value == "admin"


async def test_the_past_event_has_a_believable_history_written_once(settings, session) -> None:  # type: ignore[no-untyped-def]
    from meetups.invitations.models import SentReminder
    from meetups.invitations.tracking import guest_list_counts
    from meetups.mail.models import OutboxMessage, OutboxStatus

    first = await seed(settings, session=session)
    await session.commit()
    past = (await session.exec(select(Event).where(Event.slug == PAST_SLUG))).one()
    counts = await guest_list_counts(past, session=session)
    invitation_kinds = ("invitation", "reminder_no_answer", "reminder_day_before")
    ours = (
        OutboxMessage.event_id == past.id,
        OutboxMessage.kind.in_(invitation_kinds) | OutboxMessage.kind.startswith("confirmation_"),  # type: ignore[attr-defined]
    )
    mails = await _count(session, OutboxMessage, *ours)
    reminders = await _count(session, SentReminder)
    await session.commit()

    second = await seed(settings, session=session)
    await session.commit()

    assert "with its history of invitations and answers" in first[1]
    assert "history" not in second[1]
    # Answers of every kind, plus-ones and a full house with a waitlist.
    assert counts.on_list == 38
    assert counts.not_invited == 0
    assert counts.invited == 38
    assert (counts.accepted, counts.plus_ones) == (30, 10)
    assert (counts.waitlisted, counts.declined, counts.maybe, counts.no_answer) == (3, 2, 1, 2)
    assert counts.bounced == 1
    assert past.seats_taken == counts.accepted_seats == past.capacity == 40
    assert (
        await _count(session, Invitee, Invitee.event_id == past.id, Invitee.dietary_needs != "")
        >= 5
    )
    assert (
        await _count(
            session, Invitee, Invitee.event_id == past.id, Invitee.accessibility_needs != ""
        )
        == 3
    )
    # Everything delivered but the one address that bounced.
    failed = (
        await session.exec(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.failed, *ours)
        )
    ).all()
    assert len(failed) == 1
    assert "550 5.1.1" in (failed[0].last_error or "")
    assert (
        await _count(session, OutboxMessage, OutboxMessage.status == OutboxStatus.queued, *ours)
        == 0
    )
    # 38 invitations, 36 confirmations, 30 day-before reminders, 1 reminder to answer.
    assert mails == 38 + 36 + 30 + 1
    assert reminders == 31
    # Nothing of it is written twice.
    assert await _count(session, OutboxMessage, *ours) == mails
    assert await _count(session, SentReminder) == reminders
    upcoming = (await session.exec(select(Event).where(Event.slug == UPCOMING_SLUG))).one()
    assert await _count(session, OutboxMessage, OutboxMessage.event_id == upcoming.id) == 0


async def test_the_past_event_has_travel_claims_in_every_status_once(settings, session) -> None:  # type: ignore[no-untyped-def]
    from meetups.travel.banking import clean_iban
    from meetups.travel.models import Claim, ClaimStatus, PayoutAccount, Receipt
    from meetups.travel.payout import sepa_file
    from meetups.travel.receipts import receipt_bytes, sniff

    first = await seed(settings, session=session)
    await session.commit()
    second = await seed(settings, session=session)
    await session.commit()
    assert "Travel claims: 9 added" in "\n".join(first)
    assert "Travel claims: already there." in "\n".join(second)

    past = (await session.exec(select(Event).where(Event.slug == PAST_SLUG))).one()
    claims = (await session.exec(select(Claim).where(Claim.event_id == past.id))).all()
    assert {claim.status for claim in claims} == set(ClaimStatus)
    assert len(claims) == 9
    payable = [c for c in claims if c.status in (ClaimStatus.approved, ClaimStatus.partly_approved)]
    assert len(payable) == 3
    for claim in payable:
        assert clean_iban(claim.iban) == claim.iban
    assert any(claim.over_cap for claim in claims)

    ids = [claim.id for claim in claims]
    query = select(Receipt).where(Receipt.claim_id.in_(ids))  # type: ignore[attr-defined]
    receipts = (await session.exec(query)).all()
    assert {r.content_type for r in receipts} == {"image/png", "application/pdf"}
    for receipt in receipts:
        assert sniff(await receipt_bytes(receipt, session=session)) is not None

    assert await session.get(PayoutAccount, 1) is not None
    transfer = await sepa_file(past, session=session)
    assert len(transfer.claims) == 3
    assert transfer.total_cents == sum(c.approved_cents or 0 for c in payable)


async def test_the_past_event_has_feedback_and_coverage_written_once(settings, session) -> None:  # type: ignore[no-untyped-def]
    from meetups.coverage.links import counts_by_kind
    from meetups.coverage.models import CoverageLink
    from meetups.feedback.exports import csv_chunks
    from meetups.feedback.models import FeedbackQuestion, FeedbackRequest, FeedbackResponse
    from meetups.feedback.report import event_results

    first = await seed(settings, session=session)
    await session.commit()
    second = await seed(settings, session=session)
    await session.commit()
    past = (await session.exec(select(Event).where(Event.slug == PAST_SLUG))).one()
    accepted = await _count(
        session, Invitee, Invitee.event_id == past.id, Invitee.status == InviteeStatus.accepted
    )
    # Two who accepted did not come; only those who came are asked for feedback.
    attendees = len(await attended_invitees(past, session=session))
    assert attendees == accepted - 2
    assert f"Check-in: {attendees} guests arrived" in "\n".join(first)
    assert "Check-in: already there." in "\n".join(second)
    responses = await _count(session, FeedbackResponse, FeedbackResponse.event_id == past.id)
    assert await _count(session, FeedbackQuestion, FeedbackQuestion.event_id == past.id) == 9
    assert await _count(session, FeedbackRequest) == attendees
    assert responses == attendees - 2
    assert f"a form with {responses} responses" in "\n".join(first)
    assert "Feedback: already there." in "\n".join(second)
    # The form is still open for a week, so the demo can be answered too.
    assert past.feedback_closes_at - utcnow() > timedelta(days=5)

    results = await event_results(past, session=session, settings=settings)
    assert results.rate.asked == attendees
    assert results.rate.answered == responses
    nps = next(r.nps for r in results.questions if r.nps is not None)
    # Varied, not uniform: every group is there.
    assert min(nps.promoters, nps.passives, nps.detractors) > 0
    ratings = [r.scale for r in results.questions if r.scale is not None and r.nps is None]
    assert all(len({bar.count for bar in scale.bars}) > 1 for scale in ratings)
    assert any(r.texts for r in results.questions)
    exported = b"".join([chunk async for chunk in csv_chunks(past, session=session)])
    assert exported.decode("utf-8-sig").count("\r\n") == responses + 1

    counts = await counts_by_kind(past, session=session)
    assert sum(counts.values()) == await _count(session, CoverageLink) == 4
    assert await _count(session, CoverageLink, CoverageLink.discloses_paid_travel == False) == 1  # noqa: E712
