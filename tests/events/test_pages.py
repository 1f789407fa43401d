"""The event pages over HTTP: list, form, overview, and every state change, for each role."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from meetups.db import Database
from meetups.events.models import Event, EventStatus
from meetups.invitations.models import Invitee, InviteeStatus
from tests import factories
from tests.conftest import Browser, text_of
from tests.events.conftest import NEXT_YEAR, event_form

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
LONG_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)


async def stored(database: Database, slug: str) -> Event | None:
    async with database.session() as session:
        return (await session.exec(select(Event).where(Event.slug == slug))).first()


async def event_count(database: Database) -> int:
    async with database.session() as session:
        return (await session.exec(select(func.count()).select_from(Event))).one()


# --- Signing in and roles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/events", "/events/new", "/events/bloggertreffen-montabaur", "/events/x/edit"]
)
async def test_pages_need_a_signed_in_organizer(browser: Browser, admin: Any, path: str) -> None:
    response = await browser.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_posts_need_a_signed_in_organizer(
    browser: Browser, admin: Any, database: Database
) -> None:
    response = await browser.submit("/events/new", event_form())
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert await event_count(database) == 0


async def test_a_viewer_sees_everything_but_changes_nothing(
    viewer: Browser, session: Any, database: Database
) -> None:
    event = await factories.make_event(session, status=EventStatus.draft, starts_at=SOON)
    await session.commit()

    listing = await viewer.get("/events?section=drafts")
    assert listing.status_code == 200
    assert event.title in listing.text
    assert "/events/new" not in listing.text

    overview = await viewer.get(f"/events/{event.slug}")
    assert overview.status_code == 200
    assert event.title in overview.text
    for action in ("/edit", "/publish", "/duplicate", "/cancel", "/archive"):
        assert f"/events/{event.slug}{action}" not in overview.text

    for path in ("/events/new", f"/events/{event.slug}/edit", f"/events/{event.slug}/cancel"):
        response = await viewer.get(path)
        assert response.status_code == 403, path
        assert "Your role does not allow this" in response.text
    for path in (
        "/events/new",
        f"/events/{event.slug}/edit",
        f"/events/{event.slug}/duplicate",
        f"/events/{event.slug}/publish",
        f"/events/{event.slug}/cancel",
        f"/events/{event.slug}/archive",
        f"/events/{event.slug}/unarchive",
    ):
        response = await viewer.submit(path, {**event_form(title="Hijacked"), "confirm": "yes"})
        assert response.status_code == 403, path
    assert await event_count(database) == 1
    unchanged = await stored(database, event.slug)
    assert unchanged is not None
    assert (unchanged.title, unchanged.status, unchanged.archived_at) == (
        event.title,
        EventStatus.draft,
        None,
    )


async def test_unknown_events_get_the_not_found_page(editor: Browser) -> None:
    for path in (
        "/events/no-such-event",
        "/events/no-such-event/edit",
        "/events/NO%00PE",
        "/events/" + "x" * 300,
        "/events/%E2%80%AE%F0%9F%8E%89",
    ):
        response = await editor.get(path)
        assert response.status_code == 404, path
        assert "There is no such event." in response.text
    for action in ("duplicate", "publish", "cancel", "archive", "unarchive", "edit"):
        response = await editor.submit(f"/events/no-such-event/{action}", {"confirm": "yes"})
        assert response.status_code == 404, action


# --- Creating ---------------------------------------------------------------------------------


async def test_create_an_event_with_a_plain_form(editor: Browser, database: Database) -> None:
    form = await editor.get("/events/new")
    assert form.status_code == 200
    assert "<html" in form.text
    for legend in ("Basics", "When and where", "Guests", "Travel costs", "Feedback"):
        assert f"<legend>{legend}</legend>" in form.text
    assert 'name="csrf_token"' in form.text
    assert 'type="datetime-local"' in form.text
    assert '<option value="Europe/Berlin" selected>' in form.text  # the default zone from settings
    assert 'value="Organizer Person"' in form.text  # the contact defaults to the organizer

    response = await editor.submit("/events/new", event_form())
    assert response.status_code == 303
    assert response.headers["location"] == "/events/bloggertreffen-montabaur"

    event = await stored(database, "bloggertreffen-montabaur")
    assert event is not None
    assert event.status == EventStatus.draft
    assert event.starts_at == datetime(NEXT_YEAR, 5, 14, 12, 0, tzinfo=UTC)
    assert event.travel_cap_cents == 15000
    assert event.travel_mileage_rate_cents == 30
    assert event.capacity == 40

    page = await editor.get(response.headers["location"])
    assert "The event is saved as a draft." in page.text  # the flash message


async def test_create_with_htmx_redirects_the_client(editor: Browser, database: Database) -> None:
    response = await editor.submit("/events/new", event_form(title="Sommerfest"), htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/events/sommerfest"
    assert await stored(database, "sommerfest") is not None


async def test_the_contact_falls_back_to_the_organizer(editor: Browser, database: Database) -> None:
    await editor.submit("/events/new", event_form(contact_name="", contact_email=""))
    event = await stored(database, "bloggertreffen-montabaur")
    assert event is not None
    assert (event.contact_name, event.contact_email) == (
        "Organizer Person",
        "organizer@example.com",
    )


async def test_an_invalid_form_is_shown_again_with_its_errors(
    editor: Browser, database: Database
) -> None:
    data = event_form(
        title="", capacity="abc", ends_at=f"{NEXT_YEAR}-05-14T12:00", venue="<b>Halle</b>"
    )
    response = await editor.submit("/events/new", data)
    assert response.status_code == 422
    assert "<html" in response.text
    text = text_of(response.text)
    assert "Please correct the fields marked below" in text
    assert "Please give the event a title." in text
    assert "Please enter a whole number such as 40" in text
    assert "The end must be after the start." in text
    assert 'aria-invalid="true"' in response.text
    # What was typed comes back, escaped.
    assert 'value="abc"' in response.text
    assert 'value="&lt;b&gt;Halle&lt;/b&gt;"' in response.text
    assert "<b>Halle</b>" not in response.text
    assert await event_count(database) == 0


async def test_an_invalid_htmx_form_comes_back_as_the_form_alone(
    editor: Browser, database: Database
) -> None:
    response = await editor.submit(
        "/events/new", event_form(starts_at=f"{NEXT_YEAR}-03-28T02:30"), htmx=True
    )
    assert response.status_code == 422
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<form method="post" action="/events/new"')
    assert 'id="event-form"' in response.text
    assert "does not exist in Europe/Berlin" in response.text
    assert response.headers["Vary"] == "HX-Request"
    assert await event_count(database) == 0


async def test_full_page_or_fragment(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session, starts_at=SOON)
    await session.commit()
    htmx = {"HX-Request": "true"}
    cases = [
        ("/events/new", '<form method="post" action="/events/new"'),
        ("/events?section=upcoming", '<div id="event-sections">'),
        (f"/events/{event.slug}/edit", f'<form method="post" action="/events/{event.slug}/edit"'),
        (f"/events/{event.slug}/cancel", '<article class="narrow confirm-cancel"'),
    ]
    for path, fragment_start in cases:
        page = await editor.get(path)
        assert page.status_code == 200, path
        assert "<html" in page.text, path
        fragment = await editor.get(path, headers=htmx)
        assert fragment.status_code == 200, path
        assert "<html" not in fragment.text, path
        assert fragment.text.lstrip().startswith(fragment_start), path
        # A boosted navigation wants the whole page.
        boosted = await editor.get(path, headers={**htmx, "HX-Boosted": "true"})
        assert "<html" in boosted.text, path
        # So does the back button: htmx restores history with HX-Request set, into <body>.
        restore = await editor.get(path, headers={**htmx, "HX-History-Restore-Request": "true"})
        assert "<html" in restore.text, path
    overview = await editor.get(f"/events/{event.slug}", headers=htmx)
    assert "<html" not in overview.text
    assert 'class="event-overview"' in overview.text


# --- The overview -----------------------------------------------------------------------------


async def test_the_overview_shows_numbers_details_and_next_steps(
    editor: Browser, session: Any
) -> None:
    event = await factories.make_event(
        session,
        starts_at=datetime(NEXT_YEAR, 5, 14, 12, 0, tzinfo=UTC),
        capacity=2,
        plus_ones_allowed=True,
        travel_enabled=True,
        travel_cap_cents=15000,
        travel_categories="train,car",
        feedback_anonymous=True,
        rsvp_deadline=datetime(NEXT_YEAR, 5, 7, 21, 59, tzinfo=UTC),
    )
    for number, status in enumerate(
        [InviteeStatus.not_invited, InviteeStatus.accepted, InviteeStatus.waitlisted]
    ):
        contact = await factories.make_contact(session, email=f"guest{number}@example.com")
        await factories.make_invitee(session, event, contact, status=status)
    await session.commit()

    response = await editor.get(f"/events/{event.slug}")
    assert response.status_code == 200
    html, text = response.text, text_of(response.text)
    assert 'class="stats"' in html
    assert "3 On the guest list" in text
    assert "2 Invited" in text
    assert "1 / 2 Accepted / places" in text
    assert "1 On the waitlist" in text
    assert "1 Not invited yet" in text
    assert "<strong>Feedback</strong>" in html  # the Markdown description, rendered
    assert "2 places" in text
    assert "Guests may bring someone along." in text
    assert f"May 7, {NEXT_YEAR}, 11:59" in text
    assert "Reimbursed up to €150.00 per person." in text
    assert "Covers: Train, Car (per km)." in text
    assert "Car: €0.30 per km." in text
    assert "Answers are anonymous." in text
    assert "1 person on the guest list is not invited yet." in text
    assert f'href="/events/{event.slug}/guests"' in html
    assert 'aria-current="page">Overview' in html


async def test_a_draft_without_guests_asks_to_publish_and_add_guests(
    editor: Browser, session: Any
) -> None:
    event = await factories.make_event(
        session, status=EventStatus.draft, starts_at=SOON, description=""
    )
    await session.commit()
    text = text_of((await editor.get(f"/events/{event.slug}")).text)
    assert "This event is a draft: nobody can be invited yet." in text
    assert "Nobody is on the guest list yet." in text
    assert "Add a description" in text
    assert "Travel costs Not reimbursed." in text


async def test_markdown_in_the_description_is_sanitized(
    editor: Browser, database: Database
) -> None:
    description = (
        "# Hallo\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1))\n\n"
        "<img src=x onerror=alert(1)>\n\n**fett**"
    )
    await editor.submit("/events/new", event_form(description=description))
    response = await editor.get("/events/bloggertreffen-montabaur")
    html = response.text.split('<div class="markdown">', 1)[1].split("</section>", 1)[0]
    assert "<strong>fett</strong>" in html
    assert "<h1>Hallo</h1>" in html
    assert "<script" not in html.lower()
    assert 'href="javascript:' not in html  # left as plain text, never a link
    assert "<img" not in html
    assert response.text.lower().count("<script") == 1  # only htmx itself


async def test_the_titles_are_escaped_everywhere(editor: Browser, database: Database) -> None:
    await editor.submit("/events/new", event_form(title="<script>alert(1)</script> Treffen"))
    event = await stored(database, "script-alert-1-script-treffen")
    assert event is not None
    await editor.submit(f"/events/{event.slug}/publish")
    for path in (
        f"/events/{event.slug}",
        "/events",
        f"/events/{event.slug}/edit",
        f"/events/{event.slug}/cancel",
    ):
        html = (await editor.get(path)).text
        assert "<script>alert(1)</script>" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Treffen" in html, path


# --- Editing ----------------------------------------------------------------------------------


async def test_edit_an_event(editor: Browser, database: Database) -> None:
    await editor.submit("/events/new", event_form())
    form = await editor.get("/events/bloggertreffen-montabaur/edit")
    assert form.status_code == 200
    assert f'value="{NEXT_YEAR}-05-14T14:00"' in form.text  # shown in the event's zone
    assert 'value="150.00"' in form.text
    assert 'name="travel_category_train" value="on" checked' in form.text
    assert 'name="travel_category_hotel" value="on" >' in form.text

    response = await editor.submit(
        "/events/bloggertreffen-montabaur/edit",
        event_form(
            title="Bloggertreffen 2", timezone="America/New_York", capacity="", travel_cap="99.50"
        ),
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/events/bloggertreffen-montabaur"
    event = await stored(database, "bloggertreffen-montabaur")
    assert event is not None
    assert event.title == "Bloggertreffen 2"
    assert event.timezone == "America/New_York"
    assert event.starts_at == datetime(NEXT_YEAR, 5, 14, 18, 0, tzinfo=UTC)
    assert event.capacity is None
    assert event.travel_cap_cents == 9950


async def test_a_bad_edit_changes_nothing(editor: Browser, database: Database) -> None:
    await editor.submit("/events/new", event_form())
    before = await stored(database, "bloggertreffen-montabaur")
    response = await editor.submit(
        "/events/bloggertreffen-montabaur/edit",
        event_form(title="Neu", timezone="Mars/Base"),
        htmx=True,
    )
    assert response.status_code == 422
    assert "Please choose a time zone from the list." in response.text
    assert 'action="/events/bloggertreffen-montabaur/edit"' in response.text
    after = await stored(database, "bloggertreffen-montabaur")
    assert after is not None
    assert before is not None
    assert (after.title, after.timezone, after.updated_at) == (
        before.title,
        before.timezone,
        before.updated_at,
    )


async def test_an_archived_event_cannot_be_edited(
    editor: Browser, session: Any, database: Database
) -> None:
    event = await factories.make_event(session, starts_at=LONG_AGO, archived_at=LONG_AGO)
    await session.commit()
    response = await editor.get(f"/events/{event.slug}/edit")
    assert response.status_code == 303
    assert response.headers["location"] == f"/events/{event.slug}"
    response = await editor.submit(f"/events/{event.slug}/edit", event_form(title="Neu"))
    assert response.status_code == 303
    page = await editor.get(response.headers["location"])
    assert "Take it out of the archive to change it." in page.text
    unchanged = await stored(database, event.slug)
    assert unchanged is not None
    assert unchanged.title == event.title


# --- Duplicate, publish, cancel, archive ------------------------------------------------------


async def test_duplicate_opens_the_copy_for_editing(
    editor: Browser, session: Any, database: Database
) -> None:
    event = await factories.make_event(session, starts_at=SOON)
    contact = await factories.make_contact(session)
    await factories.make_invitee(session, event, contact)
    await session.commit()

    response = await editor.submit(f"/events/{event.slug}/duplicate")
    assert response.status_code == 303
    assert response.headers["location"] == "/events/bloggertreffen-montabaur-copy/edit"
    page = await editor.get(response.headers["location"])
    assert 'value="Bloggertreffen Montabaur (copy)"' in page.text
    assert "This is a copy without guests." in page.text

    copy = await stored(database, "bloggertreffen-montabaur-copy")
    assert copy is not None
    assert copy.status == EventStatus.draft
    async with database.session() as reader:
        guests = (
            await reader.exec(
                select(func.count()).select_from(Invitee).where(Invitee.event_id == copy.id)
            )
        ).one()
    assert guests == 0

    again = await editor.submit(f"/events/{event.slug}/duplicate", htmx=True)
    assert again.headers["HX-Redirect"] == "/events/bloggertreffen-montabaur-copy-2/edit"


async def test_publish(editor: Browser, session: Any, database: Database) -> None:
    event = await factories.make_event(session, status=EventStatus.draft, starts_at=SOON)
    await session.commit()
    overview = await editor.get(f"/events/{event.slug}")
    assert f'action="/events/{event.slug}/publish"' in overview.text

    response = await editor.submit(f"/events/{event.slug}/publish")
    assert response.status_code == 303
    assert (await stored(database, event.slug)).status == EventStatus.published  # type: ignore[union-attr]
    page = await editor.get(f"/events/{event.slug}")
    assert "The event is published." in page.text
    assert f'action="/events/{event.slug}/publish"' not in page.text

    again = await editor.submit(f"/events/{event.slug}/publish")
    assert again.status_code == 303
    assert "This event is published already." in (await editor.get(again.headers["location"])).text


async def test_cancel_with_htmx_after_the_browser_asked(
    editor: Browser, session: Any, database: Database
) -> None:
    event = await factories.make_event(session, starts_at=SOON)
    await session.commit()
    overview = await editor.get(f"/events/{event.slug}")
    assert f'hx-post="/events/{event.slug}/cancel"' in overview.text
    assert "hx-confirm=" in overview.text

    response = await editor.submit(f"/events/{event.slug}/cancel", {"confirm": "yes"}, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/events/{event.slug}"
    assert (await stored(database, event.slug)).status == EventStatus.cancelled  # type: ignore[union-attr]
    page = await editor.get(f"/events/{event.slug}")
    assert "Cancelled" in page.text
    assert f'hx-post="/events/{event.slug}/cancel"' not in page.text


async def test_cancel_without_javascript_asks_on_a_page(
    editor: Browser, session: Any, database: Database
) -> None:
    event = await factories.make_event(session, starts_at=SOON)
    contact = await factories.make_contact(session)
    await factories.make_invitee(session, event, contact, status=InviteeStatus.accepted)
    await session.commit()

    # The button without JavaScript is a link to the confirmation page; a post without the
    # confirmation changes nothing and leads there too.
    response = await editor.submit(f"/events/{event.slug}/cancel", {})
    assert response.status_code == 303
    assert response.headers["location"] == f"/events/{event.slug}/cancel"
    assert (await stored(database, event.slug)).status == EventStatus.published  # type: ignore[union-attr]

    page = await editor.get(f"/events/{event.slug}/cancel")
    assert "Cancel this event?" in page.text
    assert "1 guest has accepted." in page.text
    assert 'name="confirm" value="yes"' in page.text
    response = await editor.submit(f"/events/{event.slug}/cancel", {"confirm": "yes"})
    assert response.status_code == 303
    assert (await stored(database, event.slug)).status == EventStatus.cancelled  # type: ignore[union-attr]


async def test_archive_and_unarchive(editor: Browser, session: Any, database: Database) -> None:
    event = await factories.make_event(session, starts_at=LONG_AGO)
    await session.commit()
    response = await editor.submit(f"/events/{event.slug}/archive")
    assert response.status_code == 303
    archived = await stored(database, event.slug)
    assert archived is not None
    assert archived.archived_at is not None
    page = await editor.get(f"/events/{event.slug}")
    assert "The event is archived." in page.text
    assert f'action="/events/{event.slug}/unarchive"' in page.text
    assert f'href="/events/{event.slug}/edit"' not in page.text

    response = await editor.submit(f"/events/{event.slug}/unarchive", htmx=True)
    assert response.status_code == 204
    back = await stored(database, event.slug)
    assert back is not None
    assert back.archived_at is None


async def test_an_upcoming_event_is_not_archived(
    editor: Browser, session: Any, database: Database
) -> None:
    event = await factories.make_event(session, starts_at=SOON)
    await session.commit()
    response = await editor.submit(f"/events/{event.slug}/archive")
    assert response.status_code == 303
    assert "Cancel it first" in (await editor.get(response.headers["location"])).text
    unchanged = await stored(database, event.slug)
    assert unchanged is not None
    assert unchanged.archived_at is None


# --- The list ---------------------------------------------------------------------------------


async def test_the_list_has_sections_and_live_counts(editor: Browser, session: Any) -> None:
    soon = await factories.make_event(
        session, slug="soon", title="Soon Meetup", starts_at=SOON, capacity=30, venue="Halle 3"
    )
    await factories.make_event(
        session, slug="idea", title="Idea Meetup", status=EventStatus.draft, starts_at=SOON
    )
    await factories.make_event(session, slug="done", title="Done Meetup", starts_at=LONG_AGO)
    await factories.make_event(
        session, slug="off", title="Off Meetup", status=EventStatus.cancelled, starts_at=SOON
    )
    await factories.make_event(
        session, slug="gone", title="Gone Meetup", starts_at=LONG_AGO, archived_at=LONG_AGO
    )
    for number, status in enumerate(
        [
            InviteeStatus.accepted,
            InviteeStatus.accepted,
            InviteeStatus.invited,
            InviteeStatus.waitlisted,
            InviteeStatus.not_invited,
        ]
    ):
        contact = await factories.make_contact(session, email=f"guest{number}@example.com")
        await factories.make_invitee(session, soon, contact, status=status)
    await session.commit()

    default = await editor.get("/events")
    assert default.status_code == 200
    text = text_of(default.text)
    assert "Upcoming 1 Drafts 1 Past 2 Archived 1" in text
    assert "Soon Meetup Halle 3 Published 5 4 2 / 30 1" in text
    assert "Idea Meetup" not in text
    assert 'href="/events/new"' in default.text

    expected = {
        "drafts": ["Idea Meetup"],
        "past": ["Off Meetup", "Done Meetup"],
        "archived": ["Gone Meetup"],
        "upcoming": ["Soon Meetup"],
    }
    for section, titles in expected.items():
        page = text_of((await editor.get(f"/events?section={section}")).text)
        shown = [
            title
            for title in ("Soon Meetup", "Idea Meetup", "Done Meetup", "Off Meetup", "Gone Meetup")
            if title in page
        ]
        assert sorted(shown) == sorted(titles), section
    past = text_of((await editor.get("/events?section=past")).text)
    assert past.index("Off Meetup") < past.index("Done Meetup")


@pytest.mark.parametrize("section", ["upcoming", "drafts", "past", "archived"])
async def test_empty_sections_say_what_to_do(editor: Browser, section: str) -> None:
    response = await editor.get(f"/events?section={section}")
    assert response.status_code == 200
    assert 'class="empty-state"' in response.text
    assert "<table" not in response.text


async def test_an_unknown_section_shows_the_upcoming_events(editor: Browser) -> None:
    for section in ("nonsense", "<script>", "%00", "Upcoming"):
        response = await editor.get("/events", params={"section": section})
        assert response.status_code == 200
        assert "No upcoming events." in response.text
        assert "<script>" not in response.text.split("<body", 1)[1]


async def test_a_viewer_gets_no_new_event_button(viewer: Browser) -> None:
    response = await viewer.get("/events")
    assert response.status_code == 200
    assert 'href="/events/new"' not in response.text
    assert "When an organizer publishes an event, it appears here." in response.text


# --- Hostile input ----------------------------------------------------------------------------

HOSTILE_VALUES = [
    "",
    "x" * 10_000,
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "\u0000\u202e\ufeff",
    "Z̸̢̧̛a̶̡l̷̨g̸̢o̵̡ 🎉👩🏽‍💻",
    "abc",
    "-1",
    "1e9",
    "2027-02-30T25:61",
    "Mars/Base",
    "../../etc/passwd",
    "on",
]
FORM_FIELDS = [
    *event_form(),
    "plus_ones_allowed",
    "feedback_anonymous",
    "travel_category_hotel",
]


@pytest.mark.parametrize("field", sorted(set(FORM_FIELDS)))
async def test_hostile_input_on_every_field_never_breaks_the_page(
    editor: Browser, database: Database, field: str
) -> None:
    for value in HOSTILE_VALUES:
        response = await editor.submit("/events/new", event_form(**{field: value}), htmx=True)
        assert response.status_code in {204, 422}, (field, value, response.status_code)
        if response.status_code == 422:
            assert 'class="error"' in response.text, (field, value)
            assert "<script>alert(1)</script>" not in response.text
            assert "<svg onload" not in response.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"capacity": "abc"}, "Please enter a whole number such as 40"),
        ({"capacity": "-1"}, "At least 1, or leave it empty for no limit."),
        ({"capacity": "1e9"}, "Please enter a whole number such as 40"),
        ({"capacity": "0"}, "At least 1"),
        ({"starts_at": "next tuesday"}, "Please enter a date and time"),
        ({"starts_at": f"{NEXT_YEAR}-02-30T10:00"}, "This date or time does not exist."),
        ({"timezone": "Mars/Base"}, "Please choose a time zone from the list."),
        ({"travel_cap": "viel"}, "Please enter an amount such as 150 or 150,00."),
        (
            {"rsvp_deadline": f"{NEXT_YEAR}-06-01T10:00"},
            "The deadline for answers must be before the start.",
        ),
        ({"title": "x" * 10_000}, "At most 200 characters, please."),
    ],
)
async def test_wrong_values_get_clear_messages(
    editor: Browser, database: Database, overrides: dict[str, str], message: str
) -> None:
    response = await editor.submit("/events/new", event_form(**overrides))
    assert response.status_code == 422
    assert message in text_of(response.text)
    assert await event_count(database) == 0


async def test_odd_requests_never_give_a_server_error(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session, starts_at=SOON)
    await session.commit()
    token = await editor.csrf_token()
    headers = {"Sec-Fetch-Site": "same-origin", "X-CSRF-Token": token}
    responses = [
        await editor.post(
            "/events/new",
            content=b"\xff\xfe\x00garbage",
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        ),
        await editor.post("/events/new", json={"title": "json"}, headers=headers),
        await editor.post(
            "/events/new", data={"title": ["a", "b"], "capacity": ["1", "2"]}, headers=headers
        ),
        await editor.post(
            f"/events/{event.slug}/edit",
            files={"title": ("t.txt", b"file", "text/plain")},
            headers=headers,
        ),
        await editor.post(
            f"/events/{event.slug}/cancel",
            content=b"confirm=%ff%fe",
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        ),
        await editor.get("/events", params={"section": "x" * 5000}),
    ]
    for response in responses:
        assert response.status_code < 500, (
            response.request.url,
            response.status_code,
            response.text[:500],
        )


async def test_amounts_are_shown_and_read_the_german_way(
    editor: Browser, database: Database
) -> None:
    editor.cookies.set("meetups_lang", "de")
    form = await editor.get("/events/new")
    assert 'value="0,30"' in form.text
    # The event's language follows the organizer's.
    assert '<option value="de" selected>' in form.text
    await editor.submit(
        "/events/new", event_form(travel_cap="1.234,50", travel_mileage_rate="0,35")
    )
    event = await stored(database, "bloggertreffen-montabaur")
    assert event is not None
    assert (event.travel_cap_cents, event.travel_mileage_rate_cents) == (123450, 35)
    edit = await editor.get("/events/bloggertreffen-montabaur/edit")
    assert 'value="1234,50"' in edit.text
    assert 'value="0,35"' in edit.text
