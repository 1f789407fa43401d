"""Scratch data for the benchmarks, made by the app's own domain functions where the app has one
(an organizer, a published event, guests imported from a CSV file, invitations with personal
links, the default feedback form), and bulk inserts where only volume matters (100,000 feedback
responses)."""

import csv
import io
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, func, select

from meetups.accounts.models import Organizer
from meetups.accounts.organizers import add_organizer
from meetups.config import Settings
from meetups.contacts.csv_import import MAX_ROWS, apply_import
from meetups.contacts.models import Contact, search_key_for
from meetups.db import Database, create_engine
from meetups.events.form import EventFields
from meetups.events.manage import create_event, publish_event
from meetups.events.models import ALL_TRAVEL_CATEGORIES, Event
from meetups.feedback.forms import questions_of, use_default_form
from meetups.feedback.models import (
    FeedbackAnswer,
    FeedbackResponse,
    QuestionKind,
    new_response_id,
)
from meetups.i18n import use_locale
from meetups.invitations.links import token_of
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.invitations.sending import send_invitations

ORGANIZER_EMAIL = "bench@example.com"
ORGANIZER_PASSWORD = "bench-" + secrets.token_urlsafe(12)
FIRST_NAMES = ("Anna", "Jonas", "Özlem", "Lukas", "Marie", "Paul", "Zoë", "Felix", "Lea", "Jan")
LAST_NAMES = ("Müller", "Schmidt", "Yılmaz", "Weber", "Fischer", "Wagner", "Becker", "Hoffmann")
IMPROVEMENTS = (
    "More time for questions to the product team.",
    "Send the travel information earlier, please, with parking.",
    "=Smaller groups on the tour",  # a spreadsheet would take this for a formula
    "The Wi-Fi in the hall was very slow.",
    "All good – keep it up!",
    "",
)
TOPICS = ("Fibre roll-out", "Privacy", "Customer service", "Family plans", "5G", "")


def bench_settings(url: str, var_dir: Path, secret: str, base_url: str) -> Settings:
    """The settings the bench's own code uses for a scratch database (the servers get the same
    values through MEETUPS_* variables)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        var_dir=var_dir,
        database_url=url,
        secret_key=secret,
        base_url=base_url,
        default_language="en",
    )


@dataclass
class Seeded:
    event: Event
    tokens: list[str]  # the guests' personal-link tokens, in the order they were added


def _person(number: int) -> tuple[str, str, str]:
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    last = LAST_NAMES[(number // len(FIRST_NAMES)) % len(LAST_NAMES)]
    language = "de" if number % 3 else "en"
    return f"{first} {last} {number}", f"guest{number:06d}@bench.example.org", language


def guest_csv(first: int, count: int) -> bytes:
    """A guest list as organizers upload it: name, e-mail, language."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "email", "language"])
    for number in range(first, first + count):
        writer.writerow(_person(number))
    return buffer.getvalue().encode("utf-8")


async def ensure_organizer(database: Database) -> Organizer:
    async with database.session(write=True) as session:
        found = (
            await session.exec(select(Organizer).where(Organizer.email == ORGANIZER_EMAIL))
        ).first()
        if found is not None:
            return found
        organizer = await add_organizer(
            session=session,
            name="Bench Organizer",
            email=ORGANIZER_EMAIL,
            password=ORGANIZER_PASSWORD,
            role="admin",
        )
        await session.commit()
        return organizer


def _fields(title: str, capacity: int | None, starts_in: timedelta) -> EventFields:
    starts_at = datetime.now(UTC).replace(microsecond=0, second=0) + starts_in
    return EventFields(
        title=title,
        description="An afternoon at our headquarters: **talks**, a tour and dinner.",
        venue="Firmenzentrale",
        address="Elgendorfer Straße 57, 56410 Montabaur",
        timezone="Europe/Berlin",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=4),
        capacity=capacity,
        plus_ones_allowed=False,
        rsvp_deadline=None,
        language="en",
        contact_name="Bench Organizer",
        contact_email=ORGANIZER_EMAIL,
        travel_enabled=True,
        travel_currency="EUR",
        travel_cap_cents=20000,
        travel_mileage_rate_cents=30,
        travel_categories=ALL_TRAVEL_CATEGORIES,
        travel_claim_deadline=starts_at + timedelta(days=30),
        feedback_enabled=True,
        feedback_anonymous=False,
        feedback_closes_at=starts_at + timedelta(days=14),
    )


async def add_event(
    database: Database,
    settings: Settings,
    *,
    title: str,
    guests: int,
    capacity: int | None = None,
    invite: bool = False,
    first_guest: int = 0,
) -> Seeded:
    """A published event with `guests` people imported onto its guest list (and invited, with
    their invitations queued, when `invite`)."""
    organizer = await ensure_organizer(database)
    with use_locale("en"):
        async with database.session(write=True) as session:
            event = await create_event(
                _fields(title, capacity, timedelta(days=28)), organizer=organizer, session=session
            )
            await publish_event(event, session=session)
            await session.commit()
        for start in range(first_guest, first_guest + guests, MAX_ROWS):
            count = min(MAX_ROWS, first_guest + guests - start)
            async with database.session(write=True) as session:
                await apply_import(
                    guest_csv(start, count),
                    session=session,
                    default_language="en",
                    event=event,
                )
                await session.commit()
        if invite:
            async with database.session(write=True) as session:
                await send_invitations(event, session=session, settings=settings)
                await session.commit()
    return Seeded(event, await personal_tokens(database, event, settings) if invite else [])


async def personal_tokens(database: Database, event: Event, settings: Settings) -> list[str]:
    async with database.session() as session:
        invitees = (
            await session.exec(
                select(Invitee).where(Invitee.event_id == event.id).order_by(col(Invitee.id))
            )
        ).all()
    return [token for invitee in invitees if (token := token_of(invitee, settings.secret))]


# Feedback in bulk.


def _answers_for(
    response_id: str, questions: list[Any], draw: random.Random
) -> Iterator[dict[str, Any]]:
    mood = draw.randint(0, 2)
    for question in questions:
        base = {"response_id": response_id, "question_id": question.id, "seq": 0}
        blank = {"number": None, "option_id": None, "text": ""}
        kind = question.kind
        if kind == QuestionKind.rating:
            yield {**base, **blank, "number": draw.randint(2 + mood, min(5, 3 + mood))}
        elif kind == QuestionKind.nps:
            yield {**base, **blank, "number": draw.randint(3 * mood + 2, min(10, 4 * mood + 5))}
        elif kind == QuestionKind.single:
            yield {**base, **blank, "option_id": draw.choice(question.options).id}
        elif kind == QuestionKind.multiple:
            chosen = draw.sample(question.options, k=draw.randint(1, 3))
            for seq, option in enumerate(chosen):
                yield {**base, **blank, "seq": seq, "option_id": option.id}
        elif text := draw.choice(TOPICS if kind == QuestionKind.short_text else IMPROVEMENTS):
            yield {**base, **blank, "text": text}


async def add_feedback_event(
    database: Database, settings: Settings, *, title: str, responses: int, first_guest: int
) -> Event:
    """An event with the default feedback form and `responses` named responses (one per guest,
    each with answers to most questions), written in bulk."""
    organizer = await ensure_organizer(database)
    with use_locale("en"):
        async with database.session(write=True) as session:
            event = await create_event(
                _fields(title, None, timedelta(days=2)), organizer=organizer, session=session
            )
            await publish_event(event, session=session)
            await use_default_form(event, "en", session=session)
            await session.commit()
        async with database.session() as session:
            questions = await questions_of(event, session=session)
    draw = random.Random(responses)  # noqa: S311 - made-up answers, the same every run
    answered_from = datetime.now(UTC) - timedelta(days=10)
    chunk = 5000
    for start in range(first_guest, first_guest + responses, chunk):
        numbers = range(start, min(start + chunk, first_guest + responses))
        async with database.session(write=True) as session:
            people = [_person(number) for number in numbers]
            now = datetime.now(UTC)
            connection = await session.connection()
            await connection.execute(
                insert(Contact),
                [
                    {
                        "name": name,
                        "email": email,
                        "language": language,
                        "search_key": search_key_for(name, email, None),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for name, email, language in people
                ],
            )
            contact_ids = (
                await session.exec(
                    select(Contact.id).where(
                        col(Contact.email).in_([email for _name, email, _lang in people])
                    )
                )
            ).all()
            await connection.execute(
                insert(Invitee),
                [
                    {
                        "event_id": event.id,
                        "contact_id": contact_id,
                        "status": InviteeStatus.accepted,
                        "added_at": now,
                        "seats": 1,
                        "plus_one_name": "",
                        "dietary_needs": "",
                        "accessibility_needs": "",
                        "travelling_from": "",
                        "needs_hotel": False,
                        "comment": "",
                    }
                    for contact_id in contact_ids
                ],
            )
            invitee_ids = (
                await session.exec(
                    select(Invitee.id).where(
                        Invitee.event_id == event.id, col(Invitee.contact_id).in_(contact_ids)
                    )
                )
            ).all()
            response_rows, answer_rows = [], []
            for invitee_id in invitee_ids:
                response_id = new_response_id()
                submitted = answered_from + timedelta(seconds=draw.randint(0, 9 * 86400))
                response_rows.append(
                    {
                        "id": response_id,
                        "event_id": event.id,
                        "anonymous": False,
                        "invitee_id": invitee_id,
                        "submitted_at": submitted,
                        "updated_at": submitted,
                        "edit_key_hash": None,
                    }
                )
                answer_rows.extend(_answers_for(response_id, questions, draw))
            await connection.execute(insert(FeedbackResponse), response_rows)
            await connection.execute(insert(FeedbackAnswer), answer_rows)
            await session.commit()
    return event


async def count_rows(database: Database, model: Any, *conditions: Any) -> int:
    async with database.session() as session:
        query = select(func.count()).select_from(model)
        for condition in conditions:
            query = query.where(condition)
        return int((await session.exec(query)).one())


def open_database(url: str) -> Database:
    return Database(create_engine(url))
