"""At the door: check-in by code and by name, wrong codes, codes of another event, double
check-ins, undo, plus-ones, walk-ins, the counts, and who counts as attended."""

import asyncio
from typing import Any

import pytest
from sqlmodel import select

from meetups.accounts.models import Organizer
from meetups.checkin import desk
from meetups.checkin.codes import checkin_code
from meetups.checkin.models import CheckIn
from meetups.contacts.models import Contact
from meetups.db import Database
from meetups.events.models import Event, EventStatus
from meetups.invitations.models import Invitee, InviteeStatus
from tests.checkin.conftest import Door
from tests.conftest import Browser, text_of


async def check_ins(session: Any) -> list[CheckIn]:
    session.expunge_all()
    rows = list((await session.exec(select(CheckIn).order_by(CheckIn.id))).all())
    await session.commit()
    return rows


async def counts_now(door: Door, session: Any) -> desk.DeskCounts:
    counts = await desk.desk_counts(door.event, session=session)
    await session.commit()  # the test's session writes: let the app write again
    return counts


async def test_the_tab_shows_who_is_expected(door: Door, editor: Browser) -> None:
    response = await editor.get(door.url)
    assert response.status_code == 200
    page = text_of(response.text)
    # Jürgen and his plus-one, and Anna: three people expected, none arrived.
    assert "0 / 3 arrived / expected" in page
    assert "3 still to come" in page
    assert "incl. 1 plus-one" in page
    assert "Jürgen Grünewald" in page
    assert "+ Zoë D’Avis" in page
    assert "vegetarisch, keine Nüsse" in page
    assert "Rollstuhl" in page
    assert "Anna Müller" in page
    assert "Dana Vielleicht" not in page  # maybe: found by search, not listed as expected
    assert (
        'aria-current="page"'
        in response.text.split('href="/events/bloggertreffen-montabaur/checkin"')[1][:80]
    )
    assert '<script src="/static/checkin.js" defer></script>' in response.text


async def test_check_in_by_code(door: Door, editor: Browser, session: Any) -> None:
    code = door.code("juergen")
    response = await editor.get(
        f"{door.url}/code", params={"code": code}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    card = text_of(response.text)
    assert "Jürgen Grünewald" in card
    assert "Zoë D’Avis" in card
    assert "vegetarisch" in card
    assert "Check in both" in card

    invitee_id = door["juergen"].invitee.id
    response = await editor.submit(
        f"{door.url}/guests/{invitee_id}", {"where": "result"}, htmx=True
    )
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "checkin-changed"
    card = text_of(response.text)
    assert "Jürgen Grünewald is checked in." in card
    assert "Arrived" in card
    assert "Undo check-in" in card
    # The same guest in the list below follows (an out-of-band swap of their row).
    oob = f'hx-swap-oob="outerHTML:#checkin-results [data-guest=guest-{invitee_id}]"'
    assert oob in response.text
    (row,) = await check_ins(session)
    assert (row.invitee_id, row.event_id, row.plus_one_arrived, row.walk_in) == (
        invitee_id,
        door.event.id,
        True,
        False,
    )
    counts = await counts_now(door, session)
    assert (counts.arrived, counts.expected, counts.missing) == (2, 3, 1)


async def test_the_code_without_javascript(door: Door, editor: Browser) -> None:
    # The code form sent as a plain GET lands on the page with the guest shown.
    response = await editor.get(f"{door.url}/code", params={"code": door.code("anna")})
    assert response.status_code == 303
    page = await editor.get(response.headers["location"])
    assert page.status_code == 200
    result = page.text.split('id="checkin-result"', 1)[1].split("</div>\n", 1)[0]
    assert "Anna Müller" in result


async def test_a_wrong_code(door: Door, editor: Browser) -> None:
    for code in ("not a code", door.code("anna")[:-1] + "X", "1-1-AAAAAAAAAAAAAAAA"):
        response = await editor.get(
            f"{door.url}/code", params={"code": code}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 404
        assert "This is not a valid check-in code." in text_of(response.text)
    response = await editor.get(door.url, params={"code": "nonsense"})
    assert response.status_code == 404
    assert "This is not a valid check-in code." in text_of(response.text)


async def test_an_empty_code(door: Door, editor: Browser) -> None:
    response = await editor.get(
        f"{door.url}/code", params={"code": " "}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 404
    assert "Please scan a code or type it in." in text_of(response.text)


async def test_a_code_of_another_event(door: Door, editor: Browser) -> None:
    code = checkin_code(door.other_event.id, door.stranger.invitee.id, door.secret)
    response = await editor.get(
        f"{door.url}/code", params={"code": code}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 404
    message = text_of(response.text)
    assert "This code is for “Sommerfest Köln”" in message
    assert "not for this event" in message
    assert "Sven" not in message  # the other event's guest is not shown here


async def test_a_code_of_someone_taken_off_the_list(
    door: Door, editor: Browser, session: Any
) -> None:
    code = door.code("anna")
    invitee = await session.get(Invitee, door["anna"].invitee.id)
    await session.delete(invitee)
    await session.commit()
    response = await editor.get(
        f"{door.url}/code", params={"code": code}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 404
    assert "taken off the guest list" in text_of(response.text)


async def test_double_check_in(door: Door, editor: Browser, session: Any) -> None:
    url = f"{door.url}/guests/{door['anna'].invitee.id}"
    assert (await editor.submit(url, htmx=True)).status_code == 200
    response = await editor.submit(url, htmx=True)
    assert response.status_code == 409
    card = text_of(response.text)
    assert "Anna Müller is checked in already, since" in card
    assert "(by Organizer Person)" in card
    assert len(await check_ins(session)) == 1
    # Without JavaScript: back to the page, with the message.
    response = await editor.submit(url)
    assert response.status_code == 303
    assert response.headers["location"] == door.url


async def test_two_phones_tap_at_once(door: Door, database: Database, session: Any) -> None:
    organizer = (await session.exec(select(Organizer))).first()
    if organizer is None:
        organizer = Organizer(
            email="door@example.com", name="Door", role="organizer", password_hash="x"
        )
        session.add(organizer)
        await session.commit()

    async def tap() -> str:
        async with database.session(write=True) as phone:
            event = await phone.get(Event, door.event.id)
            try:
                await desk.check_in(
                    event, door["anna"].invitee.id, organizer=organizer, session=phone
                )
            except desk.CheckInRefused:
                return "refused"
            await phone.commit()
            return "in"

    results = await asyncio.gather(*(tap() for _ in range(5)))
    assert sorted(results) == ["in", "refused", "refused", "refused", "refused"]
    assert len(await check_ins(session)) == 1


async def test_undo(door: Door, editor: Browser, session: Any) -> None:
    url = f"{door.url}/guests/{door['anna'].invitee.id}"
    await editor.submit(url, htmx=True)
    response = await editor.submit(f"{url}/undo", htmx=True)
    assert response.status_code == 200
    card = text_of(response.text)
    assert "The check-in of Anna Müller is undone." in card
    assert "Check in" in card
    assert await check_ins(session) == []
    response = await editor.submit(f"{url}/undo", htmx=True)
    assert response.status_code == 409
    assert "Anna Müller is not checked in." in text_of(response.text)


async def test_the_plus_one_came_alone_or_not_at_all(
    door: Door, editor: Browser, session: Any
) -> None:
    url = f"{door.url}/guests/{door['juergen'].invitee.id}"
    await editor.submit(url, htmx=True)
    response = await editor.submit(f"{url}/plus-one", htmx=True)  # no "arrived": not come
    assert "Zoë D’Avis is marked as not arrived." in text_of(response.text)
    (row,) = await check_ins(session)
    assert row.plus_one_arrived is False
    assert (await counts_now(door, session)).arrived == 1
    response = await editor.submit(f"{url}/plus-one", {"arrived": "on"}, htmx=True)
    assert "Zoë D’Avis has arrived too." in text_of(response.text)
    assert (await counts_now(door, session)).arrived == 2
    # Anna has no plus-one.
    response = await editor.submit(
        f"{door.url}/guests/{door['anna'].invitee.id}/plus-one", {"arrived": "on"}
    )
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("jurgen", ["Jürgen Grünewald"]),  # without the umlaut
        ("GRÜNEWALD", ["Jürgen Grünewald"]),
        ("zoe", ["Jürgen Grünewald"]),  # by the plus-one
        ("d’avis", ["Jürgen Grünewald"]),
        ("dana", ["Dana Vielleicht"]),  # maybe: found, with a note
        ("carl", ["Carl Absage"]),
        ("a", ["Anna Müller", "Carl Absage", "Dana Vielleicht", "Jürgen Grünewald"]),
        ("sven", []),  # a guest of the other event
        ("%", []),
        ("x" * 300, []),
    ],
)
async def test_search_by_name(door: Door, editor: Browser, query: str, found: list[str]) -> None:
    response = await editor.get(
        f"{door.url}/search", params={"q": query}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    names = [
        name
        for name in (
            "Jürgen Grünewald",
            "Anna Müller",
            "Dana Vielleicht",
            "Carl Absage",
            "Sven Anderswo",
        )
        if name in response.text
    ]
    assert sorted(names) == sorted(found)
    if not found:
        assert "Nobody on the guest list matches" in text_of(response.text)


async def test_search_without_javascript(door: Door, editor: Browser) -> None:
    response = await editor.get(door.url, params={"q": "dana"})
    page = text_of(response.text)
    assert "Dana Vielleicht" in page
    assert "Answered “maybe”." in page


async def test_someone_who_declined_can_still_be_let_in(
    door: Door, editor: Browser, session: Any
) -> None:
    response = await editor.submit(f"{door.url}/guests/{door['carl'].invitee.id}", htmx=True)
    assert response.status_code == 200
    assert "Declined the invitation." in text_of(response.text)
    counts = await counts_now(door, session)
    assert (counts.arrived, counts.expected) == (1, 3)


async def test_a_walk_in(door: Door, editor: Browser, session: Any) -> None:
    response = await editor.submit(
        f"{door.url}/walk-in", {"name": "Walter Spontan", "email": "Walter@Example.com"}, htmx=True
    )
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "checkin-changed"
    assert "Walter Spontan is added to the guest list and checked in." in text_of(response.text)
    session.expunge_all()
    contact = (
        await session.exec(select(Contact).where(Contact.email == "walter@example.com"))
    ).one()
    invitee = (await session.exec(select(Invitee).where(Invitee.contact_id == contact.id))).one()
    assert (invitee.event_id, invitee.status, invitee.seats) == (
        door.event.id,
        InviteeStatus.accepted,
        1,
    )
    assert contact.language == door.event.language
    await session.commit()
    (row,) = await check_ins(session)
    assert (row.invitee_id, row.walk_in) == (invitee.id, True)
    counts = await counts_now(door, session)
    assert (counts.walk_ins, counts.arrived, counts.expected) == (1, 1, 4)
    event = await session.get(Event, door.event.id)
    assert event.seats_taken == 4
    await session.commit()


async def test_a_walk_in_who_is_on_the_list_already(
    door: Door, editor: Browser, session: Any
) -> None:
    response = await editor.submit(
        f"{door.url}/walk-in", {"name": "Whoever", "email": "dana@example.com"}, htmx=True
    )
    assert "Dana Vielleicht was on the guest list already and is now checked in." in text_of(
        response.text
    )
    (row,) = await check_ins(session)
    assert (row.invitee_id, row.walk_in) == (door["dana"].invitee.id, False)
    # Once more: she is in already.
    response = await editor.submit(
        f"{door.url}/walk-in", {"name": "Whoever", "email": "dana@example.com"}, htmx=True
    )
    assert response.status_code == 409
    assert "checked in already" in text_of(response.text)


async def test_a_walk_in_at_a_full_event_gets_in_without_a_place(
    door: Door, editor: Browser, session: Any
) -> None:
    event = await session.get(Event, door.event.id)
    event.capacity = 3
    session.add(event)
    await session.commit()
    response = await editor.submit(
        f"{door.url}/walk-in", {"name": "Voll Zuspät", "email": "voll@example.com"}
    )
    assert response.status_code == 303
    session.expunge_all()
    invitee = (
        await session.exec(select(Invitee).join(Contact).where(Contact.email == "voll@example.com"))
    ).one()
    assert (invitee.status, invitee.seats) == (InviteeStatus.accepted, 0)
    assert (await session.get(Event, door.event.id)).seats_taken == 3
    await session.commit()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "email": "leer@example.com"}, "name"),
        ({"name": "Ohne Adresse", "email": ""}, "email"),
        ({"name": "Falsch", "email": "not-an-address"}, "email"),
        ({"name": "x" * 500, "email": "lang@example.com"}, "name"),
    ],
)
async def test_a_walk_in_with_mistakes(
    door: Door, editor: Browser, session: Any, data: dict[str, str], field: str
) -> None:
    response = await editor.submit(f"{door.url}/walk-in", data, htmx=True)
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.text
    assert await check_ins(session) == []


async def test_viewers_look_but_do_not_touch(door: Door, viewer: Browser, session: Any) -> None:
    page = await viewer.get(door.url)
    assert page.status_code == 200
    assert "Jürgen Grünewald" in page.text
    assert "/undo" not in page.text
    assert "walk-in" not in page.text
    for url in (f"{door.url}/guests/{door['anna'].invitee.id}", f"{door.url}/walk-in"):
        response = await viewer.submit(url, {"name": "X", "email": "x@example.com"})
        assert response.status_code == 403
    assert await check_ins(session) == []


@pytest.mark.parametrize("status", [EventStatus.draft, EventStatus.cancelled])
async def test_no_check_in_where_there_is_no_event(
    door: Door, editor: Browser, session: Any, status: EventStatus
) -> None:
    event = await session.get(Event, door.event.id)
    event.status = status
    session.add(event)
    await session.commit()
    page = text_of((await editor.get(door.url)).text)
    assert ("draft" if status == EventStatus.draft else "cancelled") in page
    response = await editor.submit(f"{door.url}/guests/{door['anna'].invitee.id}")
    assert response.status_code == 303
    assert await check_ins(session) == []


@pytest.mark.parametrize("invitee_id", ["0", "-1", "abc", "99999999999999", "1.5", "%00"])
async def test_odd_ids_are_not_found(door: Door, editor: Browser, invitee_id: str) -> None:
    response = await editor.submit(f"{door.url}/guests/{invitee_id}")
    assert response.status_code in (303, 404)
    response = await editor.submit(f"{door.url}/guests/{invitee_id}/undo", htmx=True)
    assert response.status_code in (204, 404)


async def test_a_guest_of_another_event_cannot_be_checked_in_here(
    door: Door, editor: Browser, session: Any
) -> None:
    response = await editor.submit(f"{door.url}/guests/{door.stranger.invitee.id}", htmx=True)
    assert response.status_code == 404
    assert await check_ins(session) == []


async def test_counts_for_polling(door: Door, editor: Browser) -> None:
    await editor.submit(f"{door.url}/guests/{door['anna'].invitee.id}", htmx=True)
    response = await editor.get(f"{door.url}/counts", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="checkin-counts" id="checkin-counts"')
    assert 'hx-trigger="every 5s, checkin-changed from:body"' in response.text
    assert "1<small> / 3</small>" in response.text
    # Without htmx, the address leads to the page.
    assert (await editor.get(f"{door.url}/counts")).status_code == 303


async def test_attended_is_accepted_until_check_in_is_used(
    door: Door, session: Any, database: Database
) -> None:
    event = await session.get(Event, door.event.id)
    attended = await desk.attended_invitees(event, session=session)
    assert [i.id for i in attended] == sorted([door["juergen"].invitee.id, door["anna"].invitee.id])
    assert not await desk.check_in_used(event, session=session)
    organizer = Organizer(
        email="door@example.com", name="Door", role="organizer", password_hash="x"
    )
    session.add(organizer)
    await session.flush()
    await desk.check_in(event, door["carl"].invitee.id, organizer=organizer, session=session)
    await session.commit()
    # From the first check-in on, only those who came.
    attended = await desk.attended_invitees(event, session=session)
    assert [i.id for i in attended] == [door["carl"].invitee.id]
    other = await session.get(Event, door.other_event.id)
    assert [i.id for i in await desk.attended_invitees(other, session=session)] == [
        door.stranger.invitee.id
    ]


async def test_the_qr_address_leads_an_organizer_to_the_guest(door: Door, editor: Browser) -> None:
    code = door.code("juergen")
    response = await editor.get(f"/checkin/{code}")
    assert response.status_code == 303
    assert response.headers["location"] == f"{door.url}?code={code}"
    page = text_of((await editor.get(response.headers["location"])).text)
    assert "Jürgen Grünewald" in page


async def test_the_qr_address_tells_a_guest_what_it_is(door: Door, browser: Browser) -> None:
    code = door.code("juergen")
    response = await browser.get(f"/checkin/{code}")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "This is your check-in code" in page
    assert "Bloggertreffen Montabaur" in page
    assert "Jürgen" not in page
    assert response.headers["referrer-policy"] == "no-referrer"
    response = await browser.get("/checkin/12-34-NOTACODEATALL00")
    assert response.status_code == 404
    assert "Not a check-in code" in text_of(response.text)


async def test_the_qr_address_with_a_wrong_code_for_an_organizer(editor: Browser) -> None:
    response = await editor.get("/checkin/garbage")
    assert response.status_code == 404
    assert "This is not a valid check-in code." in text_of(response.text)
