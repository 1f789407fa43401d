"""Sending invitations from the guest list: to everyone not invited or the ones ticked, the live
progress with each person's delivery, sending one again, a new personal link, what is refused."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from meetups.db import utcnow
from meetups.events.models import EventStatus
from meetups.invitations.links import invitee_for_token, token_of
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.mail.models import OutboxStatus
from tests import factories
from tests.conftest import Browser, sign_in_as, text_of
from tests.invitations.organizer_helpers import (
    GUESTS,
    SLUG,
    add_guest,
    body_text,
    flash_of,
    invitee,
    link_path,
    outbox,
    rows,
    statuses,
    suppress,
)
from tests.smtp import SmtpServer


async def test_send_invitations_to_everyone_not_invited_yet(
    editor: Browser, session: Any, settings: Any, deliver: Any, smtp_server: SmtpServer
) -> None:
    event = await factories.make_event(session)
    anna = await add_guest(session, event, "Anna Müller")
    jonas = await add_guest(session, event, "Jonas Schmidt", language="en")
    lea = await add_guest(session, event, "Lea Schneider", settings=settings)  # invited before
    await add_guest(session, event, "Udo Unsubscribed", email="udo@example.org")
    await suppress(session, "udo@example.org")
    await session.commit()

    page = await editor.get(GUESTS)
    assert "Send invitations to 2 people" in text_of(page.text)

    response = await editor.submit(f"{GUESTS}/invite")

    assert response.status_code == 303
    assert response.headers["location"] == GUESTS
    message = flash_of(response)
    assert "2 invitations are on their way." in message
    assert "1 person was left out because they asked not to get invitations (Udo Unsubscribed)" in (
        message
    )
    assert await statuses(session, event) == {
        "Anna Müller": "invited",
        "Jonas Schmidt": "invited",
        "Lea Schneider": "invited",
        "Udo Unsubscribed": "not_invited",
    }
    queued = await outbox(session, kind="invitation")
    assert sorted(row.recipient for row in queued) == [
        "anna.muller@example.org",
        "jonas.schmidt@example.org",
    ]
    assert {row.invitee_id for row in queued} == {anna.id, jonas.id}
    assert all(row.status == OutboxStatus.queued for row in queued)
    stored = await invitee(session, anna.id)  # type: ignore[arg-type]
    assert stored.invited_at is not None
    assert stored.link_lookup
    assert (await invitee(session, lea.id)).link_nonce == lea.link_nonce  # type: ignore[arg-type]

    # The page shows the progress and keeps polling while anything waits.
    page = await editor.get(GUESTS)
    assert 'hx-get="/events/bloggertreffen-montabaur/delivery" hx-trigger="every 2s"' in page.text
    assert "2 waiting" in text_of(page.text)
    assert "Udo Unsubscribed" in text_of(page.text)
    assert "Unsubscribed" in page.text

    report = await deliver()

    assert report.sent == 2
    assert sorted(mail.recipients[0] for mail in smtp_server.messages) == [
        "anna.muller@example.org",
        "jonas.schmidt@example.org",
    ]
    fragment = await editor.get(
        f"/events/{SLUG}/delivery", headers={"HX-Request": "true", "HX-Target": "delivery"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "every 2s" not in fragment.text  # done: the polling stops
    assert fragment.headers["HX-Trigger"] == "mail-settled"  # and the list catches up
    assert "2 sent" in text_of(fragment.text)
    assert "Nothing is waiting to be sent." in text_of(fragment.text)

    # Sending again sends nothing twice.
    again = await editor.submit(f"{GUESTS}/invite")
    assert again.status_code == 303
    assert "Nobody was invited." in flash_of(again)
    assert len(await outbox(session, kind="invitation")) == 2


async def test_invitations_are_in_the_guests_language_with_their_own_link(
    editor: Browser, session: Any, settings: Any, deliver: Any, smtp_server: SmtpServer
) -> None:
    event = await factories.make_event(session)
    await add_guest(session, event, "Anna Müller", language="de")
    await add_guest(session, event, "Jonas Schmidt", language="en")
    await session.commit()

    await editor.submit(f"{GUESTS}/invite")
    await deliver()

    links = set()
    for mail in smtp_server.messages:
        message = mail.message
        text = body_text(message)
        path = link_path(text)
        links.add(path)
        found = await invitee_for_token(path.removeprefix("/i/"), session=session)
        assert found is not None
        assert message["List-Unsubscribe"]
        assert message["Reply-To"].addresses[0].addr_spec == "org@example.com"
    await session.commit()
    assert len(links) == 2


async def test_only_the_ticked_people_are_invited(
    editor: Browser, session: Any, settings: Any
) -> None:
    event = await factories.make_event(session)
    anna = await add_guest(session, event, "Anna Müller")
    await add_guest(session, event, "Jonas Schmidt")
    lea = await add_guest(session, event, "Lea Schneider", settings=settings)
    await session.commit()

    response = await editor.submit(
        f"{GUESTS}/selected",
        [("action", "invite"), ("invitee_id", str(anna.id)), ("invitee_id", str(lea.id))],
    )

    assert response.status_code == 303
    assert flash_of(response) == ("1 invitation is on its way. 1 had their invitation already.")
    assert (await statuses(session, event))["Jonas Schmidt"] == "not_invited"
    assert [row.invitee_id for row in await outbox(session)] == [anna.id]


async def test_two_organizers_sending_at_once_invite_everyone_once(
    app: Any, settings: Any, session: Any
) -> None:
    event = await factories.make_event(session)
    for number in range(12):
        await add_guest(session, event, f"Guest {number:02d}", email=f"guest{number}@example.org")
    async with Browser(app, settings.secret) as first, Browser(app, settings.secret) as second:
        await sign_in_as(first, session, "organizer")
        await sign_in_as(second, session, "admin")
        responses = await asyncio.gather(
            first.submit(f"{GUESTS}/invite"), second.submit(f"{GUESTS}/invite")
        )

    assert sorted(response.status_code for response in responses) in ([303, 303], [303, 422])
    queued = await outbox(session, kind="invitation")
    assert len(queued) == 12
    assert len({row.invitee_id for row in queued}) == 12
    assert set((await statuses(session, event)).values()) == {"invited"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"status": EventStatus.draft},
            "This event is a draft. Publish it before you send invitations.",
        ),
        ({"status": EventStatus.cancelled}, "This event is cancelled"),
        ({"archived_at": utcnow()}, "This event is archived"),
        ({"starts_at": utcnow() - timedelta(days=3)}, "This event is over"),
        ({"rsvp_deadline": utcnow() - timedelta(hours=1)}, "The deadline for answers has passed."),
    ],
)
async def test_invitations_are_refused_where_nobody_could_answer(
    editor: Browser, session: Any, change: dict[str, Any], message: str
) -> None:
    event = await factories.make_event(session, **change)
    guest = await add_guest(session, event, "Anna Müller")
    await session.commit()

    responses = [
        await editor.submit(f"{GUESTS}/invite", htmx=True),
        await editor.submit(
            f"{GUESTS}/selected", {"action": "invite", "invitee_id": str(guest.id)}, htmx=True
        ),
    ]

    for response in responses:
        assert response.status_code == 422
        assert "<html" not in response.text
        assert message in text_of(response.text)
    assert await outbox(session) == []
    assert (await invitee(session, guest.id)).status == InviteeStatus.not_invited  # type: ignore[arg-type]
    page = await editor.get(GUESTS)
    assert f"{GUESTS}/invite" not in page.text


@pytest.mark.parametrize(
    "data",
    [
        {"action": "invite"},
        {"action": "invite", "invitee_id": "abc"},
        {"action": "invite", "invitee_id": "-1"},
        {"action": "invite", "invitee_id": "0"},
        {"action": "invite", "invitee_id": "9" * 40},
        {"action": "invite", "invitee_id": "<script>alert(1)</script>"},
        {"action": "invite", "invitee_id": "12\x00"},
        {"action": "invite", "invitee_id": "99999"},
        {"action": "remind", "invitee_id": "99999"},
        {"action": "explode", "invitee_id": "1"},
        {"action": "", "invitee_id": "1"},
        {},
    ],
)
async def test_odd_selections_change_nothing(
    editor: Browser, session: Any, data: dict[str, str]
) -> None:
    event = await factories.make_event(session)
    await add_guest(session, event, "Anna Müller")
    await session.commit()

    response = await editor.submit(f"{GUESTS}/selected", data)

    assert response.status_code == 422
    assert "<script>" not in response.text.split("</head>")[1]
    assert (
        text_of(response.text).count("Please")
        + text_of(response.text).count("not on the guest list")
        >= 1
    )
    assert await outbox(session) == []


async def test_a_guest_of_another_event_cannot_be_invited_from_here(
    editor: Browser, session: Any
) -> None:
    await factories.make_event(session)
    other = await factories.make_event(session, slug="anderes-treffen", title="Anderes Treffen")
    stranger = await add_guest(session, other, "Sam Stranger")
    await session.commit()

    response = await editor.submit(
        f"{GUESTS}/selected", {"action": "invite", "invitee_id": str(stranger.id)}
    )
    one = await editor.submit(f"{GUESTS}/{stranger.id}/invite")
    detail = await editor.get(f"{GUESTS}/{stranger.id}")

    assert response.status_code == 422
    assert one.status_code == 404
    assert detail.status_code == 404
    assert await outbox(session) == []


async def test_viewers_see_the_progress_but_cannot_send(
    viewer: Browser, session: Any, settings: Any
) -> None:
    event = await factories.make_event(session)
    guest = await add_guest(session, event, "Anna Müller", settings=settings)
    await add_guest(session, event, "Jonas Schmidt")
    await session.commit()

    page = await viewer.get(GUESTS)
    detail = await viewer.get(f"{GUESTS}/{guest.id}")

    assert page.status_code == 200
    assert detail.status_code == 200
    assert f"{GUESTS}/invite" not in page.text
    assert f"{GUESTS}/remind" not in page.text
    assert 'name="invitee_id"' not in page.text
    assert "/resend" not in detail.text
    assert "/new-link" not in detail.text
    for url, data in [
        (f"{GUESTS}/invite", {}),
        (f"{GUESTS}/remind", {}),
        (f"{GUESTS}/selected", {"action": "invite", "invitee_id": str(guest.id)}),
        (f"{GUESTS}/{guest.id}/invite", {}),
        (f"{GUESTS}/{guest.id}/resend", {}),
        (f"{GUESTS}/{guest.id}/new-link", {}),
        (f"{GUESTS}/{guest.id}/remind", {}),
        (f"/events/{SLUG}/invitation", {"intro": "Hallo"}),
    ]:
        assert (await viewer.submit(url, data)).status_code == 403, url
    assert (await viewer.get(f"{GUESTS}/{guest.id}/remove")).status_code == 403
    assert await outbox(session) == []


async def test_invite_one_person_from_their_page(
    editor: Browser, session: Any, settings: Any
) -> None:
    event = await factories.make_event(session)
    guest = await add_guest(session, event, "Anna Müller")
    await session.commit()

    page = await editor.get(f"{GUESTS}/{guest.id}")
    assert f"{GUESTS}/{guest.id}/invite" in page.text

    response = await editor.submit(f"{GUESTS}/{guest.id}/invite")

    assert response.status_code == 303
    assert response.headers["location"] == f"{GUESTS}/{guest.id}"
    assert flash_of(response) == "The invitation to Anna Müller is on its way."
    assert [row.kind for row in await outbox(session)] == ["invitation"]


async def test_send_the_invitation_again_with_the_same_link(
    editor: Browser, session: Any, settings: Any, deliver: Any, smtp_server: SmtpServer
) -> None:
    event = await factories.make_event(session)
    guest = await add_guest(session, event, "Anna Müller")
    await session.commit()
    await editor.submit(f"{GUESTS}/invite")

    # While the first is still on its way, a second click sends nothing.
    early = await editor.submit(f"{GUESTS}/{guest.id}/resend", htmx=True)
    assert early.status_code == 422
    assert "An invitation to Anna Müller is on its way already." in text_of(early.text)
    await deliver()

    response = await editor.submit(f"{GUESTS}/{guest.id}/resend")
    await deliver()

    assert response.status_code == 303
    assert flash_of(response) == "The invitation to Anna Müller is on its way again."
    assert len(smtp_server.messages) == 2
    first, second = (body_text(mail.message) for mail in smtp_server.messages)
    assert link_path(first) == link_path(second)
    assert smtp_server.messages[0].message_id != smtp_server.messages[1].message_id
    history = await editor.get(f"{GUESTS}/{guest.id}")
    assert text_of(history.text).count("Invitation") >= 2


async def test_resend_is_refused_for_the_uninvited_and_the_unsubscribed(
    editor: Browser, session: Any, settings: Any
) -> None:
    event = await factories.make_event(session)
    fresh = await add_guest(session, event, "Anna Müller")
    gone = await add_guest(
        session, event, "Udo Unsubscribed", settings=settings, email="udo@example.org"
    )
    await suppress(session, "udo@example.org")
    await session.commit()

    not_yet = await editor.submit(f"{GUESTS}/{fresh.id}/resend")
    unsubscribed = await editor.submit(f"{GUESTS}/{gone.id}/resend")
    invited_anyway = await editor.submit(f"{GUESTS}/{gone.id}/invite")

    assert not_yet.status_code == 422
    assert "has not been invited yet" in text_of(not_yet.text)
    assert unsubscribed.status_code == 422
    page = text_of(unsubscribed.text)
    assert "Nothing was sent to Udo Unsubscribed" in page
    assert "Unsubscribed with the link in one of our e-mails" in page
    assert invited_anyway.status_code == 422
    assert await outbox(session) == []


async def test_a_new_link_kills_the_old_one_and_is_mailed(
    editor: Browser,
    app: Any,
    session: Any,
    settings: Any,
    deliver: Any,
    smtp_server: SmtpServer,
) -> None:
    event = await factories.make_event(session)
    guest = await add_guest(session, event, "Anna Müller", settings=settings)
    old_token = token_of(guest, settings.secret)
    await session.commit()

    response = await editor.submit(f"{GUESTS}/{guest.id}/new-link")
    await deliver()

    assert response.status_code == 303
    assert "The old link of Anna Müller no longer works." in flash_of(response)
    assert await invitee_for_token(old_token, session=session) is None  # type: ignore[arg-type]
    await session.commit()
    new_path = link_path(body_text(smtp_server.messages[0].message))
    assert new_path != f"/i/{old_token}"
    async with Browser(app, settings.secret) as stranger:
        assert (await stranger.get(f"/i/{old_token}")).status_code == 404
        assert (await stranger.get(new_path)).status_code == 200


async def test_a_new_link_for_an_unsubscribed_guest_is_not_mailed(
    editor: Browser, session: Any, settings: Any
) -> None:
    event = await factories.make_event(session)
    guest = await add_guest(
        session, event, "Udo Unsubscribed", settings=settings, email="udo@example.org"
    )
    old_nonce = guest.link_nonce
    await suppress(session, "udo@example.org")
    await session.commit()

    response = await editor.submit(f"{GUESTS}/{guest.id}/new-link")

    assert response.status_code == 303
    assert "No e-mail was sent" in flash_of(response)
    assert (await invitee(session, guest.id)).link_nonce != old_nonce  # type: ignore[arg-type]
    assert await outbox(session) == []


async def test_links_of_past_events_are_not_replaced(
    editor: Browser, session: Any, settings: Any
) -> None:
    event = await factories.make_event(session, starts_at=utcnow() - timedelta(days=2))
    guest = await add_guest(session, event, "Anna Müller", settings=settings)
    old_nonce = guest.link_nonce
    await session.commit()

    page = await editor.get(f"{GUESTS}/{guest.id}")
    response = await editor.submit(f"{GUESTS}/{guest.id}/new-link")

    assert "/new-link" not in page.text
    assert response.status_code == 422
    assert "links cannot be replaced" in text_of(response.text)
    assert (await invitee(session, guest.id)).link_nonce == old_nonce  # type: ignore[arg-type]


async def test_failures_show_the_servers_reason_and_count_as_bounced(
    editor: Browser, session: Any, settings: Any, deliver: Any, smtp_server: SmtpServer
) -> None:
    event = await factories.make_event(session)
    await add_guest(session, event, "Anna Müller")
    bad = await add_guest(session, event, "Bruno Bounce", email="bruno@example.org")
    await session.commit()
    smtp_server.behaviour.refuse_recipients = {
        "bruno@example.org": "550 5.1.1 <bruno@example.org>: Recipient address rejected"
    }

    await editor.submit(f"{GUESTS}/invite")
    await deliver()

    page = await editor.get(GUESTS)
    text = text_of(page.text)
    assert "1 sent" in text
    assert "1 failed" in text
    assert "Recipient address rejected" in text
    assert "every 2s" not in page.text
    bounced = await editor.get(f"{GUESTS}?status=bounced")
    from tests.invitations.organizer_helpers import listed_names, stat

    assert listed_names(bounced.text) == ["Bruno Bounce"]
    assert stat(page.text, "bounced") == "1"
    detail = await editor.get(f"{GUESTS}/{bad.id}")
    assert "Recipient address rejected" in text_of(detail.text)
    assert "Send the invitation again" in text_of(detail.text)

    # Sent again and delivered: no longer bounced.
    smtp_server.behaviour.refuse_recipients = None
    await editor.submit(f"{GUESTS}/{bad.id}/resend")
    await deliver()
    assert stat((await editor.get(GUESTS)).text, "bounced") == "0"


async def test_temporary_failures_show_that_they_are_retried(
    editor: Browser, session: Any, deliver: Any, smtp_server: SmtpServer
) -> None:
    event = await factories.make_event(session)
    await add_guest(session, event, "Anna Müller")
    await session.commit()
    smtp_server.behaviour.temporary_failures = 1

    await editor.submit(f"{GUESTS}/invite")
    await deliver()

    page = await editor.get(GUESTS)
    text = text_of(page.text)
    assert "Queued, will try again" in text
    assert "451" in text
    assert 'hx-trigger="every 2s"' in page.text  # still waiting: still polling


@pytest.mark.parametrize("invitee_id", ["abc", "0", "-1", "99999", "9" * 30, "%00"])
async def test_odd_guest_addresses_are_not_found(
    editor: Browser, session: Any, invitee_id: str
) -> None:
    await factories.make_event(session)
    await session.commit()

    assert (await editor.get(f"{GUESTS}/{invitee_id}")).status_code == 404
    for action in ("invite", "resend", "new-link", "remind"):
        response = await editor.submit(f"{GUESTS}/{invitee_id}/{action}")
        assert response.status_code == 404, action
    assert await outbox(session) == []


async def test_the_guest_page_shows_answers_and_email_history(
    editor: Browser, session: Any, settings: Any
) -> None:
    event = await factories.make_event(session, plus_ones_allowed=True, capacity=10)
    guest = await add_guest(
        session,
        event,
        "Anna Müller",
        settings=settings,
        status=InviteeStatus.accepted,
        responded_at=utcnow(),
        opened_at=utcnow(),
        seats=2,
        plus_one_name="Ben Müller",
        dietary_needs="vegetarisch, keine Nüsse",
        accessibility_needs="Rollstuhl",
        travelling_from="Köln",
        needs_hotel=True,
        comment="<b>Freue mich!</b>",
    )
    await session.commit()

    page = await editor.get(f"{GUESTS}/{guest.id}")

    assert page.status_code == 200
    text = text_of(page.text)
    for expected in (
        "Anna Müller",
        "Accepted",
        "Ben Müller",
        "vegetarisch, keine Nüsse",
        "Rollstuhl",
        "Köln",
        "Nothing was sent to them yet.",
    ):
        assert expected in text, expected
    assert "&lt;b&gt;Freue mich!&lt;/b&gt;" in page.text
    listing = await editor.get(GUESTS)
    assert "+1: Ben Müller" in text_of(listing.text)
    assert "Diet: vegetarisch, keine Nüsse" in text_of(listing.text)


async def test_the_list_refreshes_itself_when_the_mail_has_gone(
    editor: Browser, session: Any
) -> None:
    event = await factories.make_event(session)
    await add_guest(session, event, "Anna Müller")
    await session.commit()

    page = await editor.get(GUESTS)
    stats = await editor.get(GUESTS, headers={"HX-Request": "true", "HX-Target": "guest-stats"})
    listing = await editor.get(GUESTS, headers={"HX-Request": "true", "HX-Target": "guests"})

    assert 'hx-trigger="mail-settled from:body"' in page.text
    assert stats.text.lstrip().startswith("<nav")
    assert "<table" not in stats.text
    assert "<table" in listing.text
    assert 'id="guest-stats"' not in listing.text


async def test_the_delivery_address_without_htmx_goes_to_the_list(
    editor: Browser, session: Any
) -> None:
    await factories.make_event(session)
    await session.commit()

    response = await editor.get(f"/events/{SLUG}/delivery")

    assert response.status_code == 303
    assert response.headers["location"] == f"{GUESTS}#delivery"


async def test_nobody_invited_is_reported_when_everyone_is_unsubscribed(
    editor: Browser, session: Any
) -> None:
    event = await factories.make_event(session)
    await add_guest(session, event, "Udo Unsubscribed", email="udo@example.org")
    await suppress(session, "udo@example.org")
    await session.commit()

    page = await editor.get(GUESTS)
    response = await editor.submit(f"{GUESTS}/invite")

    assert "Everyone on the list who can get e-mail has been invited." in text_of(page.text)
    assert "1 person on the list asked not to get invitations or reminders" in text_of(page.text)
    assert response.status_code == 303
    assert flash_of(response).startswith("Nobody was invited. 1 person was left out")
    assert await rows(session, select(Invitee).where(Invitee.status == InviteeStatus.invited)) == []


async def test_every_count_on_the_guest_list_is_exact(
    editor: Browser, session: Any, settings: Any
) -> None:
    from meetups.mail.models import OutboxMessage
    from tests.invitations.organizer_helpers import listed_names, stat

    event = await factories.make_event(session, capacity=10, plus_ones_allowed=True)
    now = utcnow()
    await add_guest(session, event, "Nina Neu")
    await add_guest(session, event, "Nora Neu")
    await add_guest(session, event, "Ingo Offen", settings=settings, opened_at=now)
    bounced = await add_guest(session, event, "Bruno Bounce", settings=settings)
    await add_guest(
        session,
        event,
        "Ali Zusage",
        settings=settings,
        status=InviteeStatus.accepted,
        seats=2,
        plus_one_name="Ben",
        opened_at=now,
        responded_at=now,
    )
    await add_guest(
        session,
        event,
        "Anke Zusage",
        settings=settings,
        status=InviteeStatus.accepted,
        seats=1,
        opened_at=now,
        responded_at=now,
    )
    await add_guest(session, event, "Mia Vielleicht", settings=settings, status=InviteeStatus.maybe)
    await add_guest(session, event, "Dora Absage", settings=settings, status=InviteeStatus.declined)
    await add_guest(
        session,
        event,
        "Wim Warteliste",
        settings=settings,
        status=InviteeStatus.waitlisted,
        waitlisted_at=now,
    )
    await add_guest(session, event, "Udo Abgemeldet", email="udo@example.org")
    await suppress(session, "udo@example.org")
    session.add(
        OutboxMessage(
            message_id="<bounce@test>",
            kind="invitation",
            event_id=event.id,
            invitee_id=bounced.id,
            recipient="bruno.bounce@example.org",
            subject="Einladung",
            raw="",
            status=OutboxStatus.failed,
            attempts=1,
            last_error="550 No such user",
        )
    )
    await session.commit()

    page = (await editor.get(GUESTS)).text

    expected = {
        "not_invited": 3, "all_invited": 7, "opened": 3, "invited": 2, "accepted": 2,
        "maybe": 1, "declined": 1, "waitlisted": 1, "bounced": 1, "unsubscribed": 1,
    }  # fmt: skip
    for key, count in expected.items():
        assert stat(page, key).startswith(str(count)), key
        listed = listed_names((await editor.get(GUESTS, params={"status": key})).text)
        assert len(listed) == count, key
    assert "(+1 plus-one)" in text_of(page)
    assert "10 On the list" in text_of(page)
