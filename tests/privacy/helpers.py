"""Arranging a person with data in every corner of the app (and a second person beside her), for
the privacy tests: answers, a check-in, travel claims with a receipt, named feedback, a coverage
link, e-mails sent and queued, a place at an upcoming event with someone waiting for it."""

import email
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.policy import default
from typing import Any

from sqlmodel import col, select

from meetups.checkin.models import CheckIn
from meetups.config import Settings
from meetups.contacts.models import Contact, Tag
from meetups.coverage import links
from meetups.events.models import Event, TravelCategory
from meetups.feedback.forms import Question
from meetups.invitations import messages
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.mail.models import CaughtMail, OutboxMessage, OutboxStatus
from meetups.travel.models import Claim, ClaimDecision, ClaimItem, ClaimStatus, DecisionAction
from meetups.travel.receipts import store_receipt
from meetups.travel.samples import receipt_png
from tests import factories
from tests.feedback.helpers import answer, by_kind, default_form

PAST_SLUG = "blogger-feedback"
SPRING_SLUG = "fruehjahrstreffen"
UPCOMING_SLUG = "bloggertreffen"
PNG = receipt_png()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Person:
    contact: Contact
    invitee: Invitee  # on the past event
    token: str
    spring_invitee: Invitee | None = None
    upcoming_invitee: Invitee | None = None
    paid_claim: Claim | None = None


@dataclass
class World:
    past: Event
    spring: Event
    upcoming: Event
    questions: list[Question]
    anna: Person
    ben: Person


def feedback_values(
    questions: list[Question], rating: int, nps: int, choice: int, comment: str
) -> dict[str, Any]:
    """Answers to the default form: a rating, the NPS, one choice, and a free text."""
    multiple = by_kind(questions, "multiple")
    return {
        questions[0].field_name: rating,
        by_kind(questions, "nps").field_name: nps,
        multiple.field_name: [str(multiple.options[choice].id)],
        by_kind(questions, "long_text").field_name: comment,
    }


async def _guest(
    session: Any,
    settings: Settings,
    event: Event,
    contact: Contact,
    status: InviteeStatus = InviteeStatus.accepted,
    **fields: Any,
) -> tuple[Invitee, str]:
    invitee = await factories.make_invitee(
        session,
        event,
        contact,
        status=status,
        seats=1 if status == InviteeStatus.accepted else 0,
        invited_at=now() - timedelta(days=30),
        responded_at=now() - timedelta(days=29),
        **fields,
    )
    token = issue_link(invitee, settings.secret)
    session.add(invitee)
    await session.flush()
    return invitee, token


async def _claim(
    session: Any,
    invitee: Invitee,
    *,
    status: ClaimStatus,
    payee: str,
    description: str,
    cents: int,
) -> Claim:
    moment = now() - timedelta(days=2)
    claim = Claim(
        event_id=invitee.event_id,
        invitee_id=invitee.id,  # type: ignore[arg-type]
        status=status,
        payee_name=payee,
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        requested_cents=cents,
        approved_cents=cents if status != ClaimStatus.submitted else None,
        submitted_at=moment,
        decided_at=moment if status != ClaimStatus.submitted else None,
        paid_on=moment.date() if status == ClaimStatus.paid else None,
    )
    session.add(claim)
    await session.flush()
    item = ClaimItem(
        claim_id=claim.id,  # type: ignore[arg-type]
        category=TravelCategory.train,
        spent_on=date.today() - timedelta(days=3),
        description=description,
        amount_cents=cents,
        approved_cents=cents if status != ClaimStatus.submitted else None,
    )
    session.add(item)
    await session.flush()
    await store_receipt(
        session=session,
        claim_id=claim.id,  # type: ignore[arg-type]
        item_id=item.id,  # type: ignore[arg-type]
        item_position=1,
        data=PNG,
        filename="Fahrkarte.png",
    )
    session.add(
        ClaimDecision(
            claim_id=claim.id,  # type: ignore[arg-type]
            action=DecisionAction.submitted,
            by_invitee=True,
            actor_name=payee,
            requested_cents=cents,
            reason="Bitte an meine Adresse in Köln",
        )
    )
    if status == ClaimStatus.paid:
        session.add(
            ClaimDecision(
                claim_id=claim.id,  # type: ignore[arg-type]
                action=DecisionAction.paid,
                actor_name="Olga Organizer",
                requested_cents=cents,
                approved_cents=cents,
                reason="Receipt checked",
                paid_on=moment.date(),
            )
        )
    await session.flush()
    return claim


async def _sent(session: Any, row: OutboxMessage) -> OutboxMessage:
    row.status = OutboxStatus.sent
    row.sent_at = now()
    session.add(row)
    await session.flush()
    return row


async def arrange_world(session: Any, settings: Settings) -> World:
    """Anna and Ben with data everywhere; committed."""
    ended = now() - timedelta(days=1)
    past = await factories.make_event(
        session,
        slug=PAST_SLUG,
        title="Blogger-Feedback Montabaur",
        starts_at=ended - timedelta(hours=4),
        ends_at=ended,
        travel_enabled=True,
        feedback_enabled=True,
        feedback_closes_at=ended + timedelta(days=14),
        plus_ones_allowed=True,
        language="en",
    )
    spring = await factories.make_event(
        session,
        slug=SPRING_SLUG,
        title="Frühjahrstreffen",
        starts_at=ended - timedelta(days=60),
        ends_at=ended - timedelta(days=60) + timedelta(hours=3),
        travel_enabled=True,
        language="en",
    )
    upcoming = await factories.make_event(
        session,
        slug=UPCOMING_SLUG,
        title="Bloggertreffen Herbst",
        capacity=1,
        seats_taken=1,
        language="en",
    )
    questions = await default_form(session, past)

    anna_contact = await factories.make_contact(
        session,
        name="Anna Müller",
        email="anna.mueller@example.com",
        language="en",
        city="Köln",
        blog_url="https://anna.example.org",
        notes="Writes about telecoms; prefers trains.",
        tags=[Tag(name="tech")],
    )
    ben_contact = await factories.make_contact(
        session, name="Ben Berger", email="ben.berger@example.com", language="en"
    )

    anna_invitee, anna_token = await _guest(
        session,
        settings,
        past,
        anna_contact,
        plus_one_name="Carla Müller",
        dietary_needs="vegan",
        accessibility_needs="step-free access",
        travelling_from="Köln",
        needs_hotel=True,
        comment="Looking forward to it!",
    )
    ben_invitee, ben_token = await _guest(
        session, settings, past, ben_contact, dietary_needs="no nuts", comment="Ben's comment"
    )
    session.add(CheckIn(invitee_id=anna_invitee.id, event_id=past.id, plus_one_arrived=True))  # type: ignore[arg-type]
    session.add(CheckIn(invitee_id=ben_invitee.id, event_id=past.id))  # type: ignore[arg-type]
    paid = await _claim(
        session,
        anna_invitee,
        status=ClaimStatus.paid,
        payee="Anna Müller",
        description="ICE Köln – Montabaur",
        cents=4990,
    )
    await _claim(
        session,
        ben_invitee,
        status=ClaimStatus.approved,
        payee="Ben Berger",
        description="Ben's train",
        cents=3000,
    )
    await answer(
        session,
        settings,
        past,
        anna_invitee,
        feedback_values(questions, 5, 9, 0, "Anna's frank opinion"),
    )
    await answer(
        session, settings, past, ben_invitee, feedback_values(questions, 3, 7, 1, "Ben's view")
    )
    await links.add_link(
        past,
        links.parse_coverage(
            {
                "url": "https://anna.example.org/montabaur",
                "title": "Zu Besuch in Montabaur",
                "site": "",
                "kind": "blog_post",
                "published_on": "",
                "discloses_paid_travel": "yes",
            },
            by_organizer=False,
        ),
        session=session,
        invitee=anna_invitee,
    )
    await _sent(
        session,
        messages.queue_invitation(
            anna_invitee, anna_contact, past, session=session, settings=settings
        ),
    )
    await _sent(
        session,
        messages.queue_invitation(
            ben_invitee, ben_contact, past, session=session, settings=settings
        ),
    )

    spring_invitee, _spring_token = await _guest(session, settings, spring, anna_contact)
    await _claim(
        session,
        spring_invitee,
        status=ClaimStatus.submitted,
        payee="Anna Müller",
        description="Bus to Montabaur",
        cents=1200,
    )

    upcoming_invitee, _upcoming_token = await _guest(session, settings, upcoming, anna_contact)
    ben_waiting, _ben_waiting_token = await _guest(
        session,
        settings,
        upcoming,
        ben_contact,
        status=InviteeStatus.waitlisted,
        waitlisted_at=now() - timedelta(days=1),
    )
    # A reminder to Anna still waiting in the outbox.
    messages.queue_invitation(
        upcoming_invitee, anna_contact, upcoming, session=session, settings=settings
    )
    session.add(
        CaughtMail(
            mail_from="meetups@localhost",
            recipients="anna.mueller@example.com",
            subject="Invitation",
            raw=f"To: anna.mueller@example.com\n\nhttp://testserver/i/{anna_token}\n",
        )
    )
    await session.commit()
    anna = Person(
        anna_contact,
        anna_invitee,
        anna_token,
        spring_invitee=spring_invitee,
        upcoming_invitee=upcoming_invitee,
        paid_claim=paid,
    )
    ben = Person(ben_contact, ben_invitee, ben_token, upcoming_invitee=ben_waiting)
    return World(past, spring, upcoming, questions, anna, ben)


async def rows(session: Any, statement: Any) -> list[Any]:
    """What the database holds now; the session then lets the app write again."""
    session.expunge_all()
    found = list((await session.exec(statement)).all())
    await session.commit()
    return found


async def fresh(session: Any, model: type, row_id: Any) -> Any:
    session.expunge_all()
    row = await session.get(model, row_id)
    await session.commit()
    return row


async def outbox_to(session: Any, invitee_ids: list[int]) -> list[OutboxMessage]:
    return await rows(
        session,
        select(OutboxMessage)
        .where(col(OutboxMessage.invitee_id).in_(invitee_ids))
        .order_by(col(OutboxMessage.id)),
    )


def mail_text(raw: str) -> str:
    message = email.message_from_string(raw, policy=default)
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return part.get_content() if part is not None else ""
