"""Creating, changing, duplicating, publishing, cancelling and archiving events (domain level)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from meetups.db import Database
from meetups.errors import DomainError, ValidationFailed
from meetups.events import manage
from meetups.events.form import EventFields, parse_event_form
from meetups.events.models import Event, EventStatus
from meetups.invitations.models import Invitee, InviteeStatus
from tests import factories
from tests.events.test_form import DEFAULTS, valid

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def fields(**overrides: str) -> EventFields:
    return parse_event_form(valid(**overrides), **DEFAULTS)


async def test_create_stores_a_draft_in_utc(session: Any, database: Database) -> None:
    organizer = await factories.make_organizer(session)
    event = await manage.create_event(
        fields(timezone="America/New_York", rsvp_deadline=""), organizer=organizer, session=session
    )
    await session.commit()
    assert event.slug == "bloggertreffen-montabaur"
    assert event.status == EventStatus.draft

    async with database.session() as fresh:
        stored = (await fresh.exec(select(Event).where(Event.id == event.id))).one()
    assert stored.status is EventStatus.draft
    assert stored.starts_at == datetime(2027, 5, 14, 18, 0, tzinfo=UTC)
    assert stored.starts_at.utcoffset() == timedelta(0)
    assert stored.timezone == "America/New_York"
    assert stored.created_by_id == organizer.id
    assert stored.travel_cap_cents == 15000
    assert stored.travel_categories == "train,car"
    assert stored.feedback_closes_at == stored.ends_at + timedelta(days=14)


async def test_the_same_title_twice_gets_a_new_address(session: Any) -> None:
    organizer = await factories.make_organizer(session)
    first = await manage.create_event(fields(), organizer=organizer, session=session)
    second = await manage.create_event(fields(), organizer=organizer, session=session)
    third = await manage.create_event(
        fields(title="Bloggertreffen, Montabaur!"), organizer=organizer, session=session
    )
    assert [first.slug, second.slug, third.slug] == [
        "bloggertreffen-montabaur",
        "bloggertreffen-montabaur-2",
        "bloggertreffen-montabaur-3",
    ]


async def test_a_slug_taken_in_the_meantime_is_retried(
    session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer may insert the same slug between our check and our insert."""
    organizer = await factories.make_organizer(session)
    await factories.make_event(session, slug="sommerfest")
    real_unique_slug = manage.unique_slug
    calls: list[str] = []

    async def stale_first(title: str, **kwargs: Any) -> str:
        calls.append(title)
        return "sommerfest" if len(calls) == 1 else await real_unique_slug(title, **kwargs)

    monkeypatch.setattr(manage, "unique_slug", stale_first)
    event = await manage.create_event(
        fields(title="Sommerfest"), organizer=organizer, session=session
    )
    await session.commit()
    assert event.slug == "sommerfest-2"
    assert len(calls) == 2
    slugs = (await session.exec(select(Event.slug).order_by(Event.slug))).all()
    assert slugs == ["sommerfest", "sommerfest-2"]


async def test_update_keeps_the_address(session: Any) -> None:
    organizer = await factories.make_organizer(session)
    event = await manage.create_event(fields(), organizer=organizer, session=session)
    before = event.updated_at
    await manage.update_event(
        event, fields(title="Ganz anders", capacity="", venue="Halle 2"), session=session
    )
    assert event.slug == "bloggertreffen-montabaur"
    assert (event.title, event.capacity, event.venue) == ("Ganz anders", None, "Halle 2")
    assert event.updated_at >= before


async def test_capacity_cannot_drop_below_those_who_accepted(session: Any) -> None:
    event = await factories.make_event(session, capacity=10)
    for number in range(3):
        contact = await factories.make_contact(session, email=f"guest{number}@example.com")
        await factories.make_invitee(session, event, contact, status=InviteeStatus.accepted)
    contact = await factories.make_contact(session, email="late@example.com")
    await factories.make_invitee(session, event, contact, status=InviteeStatus.waitlisted)

    with pytest.raises(ValidationFailed) as caught:
        await manage.update_event(event, fields(capacity="2"), session=session)
    assert "3 guests have accepted already" in caught.value.errors["capacity"]
    assert event.capacity == 10
    await manage.update_event(event, fields(capacity="3"), session=session)
    assert event.capacity == 3


async def test_an_archived_event_is_not_changed(session: Any) -> None:
    event = await factories.make_event(session, archived_at=NOW)
    with pytest.raises(DomainError, match="archived"):
        await manage.update_event(event, fields(title="Neu"), session=session)
    assert event.title == "Bloggertreffen Montabaur"


async def test_duplicate_copies_settings_but_not_guests(session: Any) -> None:
    author = await factories.make_organizer(session, email="author@example.com")
    copier = await factories.make_organizer(session, email="copier@example.com")
    event = await factories.make_event(
        session,
        created_by_id=author.id,
        capacity=25,
        plus_ones_allowed=True,
        travel_enabled=True,
        travel_cap_cents=9900,
        travel_categories="train,hotel",
        feedback_anonymous=True,
        status=EventStatus.cancelled,
        archived_at=NOW,
        timezone="America/New_York",
    )
    contact = await factories.make_contact(session)
    await factories.make_invitee(session, event, contact, status=InviteeStatus.accepted)

    copy = await manage.duplicate_event(event, organizer=copier, session=session)
    await session.commit()
    assert copy.id != event.id
    assert copy.title == "Bloggertreffen Montabaur (copy)"
    assert copy.slug == "bloggertreffen-montabaur-copy"
    assert copy.status == EventStatus.draft
    assert copy.archived_at is None
    assert copy.created_by_id == copier.id
    for name in (
        "description",
        "venue",
        "address",
        "timezone",
        "starts_at",
        "ends_at",
        "capacity",
        "plus_ones_allowed",
        "travel_enabled",
        "travel_cap_cents",
        "travel_categories",
        "feedback_anonymous",
        "contact_email",
    ):
        assert getattr(copy, name) == getattr(event, name), name
    guests = (await session.exec(select(Invitee).where(Invitee.event_id == copy.id))).all()
    assert guests == []

    again = await manage.duplicate_event(event, organizer=copier, session=session)
    assert again.slug == "bloggertreffen-montabaur-copy-2"


async def test_a_copy_of_a_very_long_title_still_fits() -> None:
    title = manage.copy_title("x" * 200)
    assert len(title) == 200
    assert title.endswith(" (copy)")


async def test_publish(session: Any) -> None:
    event = await factories.make_event(
        session, status=EventStatus.draft, starts_at=NOW + timedelta(days=5)
    )
    await manage.publish_event(event, session=session, now=NOW)
    assert event.status == EventStatus.published
    with pytest.raises(DomainError, match="published already"):
        await manage.publish_event(event, session=session, now=NOW)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"status": EventStatus.cancelled}, "cancelled event cannot be published"),
        ({"status": EventStatus.draft, "archived_at": NOW}, "archived"),
        ({"status": EventStatus.draft, "starts_at": NOW - timedelta(days=2)}, "over already"),
    ],
)
async def test_publish_refuses(session: Any, state: dict[str, Any], message: str) -> None:
    event = await factories.make_event(session, **{"starts_at": NOW + timedelta(days=5), **state})
    status = event.status
    with pytest.raises(DomainError, match=message):
        await manage.publish_event(event, session=session, now=NOW)
    assert event.status == status


async def test_cancel(session: Any) -> None:
    event = await factories.make_event(session, starts_at=NOW + timedelta(days=5))
    await manage.cancel_event(event, session=session, now=NOW)
    assert event.status == EventStatus.cancelled
    with pytest.raises(DomainError, match="cancelled already"):
        await manage.cancel_event(event, session=session, now=NOW)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"status": EventStatus.draft}, "Archive it instead"),
        ({"archived_at": NOW}, "archived"),
        ({"starts_at": NOW - timedelta(days=2)}, "over already"),
    ],
)
async def test_cancel_refuses(session: Any, state: dict[str, Any], message: str) -> None:
    event = await factories.make_event(session, **{"starts_at": NOW + timedelta(days=5), **state})
    status = event.status
    with pytest.raises(DomainError, match=message):
        await manage.cancel_event(event, session=session, now=NOW)
    assert event.status == status


@pytest.mark.parametrize(
    "state",
    [
        {"status": EventStatus.draft},
        {"status": EventStatus.cancelled},
        {"status": EventStatus.published, "starts_at": NOW - timedelta(days=2)},
    ],
)
async def test_archive_and_unarchive(session: Any, state: dict[str, Any]) -> None:
    event = await factories.make_event(session, **{"starts_at": NOW + timedelta(days=5), **state})
    await manage.archive_event(event, session=session, now=NOW)
    assert event.archived_at == NOW
    with pytest.raises(DomainError, match="archived already"):
        await manage.archive_event(event, session=session, now=NOW)
    await manage.unarchive_event(event, session=session)
    assert event.archived_at is None
    with pytest.raises(DomainError, match="not archived"):
        await manage.unarchive_event(event, session=session)


async def test_an_upcoming_published_event_is_cancelled_before_it_is_archived(session: Any) -> None:
    event = await factories.make_event(session, starts_at=NOW + timedelta(days=5))
    with pytest.raises(DomainError, match="Cancel it first"):
        await manage.archive_event(event, session=session, now=NOW)
    assert event.archived_at is None


async def test_the_rules_seen_by_templates_match_the_domain(session: Any) -> None:
    draft = await factories.make_event(
        session, slug="a", status=EventStatus.draft, starts_at=NOW + timedelta(days=3)
    )
    live = await factories.make_event(session, slug="b", starts_at=NOW + timedelta(days=3))
    over = await factories.make_event(session, slug="c", starts_at=NOW - timedelta(days=3))
    gone = await factories.make_event(
        session, slug="d", archived_at=NOW, starts_at=NOW - timedelta(days=3)
    )
    table = {
        event.slug: (
            event.can_edit(),
            event.can_publish(NOW),
            event.can_cancel(NOW),
            event.can_archive(NOW),
            event.can_unarchive(),
        )
        for event in (draft, live, over, gone)
    }
    assert table == {
        "a": (True, True, False, True, False),
        "b": (True, False, True, False, False),
        "c": (True, False, False, True, False),
        "d": (False, False, False, False, True),
    }
