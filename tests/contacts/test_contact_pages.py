"""The address book's pages over HTTP: list and live search, a person's page, the form,
deleting and anonymizing, and what viewers may do."""

import re
from typing import Any

import pytest
from sqlmodel import select

from meetups.contacts.models import Contact, Tag
from meetups.db import utcnow
from meetups.i18n import gettext, use_locale
from meetups.invitations.models import Invitee
from tests import factories
from tests.conftest import Browser, text_of

PERSON = {
    "name": "Anna Müller",
    "email": "Anna.Mueller@Example.com",
    "blog_url": "anna.example.org",
    "city": "Berlin",
    "language": "de",
    "tags": "Tech, podcast , tech",
    "notes": "Schreibt über DSL.",
}


async def fresh(session: Any, contact_id: int) -> Contact | None:
    """The contact as the database has it now (the test's session then lets the app write again)."""
    session.expunge_all()
    contact = await session.get(Contact, contact_id)
    await session.commit()
    return contact


def names_in(html: str) -> list[str]:
    """The people a listing links to, in order."""
    return re.findall(r'<a href="/contacts/\d+">([^<]+)</a>', html)


async def rows(session: Any, statement: Any) -> list[Any]:
    result = list((await session.exec(statement)).all())
    await session.commit()
    return result


async def test_empty_address_book_invites_to_add_or_import(editor: Browser) -> None:
    response = await editor.get("/contacts")

    assert response.status_code == 200
    page = text_of(response.text)
    assert "The address book is empty." in page
    assert 'href="/contacts/new"' in response.text
    assert 'href="/contacts/import"' in response.text


async def test_create_a_contact(editor: Browser, session: Any) -> None:
    response = await editor.submit("/contacts/new", PERSON)

    assert response.status_code == 303
    [contact] = await rows(session, select(Contact))
    assert response.headers["location"] == f"/contacts/{contact.id}"
    assert contact.email == "anna.mueller@example.com"
    assert contact.blog_url == "https://anna.example.org"
    assert contact.tag_names == ["podcast", "tech"]
    assert contact.notes == "Schreibt über DSL."

    page = await editor.get(response.headers["location"])
    assert "Anna Müller is in the address book now." in text_of(page.text)
    assert "anna.mueller@example.com" in page.text
    assert "Not on any guest list yet." in text_of(page.text)


async def test_create_via_htmx_redirects_with_hx_redirect(editor: Browser) -> None:
    response = await editor.submit("/contacts/new", PERSON, htmx=True)

    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/contacts/")


async def test_invalid_form_is_shown_again_with_messages_next_to_the_fields(
    editor: Browser, session: Any
) -> None:
    response = await editor.submit(
        "/contacts/new",
        {
            "name": "",
            "email": "kaputt@@example.org",
            "blog_url": "not a url",
            "language": "fr",
            "tags": "x" * 51,
        },
        htmx=True,
    )

    assert response.status_code == 422
    assert "<html" not in response.text  # only the form, re-rendered in place
    page = text_of(response.text)
    assert "Please enter a name." in page
    assert "This is not a valid e-mail address." in page
    assert "Please enter a web address starting with https://." in page
    assert "Please choose German or English." in page
    assert "longer than 50 characters" in page
    assert 'value="kaputt@@example.org"' in response.text
    assert await rows(session, select(Contact)) == []


async def test_duplicate_email_is_refused_whatever_its_letter_case(
    editor: Browser, session: Any
) -> None:
    await factories.make_contact(session, email="anna.mueller@example.com", name="Anna Müller")
    await session.commit()

    response = await editor.submit(
        "/contacts/new", {**PERSON, "name": "Anna Zwei", "email": "ANNA.MUELLER@example.COM"}
    )

    assert response.status_code == 422
    assert "anna.mueller@example.com is already in the address book (Anna Müller)." in text_of(
        response.text
    )


async def test_edit_a_contact(editor: Browser, session: Any) -> None:
    contact = await factories.make_contact(session, email="anna@example.org", name="Anna")
    await session.commit()

    form = await editor.get(f"/contacts/{contact.id}/edit")
    assert form.status_code == 200
    assert 'value="anna@example.org"' in form.text

    response = await editor.submit(
        f"/contacts/{contact.id}/edit", {**PERSON, "email": "anna@example.org", "tags": "video"}
    )
    assert response.status_code == 303
    changed = await fresh(session, contact.id)
    assert changed is not None
    assert (changed.name, changed.city, changed.tag_names) == ("Anna Müller", "Berlin", ["video"])


async def test_edit_refuses_another_persons_email(editor: Browser, session: Any) -> None:
    await factories.make_contact(session, email="jonas@example.org", name="Jonas")
    anna = await factories.make_contact(session, email="anna@example.org", name="Anna")
    await session.commit()

    response = await editor.submit(
        f"/contacts/{anna.id}/edit", {**PERSON, "email": "JONAS@example.org"}
    )

    assert response.status_code == 422
    assert "already in the address book (Jonas)" in text_of(response.text)


async def test_unused_tags_disappear(editor: Browser, session: Any) -> None:
    contact = await factories.make_contact(session, email="anna@example.org")
    await session.commit()
    await editor.submit(
        f"/contacts/{contact.id}/edit", {**PERSON, "email": "anna@example.org", "tags": "old"}
    )
    await editor.submit(
        f"/contacts/{contact.id}/edit", {**PERSON, "email": "anna@example.org", "tags": "new"}
    )

    session.expunge_all()
    assert await rows(session, select(Tag.name)) == ["new"]


async def test_delete_a_contact_who_has_not_answered(editor: Browser, session: Any) -> None:
    contact = await factories.make_contact(session)
    event = await factories.make_event(session)
    await factories.make_invitee(session, event, contact)
    await session.commit()

    page = await editor.get(f"/contacts/{contact.id}")
    assert f'href="/contacts/{contact.id}/delete"' in page.text
    asked = await editor.get(f"/contacts/{contact.id}/delete")
    assert "They will also be taken off 1 guest list." in text_of(asked.text)

    response = await editor.submit(f"/contacts/{contact.id}/delete", {"confirm": "yes"}, htmx=True)

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/contacts"
    assert await fresh(session, contact.id) is None
    assert await rows(session, select(Invitee)) == []
    assert (await editor.get(f"/contacts/{contact.id}")).status_code == 404


async def test_delete_anonymizes_someone_who_has_answered(editor: Browser, session: Any) -> None:
    contact = await factories.make_contact(
        session,
        name="Anna Müller",
        email="anna@example.org",
        city="Berlin",
        blog_url="https://a.example.org",
        notes="x",
        tags=[Tag(name="tech")],
    )
    event = await factories.make_event(session)
    await factories.make_invitee(session, event, contact, responded_at=utcnow())
    await session.commit()

    response = await editor.submit(f"/contacts/{contact.id}/delete", {"confirm": "yes"})

    assert response.status_code == 303
    assert response.headers["location"] == f"/contacts/{contact.id}"
    page = await editor.get(response.headers["location"])
    assert "has answered an invitation" in text_of(page.text)
    assert "Anna Müller" in text_of(page.text)  # the message names them once, the page no more
    assert "anna@example.org" not in page.text
    anonymized = await fresh(session, contact.id)
    assert anonymized is not None
    assert anonymized.name == "Deleted contact"
    assert anonymized.email == f"deleted-{contact.id}@invalid"
    assert (anonymized.city, anonymized.blog_url, anonymized.notes, anonymized.tag_names) == (
        None,
        None,
        None,
        [],
    )
    assert anonymized.anonymized_at is not None
    assert len(await rows(session, select(Invitee))) == 1
    assert await rows(session, select(Tag)) == []
    listing = await editor.get("/contacts")
    assert "Deleted contact" not in listing.text
    # An anonymized entry cannot be edited or deleted again.
    assert (await editor.submit(f"/contacts/{contact.id}/edit", PERSON)).status_code == 303
    assert (await fresh(session, contact.id)).name == "Deleted contact"  # type: ignore[union-attr]
    assert (await editor.submit(f"/contacts/{contact.id}/delete", {"confirm": "yes"})).headers[
        "location"
    ] == f"/contacts/{contact.id}"


async def test_anonymized_name_follows_the_organizers_language(
    editor: Browser, session: Any
) -> None:
    contact = await factories.make_contact(session)
    event = await factories.make_event(session)
    await factories.make_invitee(session, event, contact, responded_at=utcnow())
    await session.commit()
    await editor.submit("/language", {"language": "de", "next": "/contacts"})

    await editor.submit(f"/contacts/{contact.id}/delete", {"confirm": "yes"})

    with use_locale("de"):
        expected = gettext("Deleted contact")
    assert (await fresh(session, contact.id)).name == expected  # type: ignore[union-attr]


async def test_persons_page_shows_their_history_across_events(
    editor: Browser, session: Any
) -> None:
    contact = await factories.make_contact(session)
    earlier = await factories.make_event(
        session,
        slug="fruehjahr",
        title="Frühjahrstreffen",
        starts_at=utcnow().replace(microsecond=0).replace(year=2025),
    )
    later = await factories.make_event(session)
    await factories.make_invitee(
        session, earlier, contact, status="accepted", responded_at=utcnow()
    )
    await factories.make_invitee(session, later, contact)
    await session.commit()

    response = await editor.get(f"/contacts/{contact.id}")

    page = text_of(response.text)
    assert page.index("Bloggertreffen Montabaur") < page.index("Frühjahrstreffen")  # latest first
    assert 'href="/events/fruehjahr/guests"' in response.text
    assert "Accepted" in page
    assert "Not invited yet" in page


async def test_person_can_be_put_on_an_event_from_their_page(editor: Browser, session: Any) -> None:
    contact = await factories.make_contact(session)
    event = await factories.make_event(session)
    await session.commit()

    page = await editor.get(f"/contacts/{contact.id}")
    assert f'<option value="{event.id}">' in page.text

    response = await editor.submit(
        f"/contacts/{contact.id}/guest-lists", {"event_id": str(event.id)}
    )
    assert response.status_code == 303
    again = await editor.submit(f"/contacts/{contact.id}/guest-lists", {"event_id": str(event.id)})
    assert again.status_code == 303
    assert len(await rows(session, select(Invitee))) == 1
    wrong = await editor.submit(f"/contacts/{contact.id}/guest-lists", {"event_id": "abc"})
    assert wrong.status_code == 303
    follow = await editor.get(wrong.headers["location"])
    assert "There is no such event." in text_of(follow.text)


async def _address_book(session: Any) -> None:
    people = [
        ("Özlem Yılmaz", "oezlem@example.org", "Montabaur", ["critic"]),
        ("Jonas Schmidt", "jonas@example.net", "Hamburg", ["podcast", "dsl"]),
        ("Lea Schneider", "lea@example.org", "München", ["video"]),
        ("Anna Müller", "anna@example.com", "Berlin", ["podcast"]),
    ]
    tags: dict[str, Tag] = {}
    for name, email, city, tag_names in people:
        await factories.make_contact(
            session,
            name=name,
            email=email,
            city=city,
            tags=[tags.setdefault(t, Tag(name=t)) for t in tag_names],
        )
    await session.commit()


async def test_list_is_sorted_by_name_regardless_of_accents(editor: Browser, session: Any) -> None:
    await _address_book(session)

    page = text_of((await editor.get("/contacts")).text)

    assert "4 people in the address book" in page
    positions = [
        page.index(name)
        for name in ("Anna Müller", "Jonas Schmidt", "Lea Schneider", "Özlem Yılmaz")
    ]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("özlem", ["Özlem Yılmaz"]),
        ("OZLEM", ["Özlem Yılmaz"]),
        ("yilmaz", ["Özlem Yılmaz"]),
        ("munchen", ["Lea Schneider"]),
        ("MÜNCHEN", ["Lea Schneider"]),
        ("example.net", ["Jonas Schmidt"]),
        ("podcast", ["Anna Müller", "Jonas Schmidt"]),
        ("podcast berlin", ["Anna Müller"]),
        ("100%", []),
        ("_", []),
    ],
)
async def test_search_ignores_case_and_accents_and_covers_tags(
    editor: Browser, session: Any, query: str, found: list[str]
) -> None:
    await _address_book(session)

    response = await editor.get("/contacts", params={"q": query}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text
    assert names_in(response.text) == found


async def test_live_search_returns_the_fragment_and_plain_get_the_page(
    editor: Browser, session: Any
) -> None:
    await _address_book(session)

    fragment = await editor.get("/contacts?q=lea", headers={"HX-Request": "true"})
    full = await editor.get("/contacts?q=lea")

    assert fragment.headers["Vary"] == "HX-Request"
    assert "<html" not in fragment.text
    assert "1 person found" in text_of(fragment.text)
    assert "<html" in full.text
    assert "1 person found" in text_of(full.text)
    assert 'hx-trigger="input changed delay:300ms, search"' in full.text
    assert 'value="lea"' in full.text


async def test_tag_filter(editor: Browser, session: Any) -> None:
    await _address_book(session)

    response = await editor.get("/contacts?tag=podcast")

    assert names_in(response.text) == ["Anna Müller", "Jonas Schmidt"]
    assert '<option value="podcast" selected>' in response.text
    assert len(names_in((await editor.get("/contacts?tag=PODCAST")).text)) == 2
    assert "Nobody matches this search." in text_of(
        (await editor.get("/contacts?tag=nonexistent")).text
    )


async def test_long_lists_are_paged(editor: Browser, session: Any) -> None:
    for i in range(55):
        await factories.make_contact(session, name=f"Person {i:02}", email=f"p{i}@example.org")
    await session.commit()

    first = await editor.get("/contacts")
    second = await editor.get("/contacts?page=2")

    assert len(names_in(first.text)) == 50
    assert names_in(second.text) == [f"Person {i}" for i in range(50, 55)]
    assert "1–50 of 55" in text_of(first.text)
    assert "51–55 of 55" in text_of(second.text)
    assert 'href="/contacts?page=2"' in first.text
    assert "51–55 of 55" in text_of((await editor.get("/contacts?page=999999")).text)


async def test_viewers_look_but_do_not_change(viewer: Browser, session: Any) -> None:
    contact = await factories.make_contact(session)
    await session.commit()

    assert (await viewer.get("/contacts")).status_code == 200
    page = await viewer.get(f"/contacts/{contact.id}")
    assert page.status_code == 200
    assert "/edit" not in page.text
    assert "/delete" not in page.text
    assert 'href="/contacts/new"' not in (await viewer.get("/contacts")).text
    for url in ("/contacts/new", f"/contacts/{contact.id}/edit", "/contacts/import"):
        assert (await viewer.get(url)).status_code == 403
    for url in (
        "/contacts/new",
        f"/contacts/{contact.id}/edit",
        f"/contacts/{contact.id}/delete",
        "/contacts/import",
        "/contacts/import/confirm",
        f"/contacts/{contact.id}/guest-lists",
    ):
        response = await viewer.submit(url, PERSON)
        assert response.status_code == 403, url
    assert await fresh(session, contact.id) is not None


async def test_signed_out_visitors_are_sent_to_login(browser: Browser, admin: Any) -> None:
    response = await browser.get("/contacts")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    "path",
    [
        "/contacts/abc",
        "/contacts/99999",
        "/contacts/0",
        "/contacts/-1",
        "/contacts/99999999999999999999",
        "/contacts/1.5",
        "/contacts/%F0%9F%98%80",
        "/contacts/99999/edit",
        "/contacts/%20",
    ],
)
async def test_wrong_ids_get_a_clear_not_found(editor: Browser, path: str) -> None:
    response = await editor.get(path)

    assert response.status_code == 404
    assert "There is no such contact" in text_of(response.text)


@pytest.mark.parametrize(
    "path", ["/contacts/abc/delete", "/contacts/99999999999/edit", "/contacts/-5/guest-lists"]
)
async def test_wrong_ids_in_posts_get_a_clear_not_found(editor: Browser, path: str) -> None:
    response = await editor.submit(path, PERSON)

    assert response.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 10_000},
        {"q": "<script>alert(1)</script>"},
        {"q": "\x00\u202e\ufeff"},
        {"tag": "'; DROP TABLE contact;--"},
        {"page": "abc"},
        {"page": "-3"},
        {"page": "9" * 50},
        {"q": "%_\\"},
    ],
)
async def test_odd_searches_are_harmless(
    editor: Browser, session: Any, params: dict[str, str]
) -> None:
    await _address_book(session)

    response = await editor.get("/contacts", params=params)

    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "x" * 10_000}, "At most 200 characters"),
        ({"email": "x" * 10_000}, "At most 254 characters"),
        ({"blog_url": "https://" + "x" * 10_000 + ".org"}, "At most 500 characters"),
        ({"notes": "n" * 10_000}, "At most 5000 characters"),
        ({"city": "c" * 101}, "At most 100 characters"),
        ({"tags": ",".join(f"t{i}" for i in range(30))}, "At most 20 tags"),
        ({"name": "=SUM(A1)"}, "A name cannot start with ="),
        ({"name": "\u200b\u202e \x00"}, "Please enter a name."),
        ({"email": "anna@exämple..org"}, "not a valid e-mail address"),
        ({"blog_url": "javascript:alert(1)"}, "web address"),
        ({"language": "<b>de</b>"}, "Please choose German or English."),
    ],
)
async def test_hostile_input_gets_a_message_not_an_error(
    editor: Browser, session: Any, fields: dict[str, str], message: str
) -> None:
    response = await editor.submit("/contacts/new", {**PERSON, **fields})

    assert response.status_code == 422
    assert message in text_of(response.text)
    assert await rows(session, select(Contact)) == []


async def test_html_in_names_is_shown_as_text(editor: Browser, session: Any) -> None:
    response = await editor.submit(
        "/contacts/new",
        {**PERSON, "name": "<img src=x onerror=alert(1)> Anna 👩‍💻", "tags": "<b>bold</b>"},
    )
    assert response.status_code == 303

    page = await editor.get(response.headers["location"])
    listing = await editor.get("/contacts")

    for html in (page.text, listing.text):
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=alert(1)&gt; Anna 👩‍💻" in html
        assert "&lt;b&gt;bold&lt;/b&gt;" in html


async def test_missing_form_fields_are_messages_too(editor: Browser, session: Any) -> None:
    response = await editor.submit("/contacts/new", {})

    assert response.status_code == 422
    assert "Please enter a name." in text_of(response.text)


async def test_pages_render_in_german(editor: Browser, session: Any) -> None:
    contact = await factories.make_contact(session)
    event = await factories.make_event(session)
    await factories.make_invitee(session, event, contact)
    await session.commit()
    await editor.submit("/language", {"language": "de", "next": "/contacts"})

    for url in (
        "/contacts",
        f"/contacts/{contact.id}",
        f"/contacts/{contact.id}/edit",
        "/contacts/new",
        "/contacts/import",
        f"/events/{event.slug}/guests",
        f"/events/{event.slug}/guests/import",
    ):
        response = await editor.get(url)
        assert response.status_code == 200, url
        assert '<html lang="de">' in response.text
