"""A world to attack: the demo's two events (the past one full of answers, claims with receipts,
feedback, coverage, e-mails), two attendees of the past event with everything that is theirs,
an administrator's browser and API token, and the app's routes read from the app itself, so that
a route added tomorrow is walked by these tests without anyone listing it."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlmodel import SQLModel, col, select

from meetups.accounts import tokens
from meetups.accounts.models import Organizer
from meetups.checkin.codes import checkin_code
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.coverage.models import CoverageKind, CoverageLink
from meetups.db import Database
from meetups.demo.seed import PAST_SLUG, UPCOMING_SLUG, seed
from meetups.events.models import Event
from meetups.feedback.models import FeedbackQuestion
from meetups.invitations.links import token_of
from meetups.invitations.models import Invitee
from meetups.invitations.unsubscribe import unsubscribe_token
from meetups.mail.models import OutboxMessage
from meetups.travel.models import Claim, ClaimItem, Receipt

_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


@dataclass(frozen=True)
class Route:
    path: str
    methods: frozenset[str]

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    def url(self, values: dict[str, Any]) -> str:
        # A name may mean something else under another first segment: {token} of
        # /unsubscribe/ is no personal link; "token@unsubscribe" holds its value.
        section = self.path.strip("/").split("/")[0]

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            for key in (f"{name}@{section}", name):
                if key in values:
                    return str(values[key])
            raise KeyError(
                f"{self.path}: no value for {{{name}}}; teach tests/security/conftest.py "
                "what this parameter names"
            )

        return _PARAM.sub(fill, self.path)


def app_routes(app: FastAPI) -> list[Route]:
    """Every HTTP route the app answers (mounts such as /static left out)."""
    routes = []
    for context in iter_route_contexts(app.routes):
        path = getattr(context, "path", None)
        methods = getattr(context, "methods", None)
        if path and methods:
            routes.append(Route(path, frozenset(methods) - {"HEAD"}))
    return routes


@dataclass(frozen=True)
class Owner:
    """An attendee of the past event and what belongs to them."""

    invitee_id: int
    contact_id: int
    token: str
    name: str
    email: str
    claim_id: int
    item_id: int
    receipt_id: int
    link_id: int
    message_id: int
    checkin_code: str
    iban: str
    unsubscribe: str

    def values(self) -> dict[str, Any]:
        """Path parameters naming this owner's things."""
        return {
            "token": self.token,
            "invitee_id": self.invitee_id,
            "guest_id": self.invitee_id,
            "claim_id": self.claim_id,
            "item_id": self.item_id,
            "receipt_id": self.receipt_id,
            "link_id": self.link_id,
            "message_id": self.message_id,
        }


@dataclass(frozen=True)
class World:
    admin: Organizer
    upcoming: Event
    past: Event
    a: Owner
    b: Owner
    question_id: int
    upcoming_invitee_id: int
    api_token: str

    def values(self, owner: Owner, slug: str | None = None) -> dict[str, Any]:
        """Every path parameter any route takes, naming `owner`'s things in the past event
        (or the event `slug`)."""
        return {
            "slug": slug or self.past.slug,
            **owner.values(),
            "question_id": self.question_id,
            "contact_id": owner.contact_id,
            "code": owner.checkin_code,
            "organizer_id": self.admin.id,
            "mail_id": 1,
            "index": 0,
            "extension": "csv",
            "rest": "nothing-here",
            "token@unsubscribe": owner.unsubscribe,
            "token@feeds": "no-such-feed",
        }


async def _owner(
    session: Any, settings: Settings, invitee: Invitee, event: Event, claim: Claim
) -> Owner:
    contact = await session.get(Contact, invitee.contact_id)
    item = (
        await session.exec(
            select(ClaimItem).where(ClaimItem.claim_id == claim.id).order_by(col(ClaimItem.id))
        )
    ).first()
    receipt = (await session.exec(select(Receipt).where(Receipt.claim_id == claim.id))).first()
    link = CoverageLink(
        event_id=event.id,  # type: ignore[arg-type]
        url=f"https://blog.example/{contact.id}/montabaur",
        title=f"Mein Besuch in Montabaur ({contact.name})",
        kind=next(iter(CoverageKind)),
        invitee_id=invitee.id,
    )
    session.add(link)
    await session.flush()
    message = (
        await session.exec(
            select(OutboxMessage.id).where(OutboxMessage.invitee_id == invitee.id).limit(1)
        )
    ).one()
    token = token_of(invitee, settings.secret)
    assert token is not None
    assert item is not None
    assert receipt is not None
    return Owner(
        invitee_id=invitee.id,  # type: ignore[arg-type]
        contact_id=contact.id,
        token=token,
        name=contact.name,
        email=contact.email,
        claim_id=claim.id,  # type: ignore[arg-type]
        item_id=item.id,  # type: ignore[arg-type]
        receipt_id=receipt.id,  # type: ignore[arg-type]
        link_id=link.id,  # type: ignore[arg-type]
        message_id=message,
        checkin_code=checkin_code(event.id, invitee.id, settings.secret),  # type: ignore[arg-type]
        iban=claim.iban,
        unsubscribe=unsubscribe_token(contact, settings.secret),
    )


@pytest.fixture
async def world(session: Any, settings: Settings, admin: Organizer) -> World:
    await seed(settings, session=session)
    await session.commit()
    events = {event.slug: event for event in (await session.exec(select(Event))).all()}
    upcoming, past = events[UPCOMING_SLUG], events[PAST_SLUG]
    # Two attendees whose claims have receipts and an IBAN.
    rows = (
        await session.exec(
            select(Claim, Invitee)
            .join(Invitee, col(Invitee.id) == col(Claim.invitee_id))
            .join(Receipt, col(Receipt.claim_id) == col(Claim.id))
            .where(Claim.event_id == past.id, col(Claim.iban) != "")
            .order_by(col(Claim.id))
        )
    ).all()
    claimants: dict[int, tuple[Claim, Invitee]] = {}
    for claim, invitee in rows:
        claimants.setdefault(invitee.id, (claim, invitee))  # type: ignore[arg-type]
    (claim_a, invitee_a), (claim_b, invitee_b) = list(claimants.values())[:2]
    a = await _owner(session, settings, invitee_a, past, claim_a)
    b = await _owner(session, settings, invitee_b, past, claim_b)
    question_id = (
        await session.exec(
            select(FeedbackQuestion.id).where(FeedbackQuestion.event_id == past.id).limit(1)
        )
    ).one()
    upcoming_invitee_id = (
        await session.exec(select(Invitee.id).where(Invitee.event_id == upcoming.id).limit(1))
    ).one()
    created = await tokens.create_token(admin, "security tests", session=session)
    await session.commit()
    return World(
        admin=admin,
        upcoming=upcoming,
        past=past,
        a=a,
        b=b,
        question_id=question_id,
        upcoming_invitee_id=upcoming_invitee_id,
        api_token=created.secret,
    )


# What never changes when a request is refused; throttling counts and sign-ins may.
CHANGING_TABLES = {"login_failure", "login_session", "organizer", "api_token", "alembic_version"}


async def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the ones a refused request may touch), for comparing."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with database.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in CHANGING_TABLES:
                continue
            result = await connection.execute(select(table).order_by(*table.primary_key.columns))  # type: ignore[call-overload]
            tables[table.name] = [tuple(row) for row in result.all()]
    return tables


def changed_tables(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> Iterator[str]:
    for name, rows in before.items():
        if after.get(name) != rows:
            yield name
