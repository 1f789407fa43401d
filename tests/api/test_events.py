"""Events through the API: listing in pages, reading, creating and changing with the event form's
rules, publishing; and the errors of each."""

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import select

from meetups.api.schemas import EventCreate, EventOut, EventUpdate
from meetups.config import Settings
from meetups.db import Database
from meetups.events.form import EventFields
from meetups.events.models import Event, EventStatus
from meetups.invitations.models import InviteeStatus
from meetups.mail.models import OutboxMessage
from meetups.web import create_app
from tests import factories
from tests.api.conftest import Caller, error_of, fields_of

NEW_EVENT = {
    "title": "Bloggertreffen Köln",
    "starts_at": "2031-05-14T14:00:00",
    "ends_at": "2031-05-14T18:00:00",
}


def _soon(days: int = 28) -> datetime:
    return datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=days)


async def test_events_come_in_pages_with_total_and_next_link(api, session, viewer: Caller) -> None:  # type: ignore[no-untyped-def]
    for number in range(5):
        await factories.make_event(
            session,
            slug=f"treffen-{number}",
            title=f"Treffen {number}",
            starts_at=_soon(number + 1),
        )
    await session.commit()

    response = await api.get("/api/v1/events?limit=2", headers=viewer.headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 5
    assert (page["limit"], page["offset"]) == (2, 0)
    assert [event["slug"] for event in page["items"]] == ["treffen-4", "treffen-3"]
    assert page["next"] == "http://testserver/api/v1/events?limit=2&offset=2"

    seen = [event["slug"] for event in page["items"]]
    next_url = page["next"]
    while next_url:
        page = (await api.get(next_url, headers=viewer.headers)).json()
        seen += [event["slug"] for event in page["items"]]
        next_url = page["next"]
    assert seen == [f"treffen-{n}" for n in (4, 3, 2, 1, 0)]

    beyond = (await api.get("/api/v1/events?offset=10", headers=viewer.headers)).json()
    assert beyond["items"] == []
    assert beyond["total"] == 5
    assert beyond["next"] is None


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "limit=abc", "offset=-1", "offset=99999999", "section=soon"]
)
async def test_wrong_list_parameters_are_named_in_a_422(api, viewer: Caller, query: str) -> None:  # type: ignore[no-untyped-def]
    response = await api.get(f"/api/v1/events?{query}", headers=viewer.headers)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["details"][0]["field"] == query.split("=")[0]
    assert error["details"][0]["location"] == "query"


async def test_sections_filter_the_list(api, session, viewer: Caller) -> None:  # type: ignore[no-untyped-def]
    await factories.make_event(session, slug="upcoming", starts_at=_soon())
    await factories.make_event(session, slug="draft", status=EventStatus.draft, starts_at=_soon())
    await factories.make_event(session, slug="past", starts_at=_soon(-20))
    await session.commit()
    for section, slugs in {"upcoming": ["upcoming"], "drafts": ["draft"], "past": ["past"]}.items():
        page = (await api.get(f"/api/v1/events?section={section}", headers=viewer.headers)).json()
        assert [event["slug"] for event in page["items"]] == slugs


async def test_an_event_reads_with_its_times_in_its_zone_and_its_guest_numbers(  # type: ignore[no-untyped-def]
    api, session, viewer: Caller
) -> None:
    starts = datetime(2031, 5, 14, 12, 0, tzinfo=UTC)
    event = await factories.make_event(session, starts_at=starts, capacity=10)
    for number, status in enumerate(
        [
            InviteeStatus.accepted,
            InviteeStatus.accepted,
            InviteeStatus.declined,
            InviteeStatus.not_invited,
        ]
    ):
        contact = await factories.make_contact(
            session, name=f"Gast {number}", email=f"gast{number}@example.com"
        )
        await factories.make_invitee(session, event, contact, status=status)
    await session.commit()

    response = await api.get(f"/api/v1/events/{event.slug}", headers=viewer.headers)
    assert response.status_code == 200
    data = response.json()
    assert data["starts_at"] == "2031-05-14T14:00:00+02:00"
    assert data["timezone"] == "Europe/Berlin"
    assert data["url"] == f"http://testserver/events/{event.slug}"
    assert data["guests"] == {
        "on_list": 4,
        "not_invited": 1,
        "invited": 3,
        "accepted": 2,
        "declined": 1,
        "maybe": 0,
        "waitlisted": 0,
        "free_places": 8,
    }


@pytest.mark.parametrize("slug", ["no-such-event", "UPPER", "x" * 81, "%00", "a.b"])
async def test_an_unknown_event_is_a_404(api, viewer: Caller, slug: str) -> None:  # type: ignore[no-untyped-def]
    response = await api.get(f"/api/v1/events/{slug}", headers=viewer.headers)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


async def test_an_unknown_address_and_method_answer_in_json(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    response = await api.get("/api/v1/nothing/here", headers=editor.headers)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    response = await api.delete("/api/v1/events", headers=editor.headers)
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_the_api_names_every_field_of_the_event_form() -> None:
    # The API reads and writes events through the form's fields: one the schemas lacked would
    # be dropped without a word.
    form = {field.name for field in fields(EventFields)}
    assert set(EventCreate.model_fields) == form
    assert set(EventUpdate.model_fields) == form | {"notify_guests"}
    assert form <= set(EventOut.model_fields)


async def test_creating_an_event_makes_a_draft_checked_like_the_form(  # type: ignore[no-untyped-def]
    api, session, editor: Caller
) -> None:
    body = {
        **NEW_EVENT,
        "capacity": 40,
        "travel_enabled": True,
        "travel_cap_cents": 150_00,
        "travel_categories": ["train", "car"],
        "language": "en",
    }
    response = await api.post("/api/v1/events", json=body, headers=editor.headers)
    assert response.status_code == 201, response.text
    data = response.json()
    assert response.headers["location"] == f"/api/v1/events/{data['slug']}"
    assert data["slug"] == "bloggertreffen-koeln"
    assert data["status"] == "draft"
    assert data["starts_at"] == "2031-05-14T14:00:00+02:00"
    assert data["travel_cap_cents"] == 150_00
    assert data["travel_categories"] == ["train", "car"]
    # Left empty, the contact is the token's owner, and the deadlines take their defaults.
    assert (data["contact_name"], data["contact_email"]) == (
        "Organizer Script",
        "organizer.api@example.com",
    )
    assert data["travel_claim_deadline"] == "2031-06-13T18:00:00+02:00"
    assert data["feedback_closes_at"] == "2031-05-28T18:00:00+02:00"

    stored = (await session.exec(select(Event).where(Event.slug == data["slug"]))).one()
    assert stored.created_by_id == editor.organizer.id
    assert stored.starts_at == datetime(2031, 5, 14, 12, 0, tzinfo=UTC)


async def test_times_with_an_offset_are_that_moment(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    body = {
        **NEW_EVENT,
        "timezone": "America/New_York",
        "starts_at": "2031-05-14T12:00:00Z",
        "ends_at": "2031-05-14T16:30:59Z",
    }
    data = (await api.post("/api/v1/events", json=body, headers=editor.headers)).json()
    assert data["starts_at"] == "2031-05-14T08:00:00-04:00"
    assert data["ends_at"] == "2031-05-14T12:30:00-04:00"  # minutes are the finest step


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "   "}, "title"),
        ({"ends_at": "2031-05-14T13:00:00"}, "ends_at"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"starts_at": "1999-05-14T14:00:00", "ends_at": "1999-05-14T18:00:00"}, "starts_at"),
        ({"starts_at": "0001-01-01T00:00:00+14:00"}, "starts_at"),
        ({"starts_at": "2031-03-30T02:30:00", "ends_at": "2031-03-30T05:00:00"}, "starts_at"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 10**30}, "capacity"),
        ({"travel_cap_cents": -5}, "travel_cap_cents"),
        ({"travel_cap_cents": 10**25}, "travel_cap_cents"),
        ({"travel_enabled": True, "travel_categories": []}, "travel_categories"),
        ({"travel_currency": "XYZ"}, "travel_currency"),
        ({"contact_email": "not an address"}, "contact_email"),
        ({"rsvp_deadline": "2031-05-15T10:00:00"}, "rsvp_deadline"),
        ({"title": "x" * 201}, "title"),
    ],
)
async def test_invalid_events_are_refused_field_by_field(  # type: ignore[no-untyped-def]
    api, session, editor: Caller, changes: dict[str, object], field: str
) -> None:
    response = await api.post(
        "/api/v1/events", json={**NEW_EVENT, **changes}, headers=editor.headers
    )
    assert response.status_code == 422, response.text
    assert field in fields_of(response)
    assert (await session.exec(select(Event))).all() == []


@pytest.mark.parametrize(
    "body",
    [
        {"starts_at": "2031-05-14T14:00:00", "ends_at": "2031-05-14T18:00:00"},
        {**NEW_EVENT, "unknown_field": 1},
        {**NEW_EVENT, "starts_at": "next tuesday"},
        {**NEW_EVENT, "travel_categories": ["rocket"]},
        {**NEW_EVENT, "language": "fr"},
        {**NEW_EVENT, "title": None},
        [],
        "a string",
    ],
)
async def test_malformed_bodies_are_a_422(api, editor: Caller, body: object) -> None:  # type: ignore[no-untyped-def]
    response = await api.post("/api/v1/events", json=body, headers=editor.headers)
    assert response.status_code == 422, response.text
    assert error_of(response)["details"]


async def test_a_body_that_is_no_json_is_a_400(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        "/api/v1/events",
        content=b'{"title": ',
        headers={**editor.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


async def test_text_with_control_characters_is_cleaned_not_a_500(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    body = {**NEW_EVENT, "title": "Treffen\u0000 \ud800mit NUL", "venue": "Saal\u0007 1"}
    # Escaped as JSON allows it: a lone surrogate cannot be encoded as UTF-8 otherwise.
    response = await api.post(
        "/api/v1/events",
        content=json.dumps(body).encode("ascii"),
        headers={**editor.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "Treffen mit NUL"
    assert response.json()["venue"] == "Saal 1"


async def test_changing_an_event_changes_only_the_fields_sent(api, session, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    event = await factories.make_event(session, capacity=30, starts_at=_soon())
    await session.commit()
    response = await api.patch(
        f"/api/v1/events/{event.slug}",
        json={"title": "Bloggertreffen 2031", "capacity": None, "plus_ones_allowed": True},
        headers=editor.headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["guests_told"] == 0
    changed = data["event"]
    assert changed["title"] == "Bloggertreffen 2031"
    assert changed["capacity"] is None
    assert changed["plus_ones_allowed"] is True
    assert changed["slug"] == event.slug  # links already sent keep working
    assert changed["venue"] == "Firmenzentrale"
    assert changed["starts_at"] == event.starts_at.astimezone(ZoneInfo("Europe/Berlin")).isoformat()


async def test_null_is_refused_where_a_field_cannot_be_empty(api, session, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    event = await factories.make_event(session)
    await session.commit()
    response = await api.patch(
        f"/api/v1/events/{event.slug}",
        json={"title": None, "starts_at": None},
        headers=editor.headers,
    )
    assert response.status_code == 422
    assert set(fields_of(response)) == {"title", "starts_at"}


async def _guest(session, event, name: str, status: InviteeStatus, **fields):  # type: ignore[no-untyped-def]
    from meetups.invitations.links import issue_link

    contact = await factories.make_contact(
        session, name=name, email=f"{name.lower()}@example.com", language="en"
    )
    invitee = await factories.make_invitee(session, event, contact, status=status, **fields)
    issue_link(invitee, b"test-secret-" + b"x" * 40)
    session.add(invitee)
    await session.flush()
    return invitee


async def test_moving_a_published_event_tells_those_who_accepted(  # type: ignore[no-untyped-def]
    api, session, editor: Caller
) -> None:
    event = await factories.make_event(session, starts_at=_soon())
    await _guest(session, event, "Dora", InviteeStatus.accepted, seats=1)
    await _guest(session, event, "Emil", InviteeStatus.declined)
    await session.commit()
    later = (event.starts_at + timedelta(days=1)).isoformat()
    later_end = (event.ends_at + timedelta(days=1)).isoformat()
    response = await api.patch(
        f"/api/v1/events/{event.slug}",
        json={"starts_at": later, "ends_at": later_end},
        headers=editor.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["guests_told"] == 1
    outbox = (await session.exec(select(OutboxMessage))).all()
    assert [message.recipient for message in outbox] == ["dora@example.com"]
    await session.refresh(event)
    assert event.sequence == 1


async def test_a_move_can_be_kept_quiet(api, session, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    event = await factories.make_event(session, starts_at=_soon())
    await _guest(session, event, "Dora", InviteeStatus.accepted, seats=1)
    await session.commit()
    response = await api.patch(
        f"/api/v1/events/{event.slug}",
        json={"venue": "Raum Westerwald", "notify_guests": False},
        headers=editor.headers,
    )
    assert response.status_code == 200
    assert response.json()["guests_told"] == 0
    assert (await session.exec(select(OutboxMessage))).all() == []


async def test_the_capacity_cannot_drop_below_those_who_accepted(
    api, session, editor: Caller
) -> None:  # type: ignore[no-untyped-def]
    event = await factories.make_event(session, capacity=5)
    for name in ("Anna", "Bert", "Cleo"):
        await _guest(session, event, name, InviteeStatus.accepted, seats=1)
    await session.commit()
    response = await api.patch(
        f"/api/v1/events/{event.slug}", json={"capacity": 2}, headers=editor.headers
    )
    assert response.status_code == 422
    assert "capacity" in fields_of(response)


async def test_an_archived_event_cannot_be_changed(api, session, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    event = await factories.make_event(
        session, status=EventStatus.draft, archived_at=datetime.now(UTC)
    )
    await session.commit()
    response = await api.patch(
        f"/api/v1/events/{event.slug}", json={"title": "Neu"}, headers=editor.headers
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    await session.refresh(event)
    assert event.title == "Bloggertreffen Montabaur"


async def test_publishing_a_draft_and_refusing_it_twice(api, session, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    event = await factories.make_event(session, status=EventStatus.draft, starts_at=_soon())
    await session.commit()
    response = await api.post(f"/api/v1/events/{event.slug}/publish", headers=editor.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "published"
    response = await api.post(f"/api/v1/events/{event.slug}/publish", headers=editor.headers)
    assert response.status_code == 409
    assert "published already" in error_of(response)["message"]


async def test_errors_speak_the_language_of_the_request(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        "/api/v1/events",
        json={**NEW_EVENT, "title": ""},
        headers={**editor.headers, "Accept-Language": "de"},
    )
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid"
    assert fields_of(response)["title"] == "Bitte geben Sie der Veranstaltung einen Titel."


async def test_errors_are_in_english_when_the_request_names_no_language(
    settings: Settings, database: Database, editor: Caller
) -> None:
    """The pages' default language is German here, but a script that names none gets English."""
    german_app = create_app(settings.model_copy(update={"default_language": "de"}), database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=german_app), base_url="http://testserver"
    ) as client:
        response = await client.post(
            "/api/v1/events", json={**NEW_EVENT, "title": ""}, headers=editor.headers
        )
    assert response.status_code == 422
    assert fields_of(response)["title"] == "Please give the event a title."
