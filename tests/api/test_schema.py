"""The API against its own OpenAPI schema, with Schemathesis: for every operation, generated
requests (valid ones and invalid ones) never get a server error, and every answer has a status,
a content type and a body that the schema declares. Runs with an organizer's token against the
demo data on a real database (SQLite, and PostgreSQL when configured)."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import get_client
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.pool import NullPool
from sqlmodel import col, select

from meetups.accounts import tokens
from meetups.config import Settings
from meetups.db import Database, create_engine
from meetups.demo.seed import seed
from meetups.events.models import Event
from meetups.invitations.models import Invitee
from meetups.travel.models import Claim
from meetups.web import create_app
from tests import factories

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 50


@dataclass
class Seeded:
    app: Any
    token: str
    # Each event's slug with the ids of its guests and of its claims.
    events: list[tuple[str, list[int], list[int]]]


async def _seed(settings: Settings) -> tuple[str, list[tuple[str, list[int], list[int]]]]:
    database = Database(create_engine(settings.resolved_database_url))
    try:
        async with database.session(write=True) as session:
            await seed(settings, session=session)
            organizer = await factories.make_organizer(session, email="script@example.com")
            created = await tokens.create_token(organizer, "schemathesis", session=session)
            await session.commit()
            events = []
            for event in (await session.exec(select(Event).order_by(Event.id))).all():  # type: ignore[arg-type]
                claims = select(Claim.id, Claim.invitee_id).where(Claim.event_id == event.id)
                claimed = dict((await session.exec(claims.order_by(Claim.id))).all())  # type: ignore[arg-type]
                # Guests without a claim: removing one of them leaves the claims to read.
                guests = select(Invitee.id).where(
                    Invitee.event_id == event.id, col(Invitee.id).not_in(claimed.values())
                )
                guest_ids = (await session.exec(guests.order_by(Invitee.id))).all()  # type: ignore[arg-type]
                events.append((event.slug, [i for i in guest_ids if i], list(claimed)))
        return created.secret, events
    finally:
        await database.dispose()


@pytest.fixture
def seeded(settings: Settings) -> Iterator[Seeded]:
    """The app on the demo data. Schemathesis calls the app from an event loop of its own, so
    the app's engine keeps no connections between requests (they belong to one loop)."""
    token, events = asyncio.run(_seed(settings))
    database = Database(create_engine(settings.resolved_database_url, poolclass=NullPool))
    return Seeded(create_app(settings, database), token, events)


def _real_paths(seeded: Seeded) -> list[dict[str, Any]]:
    """Path parameters that name existing things: each event with one of its guests and one of
    its claims (and a guest of another event, which must be a 404 there)."""
    paths = []
    for slug, guest_ids, claim_ids in seeded.events:
        others = [gid for other, ids, _c in seeded.events if other != slug for gid in ids[:1]]
        for guest_id in [*guest_ids[:2], *others[:1]] or [1]:
            paths.append({"slug": slug, "guest_id": guest_id, "claim_id": (claim_ids or [1])[0]})
    return paths


def _body_examples(operation: Any) -> list[Any]:
    """The examples the schema gives for the operation's body (valid requests, to get past the
    422s that random data mostly meets)."""
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    reference = content.get("application/json", {}).get("schema", {})
    for option in reference.get("anyOf", [reference]):
        if "$ref" in option:
            name = option["$ref"].rsplit("/", 1)[-1]
            return list(
                operation.schema.raw_schema["components"]["schemas"][name].get("examples", [])
            )
    return []


def _strategy(operation: Any, seeded: Seeded) -> st.SearchStrategy[Any]:
    """Generated requests, valid and invalid, to generated addresses and to existing things,
    plus the documented example bodies."""
    names = {parameter.name for parameter in operation.path_parameters}
    paths: list[dict[str, Any] | None] = [None]
    if names:
        paths += [
            {name: value for name, value in path.items() if name in names}
            for path in _real_paths(seeded)
        ]
    strategies = [
        operation.as_strategy(generation_mode=mode, path_parameters=path)
        for mode in GenerationMode
        for path in paths
    ]
    strategies += [
        operation.as_strategy(body=body, path_parameters=path)
        for body in _body_examples(operation)
        for path in paths
    ]
    return st.one_of(strategies)


def test_every_operation_keeps_to_its_schema(seeded: Seeded) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", seeded.app)
    # Our token on every request; missing and wrong tokens have tests of their own (test_auth).
    schema.config.generation.update(with_security_parameters=False)
    client = get_client(seeded.app)  # not entered: the app's lifespan (mail worker) stays off
    headers = {"Authorization": f"Bearer {seeded.token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=_strategy(operation, seeded))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_to_schema(case: Any) -> None:
            case.call_and_validate(session=client, headers=headers, checks=CHECKS)

        try:
            keeps_to_schema()
        except Exception as error:
            raise AssertionError(f"{operation.label}: {error}") from error
