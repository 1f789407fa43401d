"""The demo's past event, as it went: invitations sent (and one bounced), answers of every kind
with plus-ones and notes, a waitlist when the places ran out, reminders and confirmations, all
delivered. Written once; a database that has this history already is left as it is."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.events.models import Event
from meetups.invitations import messages
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, InviteeStatus, SentReminder
from meetups.mail.models import OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class Answer:
    status: InviteeStatus
    plus_one: str = ""
    dietary: str = ""
    accessibility: str = ""
    travelling_from: str = ""
    hotel: bool = False
    comment: str = ""


A, W, D, M = (
    InviteeStatus.accepted,
    InviteeStatus.waitlisted,
    InviteeStatus.declined,
    InviteeStatus.maybe,
)
# In the order of the guest list. 30 accept, ten of them with a plus-one: the 40 places are
# full, so the next three wait; two decline, one says maybe, one never answers, and the last
# address bounces.
ANSWERS = (
    Answer(A, plus_one="Jana Müller", dietary="vegetarisch", travelling_from="Berlin", hotel=True),
    Answer(A, dietary="vegan", travelling_from="Hamburg", hotel=True),
    Answer(
        A, accessibility="Rollstuhl – bitte einen ebenerdigen Zugang", travelling_from="München"
    ),
    Answer(A, plus_one="Tim Fischer", travelling_from="Köln", comment="Wir kommen mit dem Zug."),
    Answer(A, dietary="glutenfrei", travelling_from="Frankfurt am Main"),
    Answer(A, travelling_from="Koblenz"),
    Answer(A, plus_one="Sam Weber", dietary="keine Nüsse (Allergie)", travelling_from="Bonn"),
    Answer(A, travelling_from="Limburg"),
    Answer(A, accessibility="Induktionsschleife wäre hilfreich", travelling_from="Mainz"),
    Answer(A, plus_one="Alex Wagner", travelling_from="Stuttgart", hotel=True),
    Answer(A, dietary="laktosefrei", travelling_from="Wiesbaden"),
    Answer(A, travelling_from="Siegen"),
    Answer(A, dietary="halal", travelling_from="Düsseldorf", hotel=True),
    Answer(A, travelling_from="Montabaur", comment="Ich wohne um die Ecke."),
    Answer(A, travelling_from="Gießen"),
    Answer(A, dietary="vegetarisch", travelling_from="Trier", hotel=True),
    Answer(A, plus_one="Lina Schmidt", travelling_from="Bochum", hotel=True),
    Answer(A, plus_one="Nora Bach", travelling_from="Bad Ems"),
    Answer(A, dietary="pescetarisch", travelling_from="Darmstadt"),
    Answer(A, plus_one="Ole Berg", travelling_from="Bremen", hotel=True),
    Answer(A, travelling_from="Neuwied", comment="Ich bringe eine Kamera mit, falls erlaubt."),
    Answer(A, plus_one="Mia Roth", dietary="vegan", travelling_from="Heidelberg"),
    Answer(A, travelling_from="Aachen", hotel=True),
    Answer(A, accessibility="Sitzplatz nahe am Ausgang, bitte", travelling_from="Marburg"),
    Answer(A, plus_one="Jonas Klein", travelling_from="Hannover", hotel=True),
    Answer(A, travelling_from="Westerburg"),
    Answer(A, dietary="vegetarisch", travelling_from="Karlsruhe"),
    Answer(A, plus_one="Eva Lang", travelling_from="Würzburg", hotel=True),
    Answer(A, travelling_from="Diez"),
    Answer(A, travelling_from="Nürnberg", hotel=True, comment="Anreise am Vorabend."),
    Answer(W, travelling_from="Leipzig", comment="Gern auf die Warteliste."),
    Answer(W, plus_one="Kim Hoffmann", travelling_from="Dresden"),
    Answer(W, travelling_from="Kassel"),
    Answer(D, comment="Leider schon verplant – viel Erfolg!"),
    Answer(D),
    Answer(M, comment="Hängt von einem Kundentermin ab."),
)
ACCEPTED = sum(answer.status == InviteeStatus.accepted for answer in ANSWERS)
NO_ANSWER_INDEX = len(ANSWERS)  # invited, opened the link, reminded, never answered
BOUNCED_INDEX = len(ANSWERS) + 1
BOUNCE_REASON = "550 5.1.1 <{email}>: Recipient address rejected: User unknown in virtual mailbox"


async def has_history(event: Event, *, session: AsyncSession) -> bool:
    invited = select(func.count()).where(
        Invitee.event_id == event.id, Invitee.status != InviteeStatus.not_invited
    )
    mails = (
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.event_id == event.id)
    )
    return bool((await session.exec(invited)).one() or (await session.exec(mails)).one())


def _delivered(message: OutboxMessage, when: datetime) -> None:
    """As the worker leaves a message the server accepted."""
    message.created_at = message.next_attempt_at = when - timedelta(seconds=5)
    message.status = OutboxStatus.sent
    message.attempts = 1
    message.sent_at = when


async def add_past_history(event: Event, settings: Settings, *, session: AsyncSession) -> bool:
    """Writes the past event's history unless it has one; True when it was written now."""
    if await has_history(event, session=session):
        return False
    query = (
        select(Invitee, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Invitee.event_id == event.id, col(Contact.anonymized_at).is_(None))
        .order_by(col(Invitee.id))
    )
    guests = list((await session.exec(query)).all())
    if len(guests) <= BOUNCED_INDEX:
        return False  # a demo file with too few bloggers: the past event keeps its bare list
    start = event.starts_at
    sent_at = start - timedelta(days=30)
    deadline = event.rsvp_deadline or start - timedelta(days=7)
    seats = 0
    outbox: list[tuple[OutboxMessage, datetime]] = []

    for index, (invitee, contact) in enumerate(guests[: BOUNCED_INDEX + 1]):
        issue_link(invitee, settings.secret)
        invitee.status = InviteeStatus.invited
        invitee.invited_at = sent_at + timedelta(minutes=index // 10)
        invitation = messages.queue_invitation(
            invitee, contact, event, session=session, settings=settings
        )
        outbox.append((invitation, invitee.invited_at + timedelta(seconds=20 + index)))
        if index == BOUNCED_INDEX:
            invitation.status = OutboxStatus.failed
            invitation.attempts = 1
            invitation.last_error = BOUNCE_REASON.format(email=contact.email)
            outbox.pop()
            invitation.created_at = invitation.next_attempt_at = invitee.invited_at
            continue
        invitee.opened_at = invitee.invited_at + timedelta(hours=3 + 5 * index)
        if index == NO_ANSWER_INDEX:
            reminded = deadline - timedelta(days=event.reminder_days_before_deadline or 3)
            reminder = messages.queue_reminder(
                invitee, contact, event, "no_answer", session=session, settings=settings
            )
            session.add(SentReminder(invitee_id=invitee.id, kind="no_answer", sent_at=reminded))  # type: ignore[arg-type]
            outbox.append((reminder, reminded))
            continue
        answer = ANSWERS[index]
        invitee.status = answer.status
        invitee.responded_at = invitee.opened_at + timedelta(minutes=7)
        invitee.plus_one_name = answer.plus_one
        invitee.dietary_needs = answer.dietary
        invitee.accessibility_needs = answer.accessibility
        invitee.travelling_from = answer.travelling_from
        invitee.needs_hotel = answer.hotel
        invitee.comment = answer.comment
        position = None
        if answer.status == InviteeStatus.accepted:
            invitee.seats = 2 if answer.plus_one and event.plus_ones_allowed else 1
            seats += invitee.seats
        if answer.status == InviteeStatus.waitlisted:
            invitee.waitlisted_at = invitee.responded_at
            position = index - ACCEPTED + 1
        confirmation = messages.queue_answer_confirmation(
            invitee, contact, event, session=session, settings=settings, position=position
        )
        outbox.append((confirmation, invitee.responded_at + timedelta(seconds=30)))
        if answer.status == InviteeStatus.accepted:
            reminded = start - timedelta(hours=24)
            reminder = messages.queue_reminder(
                invitee, contact, event, "day_before", session=session, settings=settings
            )
            session.add(SentReminder(invitee_id=invitee.id, kind="day_before", sent_at=reminded))  # type: ignore[arg-type]
            outbox.append((reminder, reminded + timedelta(seconds=index)))
        session.add(invitee)

    for message, when in outbox:
        _delivered(message, when)
    event.seats_taken = seats
    session.add(event)
    await session.flush()
    return True
