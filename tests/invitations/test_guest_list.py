"""An event's guest list: seeing it, adding people (picked, by tag, new), removing them."""

import re
from typing import Any

import pytest
from sqlmodel import select

from meetups.contacts.models import Contact, Tag
from meetups.db import utcnow
from meetups.events.models import EventStatus
from meetups.invitations import guest_list
from meetups.invitations.models import Invitee, InviteeStatus
from tests import factories
from tests.conftest import Browser, text_of

URL = "/events/bloggertreffen-montabaur/guests"


async def rows(session: Any, statement: Any) -> list[Any]:
    """Reads what the database has now, then lets the app write again (SQLite has one writer)."""
    session.expunge_all()
    result = list((await session.exec(statement)).all())
    await session.commit()
    return result


async def guests_of(session: Any, event: Any) -> list[str]:
    statement = (
        select(Contact.name)
        .join(Invitee, Invitee.contact_id == Contact.id)  # type: ignore[arg-type]
        .where(Invitee.event_id == event.id)
        .order_by(Contact.search_key)
    )
    return await rows(session, statement)


def listed_names(html: str) -> list[str]:
    table = html[html.index("<tbody>") : html.index("</tbody>")] if "<tbody>" in html else ""
    return re.findall(r'<a href="/events/[a-z0-9-]+/guests/\d+">([^<]+)</a>', table)


async def people(session: Any) -> dict[str, Contact]:
    tech, podcast = Tag(name="tech"), Tag(name="podcast")
    contacts = {
        "anna": await factories.make_contact(
            session, name="Anna Müller", email="anna@example.org", city="Berlin", tags=[tech]
        ),
        "jonas": await factories.make_contact(
            session, name="Jonas Schmidt", email="jonas@example.org", tags=[tech, podcast]
        ),
        "lea": await factories.make_contact(
            session, name="Lea Schneider", email="lea@example.org", language="en"
        ),
    }
    await session.commit()
    return contacts


async def test_empty_guest_list(editor: Browser, session: Any) -> None:
    await factories.make_event(session)
    await session.commit()

    response = await editor.get(URL)

    assert response.status_code == 200
    page = text_of(response.text)
    assert "Nobody is on the guest list yet." in page
    assert 'aria-current="page"' in response.text  # the Guests tab is the active one
    assert f'href="{URL}/import"' in response.text
    assert "Add guests" in page


async def test_guest_list_shows_people_with_their_status_and_counts(
    editor: Browser, session: Any
) -> None:
    event = await factories.make_event(session)
    contacts = await people(session)
    await factories.make_invitee(session, event, contacts["anna"])
    await factories.make_invitee(session, event, contacts["jonas"], status=InviteeStatus.accepted)
    await session.commit()

    response = await editor.get(URL)

    assert listed_names(response.text) == ["Anna Müller", "Jonas Schmidt"]
    page = text_of(response.text)
    assert "2 On the list 1 Not invited yet 1 Invited 0 Opened 0 No answer yet 1 Accepted" in page
    assert "anna@example.org" in page
    assert "Berlin" in page
    assert '<span class="tag">tech</span>' in response.text


async def test_filter_by_status_and_search(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session)
    contacts = await people(session)
    for key in ("anna", "jonas", "lea"):
        await factories.make_invitee(
            session,
            event,
            contacts[key],
            status=InviteeStatus.maybe if key == "lea" else InviteeStatus.not_invited,
        )
    await session.commit()

    assert listed_names((await editor.get(f"{URL}?status=maybe")).text) == ["Lea Schneider"]
    assert listed_names((await editor.get(f"{URL}?status=not_invited&q=tech")).text) == [
        "Anna Müller",
        "Jonas Schmidt",
    ]
    assert listed_names((await editor.get(f"{URL}?q=MULLER")).text) == ["Anna Müller"]
    assert listed_names((await editor.get(f"{URL}?status=bogus")).text) == [
        "Anna Müller",
        "Jonas Schmidt",
        "Lea Schneider",
    ]

    fragment = await editor.get(
        f"{URL}?q=jonas", headers={"HX-Request": "true", "HX-Target": "guests"}
    )
    assert "<html" not in fragment.text
    assert listed_names(fragment.text) == ["Jonas Schmidt"]
    assert "Add guests" not in fragment.text
    assert "No guest matches this filter." in text_of((await editor.get(f"{URL}?q=nobody")).text)


async def test_add_people_picked_from_the_address_book(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session)
    contacts = await people(session)

    page = await editor.get(URL)
    assert f'name="contact_id" value="{contacts["anna"].id}"' in page.text

    response = await editor.submit(
        f"{URL}/add", {"contact_id": [str(contacts["anna"].id), str(contacts["lea"].id)]}
    )

    assert response.status_code == 303
    assert response.headers["location"] == URL
    assert await guests_of(session, event) == ["Anna Müller", "Lea Schneider"]
    after = await editor.get(URL)
    assert "2 people added to the guest list." in text_of(after.text)
    # The picker offers only who is not on the list yet.
    assert f'name="contact_id" value="{contacts["anna"].id}"' not in after.text
    assert f'name="contact_id" value="{contacts["jonas"].id}"' in after.text


async def test_adding_someone_twice_is_harmless_and_said(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session)
    contacts = await people(session)
    await factories.make_invitee(session, event, contacts["anna"])
    await session.commit()

    response = await editor.submit(
        f"{URL}/add",
        {
            "contact_id": [
                str(contacts["anna"].id),
                str(contacts["anna"].id),
                str(contacts["jonas"].id),
            ]
        },
    )

    assert response.status_code == 303
    assert await guests_of(session, event) == ["Anna Müller", "Jonas Schmidt"]
    page = text_of((await editor.get(URL)).text)
    assert (
        "Jonas Schmidt is on the guest list now. Anna Müller was on the guest list already." in page
    )


async def test_picker_search_returns_only_its_block(editor: Browser, session: Any) -> None:
    await factories.make_event(session)
    await people(session)

    response = await editor.get(
        f"{URL}?pick=schneider", headers={"HX-Request": "true", "HX-Target": "picker-results"}
    )

    assert response.status_code == 200
    assert "<table" not in response.text
    assert "Lea Schneider" in response.text
    assert "Jonas Schmidt" not in response.text
    plain = await editor.get(f"{URL}?pick=schneider")
    assert "<html" in plain.text
    assert "Jonas Schmidt" not in plain.text


@pytest.mark.parametrize(
    "ids",
    [[], [""], ["abc"], ["-1"], ["0"], ["99999"], ["99999999999999999999"], ["1.5"], ["<script>"]],
)
async def test_picking_nobody_or_unknown_ids_gets_a_message(
    editor: Browser, session: Any, ids: list[str]
) -> None:
    event = await factories.make_event(session)
    await session.commit()

    response = await editor.submit(f"{URL}/add", {"contact_id": ids}, htmx=True)

    assert response.status_code == 422
    assert "<html" not in response.text
    message = text_of(response.text)
    assert (
        "Please pick at least one person." in message or "no longer in the address book" in message
    )
    assert await guests_of(session, event) == []


async def test_anonymized_people_cannot_be_added(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session)
    ghost = await factories.make_contact(
        session, name="Deleted contact", email="deleted-9@invalid", anonymized_at=utcnow()
    )
    await session.commit()

    response = await editor.submit(f"{URL}/add", {"contact_id": str(ghost.id)})

    assert response.status_code == 422
    assert await guests_of(session, event) == []


async def test_add_everyone_with_a_tag(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session)
    contacts = await people(session)
    await factories.make_invitee(session, event, contacts["anna"])
    await session.commit()

    page = await editor.get(URL)
    assert '<option value="tech">tech (2)</option>' in page.text

    response = await editor.submit(f"{URL}/add-tag", {"tag": "tech"})

    assert response.status_code == 303
    assert await guests_of(session, event) == ["Anna Müller", "Jonas Schmidt"]
    assert (
        "Jonas Schmidt is on the guest list now. Anna Müller was on the guest list already."
        in text_of((await editor.get(URL)).text)
    )


@pytest.mark.parametrize("tag", ["", "nonexistent", "x" * 10_000, "<script>alert(1)</script>"])
async def test_unknown_tag_gets_a_message(editor: Browser, session: Any, tag: str) -> None:
    event = await factories.make_event(session)
    await people(session)

    response = await editor.submit(f"{URL}/add-tag", {"tag": tag}, htmx=True)

    assert response.status_code == 422
    assert (
        "Please choose a tag." in response.text
        or "Nobody in the address book has the tag" in text_of(response.text)
    )
    assert "<script>alert" not in response.text
    assert await guests_of(session, event) == []


async def test_add_a_new_person_inline(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session, language="en")
    await session.commit()

    page = await editor.get(URL)
    assert '<option value="en" selected>' in page.text  # new guests speak the event's language

    response = await editor.submit(
        f"{URL}/new",
        {
            "name": "Paul Zimmermann",
            "email": "Paul@Example.net",
            "city": "Amsterdam",
            "language": "en",
            "tags": "Tech",
        },
    )

    assert response.status_code == 303
    [contact] = await rows(session, select(Contact))
    assert (contact.email, contact.city, contact.language, contact.tag_names) == (
        "paul@example.net",
        "Amsterdam",
        "en",
        ["tech"],
    )
    assert await guests_of(session, event) == ["Paul Zimmermann"]
    assert "Paul Zimmermann was added to the address book and to the guest list." in text_of(
        (await editor.get(URL)).text
    )


async def test_inline_person_with_a_known_address_reuses_the_contact(
    editor: Browser, session: Any
) -> None:
    event = await factories.make_event(session)
    contacts = await people(session)

    response = await editor.submit(
        f"{URL}/new", {"name": "Anna Typo", "email": "ANNA@example.org", "language": "de"}
    )

    assert response.status_code == 303
    assert await guests_of(session, event) == ["Anna Müller"]  # the entry as it was, no duplicate
    assert len(await rows(session, select(Contact))) == len(contacts)
    assert "Anna Müller was in the address book already and is on the guest list now." in text_of(
        (await editor.get(URL)).text
    )

    again = await editor.submit(
        f"{URL}/new", {"name": "Anna", "email": "anna@example.org", "language": "de"}
    )
    assert again.status_code == 303
    assert "Anna Müller was on the guest list already." in text_of((await editor.get(URL)).text)
    assert len(await rows(session, select(Invitee))) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Please enter a name."),
        ({"name": "", "email": "kaputt@@example.org"}, "This is not a valid e-mail address."),
        ({"name": "x" * 10_000, "email": "x@example.org"}, "At most 200 characters"),
        ({"name": "=1+1", "email": "x@example.org"}, "A name cannot start with ="),
        (
            {"name": "Anna", "email": "a@example.org", "language": "xx"},
            "Please choose German or English.",
        ),
        ({"name": "Anna", "email": "a@example.org", "tags": "t" * 60}, "longer than 50 characters"),
        ({"name": "Anna", "email": "\u202e@\u200b"}, "not a valid e-mail address"),
    ],
)
async def test_inline_person_with_bad_input_is_shown_again_with_messages(
    editor: Browser,
    session: Any,
    fields: dict[str, str],
    message: str,
) -> None:
    event = await factories.make_event(session)
    await session.commit()

    response = await editor.submit(f"{URL}/new", fields, htmx=True)

    assert response.status_code == 422
    assert "<html" not in response.text
    assert message in text_of(response.text)
    assert await guests_of(session, event) == []
    assert await rows(session, select(Contact)) == []


async def test_remove_a_guest(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session)
    contacts = await people(session)
    invitee = await factories.make_invitee(session, event, contacts["anna"])
    await factories.make_invitee(session, event, contacts["jonas"])
    await session.commit()

    page = await editor.get(URL)
    assert f'hx-post="{URL}/{invitee.id}/remove"' in page.text
    assert "hx-confirm=" in page.text

    response = await editor.submit(f"{URL}/{invitee.id}/remove", htmx=True)

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == URL
    assert await guests_of(session, event) == ["Jonas Schmidt"]
    assert len(await rows(session, select(Contact))) == 3  # still in the address book
    assert "Anna Müller is no longer on the guest list." in text_of((await editor.get(URL)).text)


async def test_removing_someone_who_was_invited_or_answered_asks_first(
    editor: Browser, session: Any, settings: Any
) -> None:
    event = await factories.make_event(session)
    contacts = await people(session)
    invitee = await factories.make_invitee(
        session, event, contacts["anna"], status=InviteeStatus.declined, responded_at=utcnow()
    )
    await session.commit()

    page = await editor.get(URL)
    assert f'action="{URL}/{invitee.id}/remove"' in page.text
    assert f'hx-post="{URL}/{invitee.id}/remove"' not in page.text  # no one-click removal

    unconfirmed = await editor.submit(f"{URL}/{invitee.id}/remove")
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"{URL}/{invitee.id}/remove"
    assert await guests_of(session, event) == ["Anna Müller"]

    question = await editor.get(f"{URL}/{invitee.id}/remove")
    assert question.status_code == 200
    text = text_of(question.text)
    assert "Take Anna Müller off the guest list?" in text
    assert "Their personal link stops working." in text

    response = await editor.submit(f"{URL}/{invitee.id}/remove", {"confirm": "yes"})

    assert response.status_code == 303
    assert await guests_of(session, event) == []
    assert len(await rows(session, select(Contact))) == 3  # still in the address book


async def test_removing_an_accepted_guest_frees_places_and_moves_the_waitlist_up(
    editor: Browser, session: Any, settings: Any
) -> None:
    from meetups.events.models import Event
    from meetups.invitations.links import issue_link
    from meetups.mail.models import OutboxMessage

    event = await factories.make_event(session, capacity=2, plus_ones_allowed=True, seats_taken=2)
    contacts = await people(session)
    anna = await factories.make_invitee(
        session,
        event,
        contacts["anna"],
        status=InviteeStatus.accepted,
        responded_at=utcnow(),
        seats=2,
        plus_one_name="Ben",
    )
    jonas = await factories.make_invitee(
        session,
        event,
        contacts["jonas"],
        status=InviteeStatus.waitlisted,
        responded_at=utcnow(),
        waitlisted_at=utcnow(),
    )
    for invitee in (anna, jonas):
        issue_link(invitee, settings.secret)
        session.add(invitee)
    await session.commit()

    question = await editor.get(f"{URL}/{anna.id}/remove")
    assert "Their 2 places become free" in text_of(question.text)
    response = await editor.submit(f"{URL}/{anna.id}/remove", {"confirm": "yes"})

    assert response.status_code == 303
    page = text_of((await editor.get(URL)).text)
    assert "Anna Müller is no longer on the guest list. 2 places are free again." in page
    assert "Moved up from the waitlist and told by e-mail: Jonas Schmidt." in page
    stored = await rows(session, select(Invitee).where(Invitee.id == jonas.id))
    assert stored[0].status == InviteeStatus.accepted
    assert stored[0].seats == 1
    assert (await rows(session, select(Event.seats_taken)))[0] == 1
    mails = await rows(session, select(OutboxMessage.kind, OutboxMessage.invitee_id))
    assert [tuple(mail) for mail in mails] == [("promotion", jonas.id)]


@pytest.mark.parametrize("invitee_id", ["abc", "0", "99999", "99999999999999", "-1"])
async def test_removing_an_unknown_guest_says_so(
    editor: Browser, session: Any, invitee_id: str
) -> None:
    await factories.make_event(session)
    await session.commit()

    response = await editor.submit(f"{URL}/{invitee_id}/remove", {"confirm": "yes"})

    assert response.status_code == 303
    assert "not on the guest list" in text_of((await editor.get(URL)).text)
    assert (await editor.get(f"{URL}/{invitee_id}/remove")).status_code == 404


async def test_a_guest_of_another_event_cannot_be_removed_here(
    editor: Browser, session: Any
) -> None:
    await factories.make_event(session)
    other = await factories.make_event(session, slug="other", title="Other")
    contacts = await people(session)
    invitee = await factories.make_invitee(session, other, contacts["anna"])
    await session.commit()

    await editor.submit(f"{URL}/{invitee.id}/remove")

    assert await guests_of(session, other) == ["Anna Müller"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": EventStatus.cancelled}, "This event is cancelled"),
        ({"archived_at": utcnow()}, "This event is archived"),
    ],
)
async def test_closed_events_refuse_changes(
    editor: Browser, session: Any, change: dict[str, Any], message: str
) -> None:
    event = await factories.make_event(session, **change)
    contacts = await people(session)
    invitee = await factories.make_invitee(session, event, contacts["jonas"])
    await session.commit()

    page = await editor.get(URL)
    assert message in text_of(page.text)
    assert "Add guests" not in text_of(page.text)
    assert "/remove" not in page.text

    responses = [
        await editor.submit(f"{URL}/add", {"contact_id": str(contacts["anna"].id)}, htmx=True),
        await editor.submit(f"{URL}/add-tag", {"tag": "tech"}, htmx=True),
        await editor.submit(
            f"{URL}/new", {"name": "Neu", "email": "neu@example.org", "language": "de"}, htmx=True
        ),
    ]
    for response in responses:
        assert response.status_code == 422
        assert message in text_of(response.text)
    await editor.submit(f"{URL}/{invitee.id}/remove")
    assert await guests_of(session, event) == ["Jonas Schmidt"]
    assert len(await rows(session, select(Contact))) == 3


async def test_viewers_see_the_list_but_cannot_change_it(viewer: Browser, session: Any) -> None:
    event = await factories.make_event(session)
    contacts = await people(session)
    invitee = await factories.make_invitee(session, event, contacts["anna"])
    await session.commit()

    page = await viewer.get(URL)
    assert page.status_code == 200
    assert listed_names(page.text) == ["Anna Müller"]
    assert "Add guests" not in text_of(page.text)
    assert "/remove" not in page.text

    for url, data in [
        (f"{URL}/add", {"contact_id": str(contacts["jonas"].id)}),
        (f"{URL}/add-tag", {"tag": "tech"}),
        (f"{URL}/new", {"name": "Neu", "email": "neu@example.org"}),
        (f"{URL}/{invitee.id}/remove", {}),
    ]:
        assert (await viewer.submit(url, data)).status_code == 403, url
    assert await guests_of(session, event) == ["Anna Müller"]


@pytest.mark.parametrize("slug", ["nope", "x" * 300, "%3Cscript%3E", "..", "ü"])
async def test_unknown_events_are_not_found(editor: Browser, slug: str) -> None:
    response = await editor.get(f"/events/{slug}/guests")

    assert response.status_code == 404
    assert "There is no such event." in text_of(
        response.text
    ) or "There is no page at this address." in text_of(response.text)
    assert (await editor.submit(f"/events/{slug}/guests/add", {"contact_id": "1"})).status_code in {
        404,
        405,
    }


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 10_000},
        {"status": "<script>"},
        {"page": "abc"},
        {"page": "9" * 40},
        {"pick": "%_\\\x00"},
    ],
)
async def test_odd_filters_are_harmless(
    editor: Browser, session: Any, params: dict[str, str]
) -> None:
    await factories.make_event(session)
    await people(session)

    response = await editor.get(URL, params=params)

    assert response.status_code == 200
    assert "<script>" not in response.text.split("</head>")[1]


async def test_long_guest_lists_are_paged(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session)
    for i in range(105):
        contact = await factories.make_contact(
            session, name=f"Guest {i:03}", email=f"g{i}@example.org"
        )
        await factories.make_invitee(session, event, contact)
    await session.commit()

    first = await editor.get(URL)
    second = await editor.get(f"{URL}?page=2")

    assert len(listed_names(first.text)) == 100
    assert listed_names(second.text) == [f"Guest {i:03}" for i in range(100, 105)]
    assert "Page 2 of 2" in text_of(second.text)


def test_every_status_has_a_label_and_a_badge() -> None:
    for status in InviteeStatus:
        assert guest_list.status_label(status)
        assert status in guest_list.STATUS_BADGES
    assert guest_list.status_label(InviteeStatus.not_invited) == "Not invited yet"
    assert guest_list.status_label("unknown") == "unknown"
