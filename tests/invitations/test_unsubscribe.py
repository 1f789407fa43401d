"""Unsubscribing: one-click POST (RFC 8058) without cookies or redirect, a page with a button on
GET, the suppression list, and links that cannot be forged."""

import asyncio
import email
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import httpx
import pytest
from sqlmodel import select

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.invitations import messages, unsubscribe
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, Suppression
from tests import factories
from tests.conftest import Browser, text_of
from tests.invitations.rsvp_helpers import all_rows, invite

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
async def person(session: Any, settings: Settings) -> dict[str, Any]:
    event = await factories.make_event(session)
    contact = await factories.make_contact(session, language="en")
    invitee, token = await invite(session, settings, event, contact)
    await session.commit()
    path = unsubscribe.unsubscribe_url(contact, settings).removeprefix("http://testserver")
    return {"event": event, "contact": contact, "invitee": invitee, "token": token, "path": path}


@pytest.fixture
async def mail_client(app: Any) -> Any:
    """What a mail provider's server is: no cookies, no CSRF token, no browser headers."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def suppressions(session: Any) -> list[Suppression]:
    return await all_rows(session, select(Suppression))


async def test_one_click_unsubscribe_needs_no_cookies_and_does_not_redirect(
    mail_client: httpx.AsyncClient, person: dict[str, Any], session: Any
) -> None:
    assert person["path"].startswith("/unsubscribe/")
    response = await mail_client.post(person["path"], data=ONE_CLICK)

    assert response.status_code == 200
    assert "location" not in response.headers
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "You are unsubscribed" in text_of(response.text)
    rows = await suppressions(session)
    assert [(row.email, row.reason) for row in rows] == [
        ("anna.mueller@example.com", unsubscribe.REASON_UNSUBSCRIBED)
    ]

    # Again (providers retry): the same answer, still one entry.
    again = await mail_client.post(person["path"], data=ONE_CLICK)
    assert again.status_code == 200
    assert len(await suppressions(session)) == 1

    # Multipart bodies and foreign origins are fine too: the link itself is the proof.
    multipart = await mail_client.post(
        person["path"],
        files={"List-Unsubscribe": (None, "One-Click")},
        headers={"Origin": "https://mail.example.net"},
    )
    assert multipart.status_code == 200
    assert len(await suppressions(session)) == 1


async def test_two_clicks_at_the_same_moment_make_one_entry(
    mail_client: httpx.AsyncClient, person: dict[str, Any], session: Any
) -> None:
    responses = await asyncio.gather(
        *(mail_client.post(person["path"], data=ONE_CLICK) for _ in range(5))
    )
    assert [response.status_code for response in responses] == [200] * 5
    assert len(await suppressions(session)) == 1


async def test_opening_the_link_shows_a_page_with_a_button_and_changes_nothing(
    browser: Browser, person: dict[str, Any], session: Any
) -> None:
    page = await browser.get(person["path"])

    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    text = text_of(page.text)
    assert "Unsubscribe from invitations" in text
    assert "an•••@example.com" in text  # recognizable, not harvestable
    assert "anna.mueller@example.com" not in page.text
    assert f'action="{person["path"]}"' in page.text
    assert 'method="post"' in page.text
    assert await suppressions(session) == []

    # The button posts like a browser form: with cookies and the page's token, no redirect.
    done = await browser.submit(person["path"], {})
    assert done.status_code == 200
    assert "We will send no further invitations or reminders" in text_of(done.text)
    assert len(await suppressions(session)) == 1
    assert "You are unsubscribed" in text_of((await browser.get(person["path"])).text)


async def test_the_page_is_in_the_contacts_language(
    browser: Browser, person: dict[str, Any], session: Any
) -> None:
    contact = await session.get(Contact, person["contact"].id)
    contact.language = "de"
    session.add(contact)
    await session.commit()
    page = await browser.get(person["path"])
    assert '<html lang="de">' in page.text
    assert "Von Einladungen abmelden" in text_of(page.text)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda path: path[:-1] + ("A" if path[-1] != "A" else "B"),  # forged signature
        lambda path: path.replace("/unsubscribe/", "/unsubscribe/9"),  # another contact
        lambda path: "/unsubscribe/0-" + "A" * 32,
        lambda path: "/unsubscribe/99999999999999-" + "A" * 32,
        lambda path: "/unsubscribe/x",
        lambda path: "/unsubscribe/<script>alert(1)</script>",
        lambda path: path + "-extra",
    ],
)
async def test_wrong_links_get_a_friendly_page_and_suppress_nothing(
    mail_client: httpx.AsyncClient,
    browser: Browser,
    person: dict[str, Any],
    session: Any,
    mangle: Any,
) -> None:
    path = mangle(person["path"])
    for response in (
        await mail_client.post(path, data=ONE_CLICK),
        await browser.get(path),
    ):
        assert response.status_code == 404
        assert "location" not in response.headers
        assert "This link does not work" in text_of(response.text)
        assert "<script>alert(1)</script>" not in response.text
    assert await suppressions(session) == []


async def test_the_link_outlives_a_new_personal_link_but_not_a_new_address(
    mail_client: httpx.AsyncClient, person: dict[str, Any], session: Any, settings: Settings
) -> None:
    invitee = await session.get(Invitee, person["invitee"].id)
    issue_link(invitee, settings.secret)  # the organizer revoked the personal link
    session.add(invitee)
    contact = await session.get(Contact, person["contact"].id)
    old_path = person["path"]
    contact.email = "anna.neu@example.com"
    session.add(contact)
    await session.commit()

    assert (await mail_client.post(old_path, data=ONE_CLICK)).status_code == 404
    assert await suppressions(session) == []
    new_path = unsubscribe.unsubscribe_url(contact, settings).removeprefix("http://testserver")
    assert (await mail_client.post(new_path, data=ONE_CLICK)).status_code == 200
    assert [row.email for row in await suppressions(session)] == ["anna.neu@example.com"]


async def test_the_link_in_a_received_invitation_unsubscribes(
    app: Any,
    mail_client: httpx.AsyncClient,
    person: dict[str, Any],
    session: Any,
    settings: Settings,
    smtp_server: Any,
    deliver: Any,
) -> None:
    invitee = await session.get(Invitee, person["invitee"].id)
    contact = await session.get(Contact, person["contact"].id)
    event = person["event"]
    messages.queue_invitation(invitee, contact, event, session=session, settings=settings)
    await session.commit()
    await deliver()

    received: EmailMessage = email.message_from_bytes(
        smtp_server.messages[0].data, _class=EmailMessage, policy=default_policy
    )  # type: ignore[assignment]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = received["List-Unsubscribe"].strip("<>")
    response = await mail_client.post(url.removeprefix("http://testserver"), data=ONE_CLICK)
    assert response.status_code == 200
    assert await unsubscribe.is_suppressed("Anna.Mueller@example.com", session=session)
    assert await unsubscribe.suppressed_addresses(
        ["anna.mueller@example.com", "bob@example.com"], session=session
    ) == {"anna.mueller@example.com"}
    await session.commit()


async def test_suppressing_is_idempotent_and_explains_itself(session: Any) -> None:
    assert await unsubscribe.suppress("Bob@Example.com ", "bounced", session=session)
    assert not await unsubscribe.suppress("bob@example.com", "unsubscribed", session=session)
    await session.commit()
    row = await unsubscribe.suppression_for("BOB@example.com", session=session)
    assert row is not None
    assert row.reason == "bounced"
    assert unsubscribe.reason_label("bounced") == "bounced"
    assert "Unsubscribed" in unsubscribe.reason_label(unsubscribe.REASON_UNSUBSCRIBED)
