"""Guests through the API: the list with status and answers, one guest, adding and removing,
sending invitations; ids of another event's guests; no personal link in any answer."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.events.models import Event, EventStatus
from meetups.invitations.links import issue_link, token_of
from meetups.invitations.models import Invitee, InviteeStatus, Suppression
from meetups.invitations.unsubscribe import REASON_UNSUBSCRIBED
from meetups.mail.models import OutboxMessage
from tests import factories
from tests.api.conftest import Caller, error_of, fields_of


def _soon(days: int = 28) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


async def add_person(
    session: Any,
    settings: Settings,
    event: Event,
    name: str,
    status: InviteeStatus = InviteeStatus.not_invited,
    **fields: Any,
) -> Invitee:
    contact = await factories.make_contact(
        session, name=name, email=f"{name.split()[0].lower()}@example.com", language="en"
    )
    invitee = await factories.make_invitee(session, event, contact, status=status, **fields)
    if status != InviteeStatus.not_invited:
        issue_link(invitee, settings.secret)
        session.add(invitee)
        await session.flush()
    return invitee


@pytest.fixture
async def event(session: Any) -> Event:
    event = await factories.make_event(session, starts_at=_soon(), capacity=2)
    await session.commit()
    return event


@pytest.fixture
async def other_event(session: Any) -> Event:
    event = await factories.make_event(
        session, slug="anderes-treffen", title="Anderes Treffen", starts_at=_soon(40)
    )
    await session.commit()
    return event


def _guests_url(event: Event, suffix: str = "") -> str:
    return f"/api/v1/events/{event.slug}/guests{suffix}"


async def test_the_guest_list_shows_status_and_answers_never_the_link(  # type: ignore[no-untyped-def]
    api, session, settings, event: Event, viewer: Caller
) -> None:
    dora = await add_person(
        session,
        settings,
        event,
        "Dora Diaz",
        InviteeStatus.accepted,
        seats=2,
        plus_one_name="Paul",
        dietary_needs="vegan",
        travelling_from="Köln",
        needs_hotel=True,
        responded_at=_soon(-2),
    )
    await add_person(session, settings, event, "Anna Alt")
    await session.commit()

    response = await api.get(_guests_url(event), headers=viewer.headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 2
    assert [guest["name"] for guest in page["items"]] == ["Anna Alt", "Dora Diaz"]
    guest = page["items"][1]
    assert guest["id"] == dora.id
    assert guest["status"] == "accepted"
    assert guest["seats"] == 2
    assert guest["answers"] == {
        "plus_one_name": "Paul",
        "dietary_needs": "vegan",
        "accessibility_needs": "",
        "travelling_from": "Köln",
        "needs_hotel": True,
        "comment": "",
    }
    token = token_of(dora, settings.secret)
    assert token
    assert token not in response.text
    assert "/i/" not in response.text
    assert "link" not in guest

    one = await api.get(_guests_url(event, f"/{dora.id}"), headers=viewer.headers)
    assert one.status_code == 200
    assert token not in one.text
    assert one.json()["answers"]["plus_one_name"] == "Paul"


async def test_the_guest_list_filters_searches_and_pages(  # type: ignore[no-untyped-def]
    api, session, settings, event: Event, viewer: Caller
) -> None:
    for name in ("Anna Alt", "Bert Bach", "Cleo Cramer"):
        await add_person(session, settings, event, name, InviteeStatus.invited)
    await add_person(session, settings, event, "Dora Diaz", InviteeStatus.declined)
    await session.commit()

    invited = (await api.get(_guests_url(event) + "?status=invited", headers=viewer.headers)).json()
    assert [guest["name"] for guest in invited["items"]] == ["Anna Alt", "Bert Bach", "Cleo Cramer"]
    found = (await api.get(_guests_url(event) + "?q=cramer", headers=viewer.headers)).json()
    assert [guest["name"] for guest in found["items"]] == ["Cleo Cramer"]
    page = (await api.get(_guests_url(event) + "?limit=3&offset=1", headers=viewer.headers)).json()
    assert [guest["name"] for guest in page["items"]] == ["Bert Bach", "Cleo Cramer", "Dora Diaz"]
    assert page["total"] == 4
    assert page["next"] is None
    first = (await api.get(_guests_url(event) + "?limit=3", headers=viewer.headers)).json()
    assert first["next"] == f"http://testserver{_guests_url(event)}?limit=3&offset=3"

    wrong = await api.get(_guests_url(event) + "?status=vip", headers=viewer.headers)
    assert wrong.status_code == 422
    assert "status" in fields_of(wrong)


async def test_a_guest_of_another_event_is_not_found_under_this_one(  # type: ignore[no-untyped-def]
    api, session, settings, event: Event, other_event: Event, editor: Caller
) -> None:
    stranger = await add_person(session, settings, other_event, "Erik Eck", InviteeStatus.accepted)
    await session.commit()

    response = await api.get(_guests_url(event, f"/{stranger.id}"), headers=editor.headers)
    assert response.status_code == 404
    assert "Erik" not in response.text
    response = await api.delete(_guests_url(event, f"/{stranger.id}"), headers=editor.headers)
    assert response.status_code == 404
    assert await session.get(Invitee, stranger.id) is not None
    # Under its own event it is there.
    response = await api.get(_guests_url(other_event, f"/{stranger.id}"), headers=editor.headers)
    assert response.status_code == 200


@pytest.mark.parametrize("guest_id", ["0", "-1", "abc", "2147483648", "1.5"])
async def test_guest_ids_that_cannot_exist_are_a_404(  # type: ignore[no-untyped-def]
    api, event: Event, editor: Caller, guest_id: str
) -> None:
    response = await api.get(_guests_url(event, f"/{guest_id}"), headers=editor.headers)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


async def test_adding_someone_from_the_address_book(
    api, session, event: Event, editor: Caller
) -> None:  # type: ignore[no-untyped-def]
    contact = await factories.make_contact(session, name="Fritz Fink", email="fritz@example.com")
    await session.commit()

    response = await api.post(
        _guests_url(event), json={"contact_id": contact.id}, headers=editor.headers
    )
    assert response.status_code == 201, response.text
    guest = response.json()
    assert guest["name"] == "Fritz Fink"
    assert guest["status"] == "not_invited"
    assert response.headers["location"] == _guests_url(event, f"/{guest['id']}")

    again = await api.post(
        _guests_url(event), json={"contact_id": contact.id}, headers=editor.headers
    )
    assert again.status_code == 200
    assert again.json()["id"] == guest["id"]
    count = (await session.exec(select(Invitee).where(Invitee.event_id == event.id))).all()
    assert len(count) == 1


async def test_adding_a_new_person_puts_them_into_the_address_book(  # type: ignore[no-untyped-def]
    api, session, event: Event, editor: Caller
) -> None:
    body = {"name": "Greta Gans", "email": "Greta@Example.com", "city": "Bonn"}
    response = await api.post(_guests_url(event), json=body, headers=editor.headers)
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "greta@example.com"
    assert response.json()["language"] == event.language
    contact = (
        await session.exec(select(Contact).where(Contact.email == "greta@example.com"))
    ).one()
    assert contact.city == "Bonn"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Hans Hahn", "email": "no address"}, "email"),
        ({"email": "hans@example.com"}, "name"),
        ({}, "email"),
        ({"name": "Hans", "email": "hans@example.com", "blog_url": "ftp://x"}, "blog_url"),
        ({"contact_id": 999_999}, "contact_id"),
        ({"contact_id": 1, "name": "Hans"}, "contact_id"),
        ({"contact_id": 0}, "contact_id"),
        ({"name": "Hans", "email": "hans@example.com", "language": "fr"}, "language"),
        ({"name": "Hans", "email": "hans@example.com", "phone": "123"}, "phone"),
    ],
)
async def test_adding_a_guest_wrongly_names_the_field(  # type: ignore[no-untyped-def]
    api, session, event: Event, editor: Caller, body: dict[str, Any], field: str
) -> None:
    response = await api.post(_guests_url(event), json=body, headers=editor.headers)
    assert response.status_code == 422, response.text
    assert field in fields_of(response)
    assert (await session.exec(select(Invitee))).all() == []


async def test_a_deleted_contact_cannot_be_added(
    api, session, event: Event, editor: Caller
) -> None:  # type: ignore[no-untyped-def]
    contact = await factories.make_contact(session, anonymized_at=datetime.now(UTC))
    await session.commit()
    response = await api.post(
        _guests_url(event), json={"contact_id": contact.id}, headers=editor.headers
    )
    assert response.status_code == 422
    assert "contact_id" in fields_of(response)


async def test_a_cancelled_events_guest_list_stays_as_it_was(  # type: ignore[no-untyped-def]
    api, session, settings, editor: Caller
) -> None:
    event = await factories.make_event(session, status=EventStatus.cancelled)
    guest = await add_person(session, settings, event, "Ida Igel", InviteeStatus.invited)
    await session.commit()
    response = await api.post(
        _guests_url(event),
        json={"name": "Jan Jung", "email": "jan@example.com"},
        headers=editor.headers,
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    response = await api.delete(_guests_url(event, f"/{guest.id}"), headers=editor.headers)
    assert response.status_code == 409
    assert await session.get(Invitee, guest.id) is not None


async def test_removing_an_accepted_guest_moves_the_waitlist_up(  # type: ignore[no-untyped-def]
    api, session, settings, editor: Caller
) -> None:
    event = await factories.make_event(session, starts_at=_soon(), capacity=1, seats_taken=1)
    leaving = await add_person(
        session, settings, event, "Karl Kahn", InviteeStatus.accepted, seats=1
    )
    waiting = await add_person(
        session, settings, event, "Lena Lang", InviteeStatus.waitlisted, waitlisted_at=_soon(-3)
    )
    await session.commit()

    response = await api.delete(_guests_url(event, f"/{leaving.id}"), headers=editor.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "guest": {"id": leaving.id, "name": "Karl Kahn"},
        "places_freed": 1,
        "promoted": [{"id": waiting.id, "name": "Lena Lang"}],
    }
    session.expunge_all()
    assert await session.get(Invitee, leaving.id) is None
    assert (await session.get(Invitee, waiting.id)).status == InviteeStatus.accepted
    outbox = (await session.exec(select(OutboxMessage))).all()
    assert [message.recipient for message in outbox] == ["lena@example.com"]


async def test_a_viewer_cannot_change_the_guest_list(  # type: ignore[no-untyped-def]
    api, session, settings, event: Event, viewer: Caller
) -> None:
    guest = await add_person(session, settings, event, "Mia Moor")
    await session.commit()
    response = await api.post(
        _guests_url(event),
        json={"name": "Nils", "email": "nils@example.com"},
        headers=viewer.headers,
    )
    assert response.status_code == 403
    response = await api.delete(_guests_url(event, f"/{guest.id}"), headers=viewer.headers)
    assert response.status_code == 403
    assert await session.get(Invitee, guest.id) is not None


# Sending invitations.


async def test_inviting_everyone_not_invited_yet_queues_their_invitations(  # type: ignore[no-untyped-def]
    api, session, settings, event: Event, editor: Caller
) -> None:
    anna = await add_person(session, settings, event, "Anna Alt")
    bert = await add_person(session, settings, event, "Bert Bach")
    await add_person(session, settings, event, "Cleo Cramer", InviteeStatus.accepted, seats=1)
    session.add(Suppression(email="bert@example.com", reason=REASON_UNSUBSCRIBED))
    await session.commit()

    response = await api.post(f"/api/v1/events/{event.slug}/invitations", headers=editor.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["invited"] == [{"id": anna.id, "name": "Anna Alt"}]
    assert [entry["guest"]["id"] for entry in report["suppressed"]] == [bert.id]
    assert "Unsubscribed" in report["suppressed"][0]["reason"]
    assert report["message"] == "1 invitation is on its way."

    session.expunge_all()
    assert (await session.get(Invitee, anna.id)).status == InviteeStatus.invited
    outbox = (await session.exec(select(OutboxMessage))).all()
    assert [message.recipient for message in outbox] == ["anna@example.com"]
    # The invitation carries the personal link; the API's answer did not.
    invited = await session.get(Invitee, anna.id)
    token = token_of(invited, settings.secret)
    assert token
    assert token in outbox[0].raw
    assert token not in response.text
    await session.commit()  # ends the test's transaction: SQLite lets one writer at a time

    again = await api.post(f"/api/v1/events/{event.slug}/invitations", headers=editor.headers)
    assert again.status_code == 200
    assert again.json()["invited"] == []
    assert len((await session.exec(select(OutboxMessage))).all()) == 1


async def test_inviting_chosen_guests_only(  # type: ignore[no-untyped-def]
    api, session, settings, event: Event, other_event: Event, editor: Caller
) -> None:
    anna = await add_person(session, settings, event, "Anna Alt")
    await add_person(session, settings, event, "Bert Bach")
    stranger = await add_person(session, settings, other_event, "Erik Eck")
    await session.commit()
    url = f"/api/v1/events/{event.slug}/invitations"

    response = await api.post(url, json={"guest_ids": [anna.id]}, headers=editor.headers)
    assert response.status_code == 200
    assert [guest["id"] for guest in response.json()["invited"]] == [anna.id]

    # Another event's guest is nobody on this list, and is not invited through it.
    response = await api.post(url, json={"guest_ids": [stranger.id]}, headers=editor.headers)
    assert response.status_code == 409
    session.expunge_all()
    assert (await session.get(Invitee, stranger.id)).status == InviteeStatus.not_invited
    await session.commit()

    response = await api.post(url, json={"guest_ids": [anna.id]}, headers=editor.headers)
    assert response.status_code == 200
    assert response.json()["invited"] == []


@pytest.mark.parametrize(
    "body", [{"guest_ids": []}, {"guest_ids": [0]}, {"guest_ids": ["x"]}, {"everyone": True}]
)
async def test_wrong_invitation_requests_are_a_422(api, event: Event, editor: Caller, body) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        f"/api/v1/events/{event.slug}/invitations", json=body, headers=editor.headers
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "fields",
    [
        {"status": EventStatus.draft},
        {"status": EventStatus.cancelled},
        {"archived_at": datetime.now(UTC)},
        {"starts_at": _soon(-10)},
        {"rsvp_deadline": _soon(-1)},
    ],
)
async def test_invitations_wait_for_a_published_upcoming_event(  # type: ignore[no-untyped-def]
    api, session, settings, editor: Caller, fields: dict[str, Any]
) -> None:
    event = await factories.make_event(session, **{"starts_at": _soon(), **fields})
    await add_person(session, settings, event, "Anna Alt")
    await session.commit()
    response = await api.post(f"/api/v1/events/{event.slug}/invitations", headers=editor.headers)
    assert response.status_code == 409, response.text
    assert (await session.exec(select(OutboxMessage))).all() == []
    statuses = (await session.exec(select(col(Invitee.status)))).all()
    assert statuses == [InviteeStatus.not_invited]
