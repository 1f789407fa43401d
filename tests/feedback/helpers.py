"""Arranging events with feedback forms, attendees with personal links, and responses, for the
tests of the feedback and coverage areas."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from meetups.config import Settings
from meetups.contacts.models import fold
from meetups.db import utcnow
from meetups.events.models import Event
from meetups.feedback import forms
from meetups.feedback.answers import submit_feedback
from meetups.feedback.forms import Question
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, InviteeStatus
from tests import factories

SLUG = "blogger-feedback-montabaur"


async def past_event(session: Any, *, anonymous: bool = False, **fields: Any) -> Event:
    """An event that ended yesterday afternoon; its form is open for two more weeks."""
    ends_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=20)
    values: dict[str, Any] = {
        "slug": SLUG,
        "title": "Blogger-Feedback Montabaur",
        "starts_at": ends_at - timedelta(hours=4),
        "ends_at": ends_at,
        "feedback_enabled": True,
        "feedback_anonymous": anonymous,
        "feedback_closes_at": ends_at + timedelta(days=14),
        "language": "en",
        **fields,
    }
    return await factories.make_event(session, **values)


async def attendee(
    session: Any,
    settings: Settings,
    event: Event,
    name: str,
    *,
    language: str = "en",
    status: InviteeStatus = InviteeStatus.accepted,
    email: str | None = None,
) -> tuple[Invitee, str]:
    """A guest who accepted (so counts as attending) with a personal link, and the link's token."""
    address = email or re.sub(r"[^a-z0-9]+", ".", fold(name)).strip(".") + "@example.org"
    contact = await factories.make_contact(session, name=name, email=address, language=language)
    invitee = await factories.make_invitee(
        session, event, contact, status=status, invited_at=utcnow() - timedelta(days=20)
    )
    token = issue_link(invitee, settings.secret)
    session.add(invitee)
    await session.flush()
    return invitee, token


async def default_form(session: Any, event: Event, language: str = "en") -> list[Question]:
    await forms.use_default_form(event, language, session=session)
    await session.flush()
    return await forms.questions_of(event, session=session)


def by_kind(questions: list[Question], kind: str, index: int = 0) -> Question:
    return [q for q in questions if q.kind.value == kind][index]


async def answer(
    session: Any, settings: Settings, event: Event, invitee: Invitee, values: dict[str, Any]
) -> Any:
    """Submits answers given as {question field name: value or list of values}."""
    data = {
        key: value if isinstance(value, list) else [str(value)] for key, value in values.items()
    }
    return await submit_feedback(event, invitee, data, session=session, settings=settings)


async def rows(session: Any, statement: Any) -> list[Any]:
    """What the database holds now; the session then lets the app write again."""
    session.expunge_all()
    found = list((await session.exec(statement)).all())
    await session.commit()
    return found


async def all_of(session: Any, model: type) -> list[Any]:
    return await rows(session, select(model))
