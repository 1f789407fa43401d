"""The feedback form behind the personal link: phone-first page, errors in place, one response,
anonymous answers with the edit code held by the invitee, and the link's own protections."""

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import select

from meetups.db import utcnow
from meetups.feedback.models import FeedbackResponse
from meetups.feedback.public_routes import code_cookie
from meetups.invitations.models import InviteeStatus
from meetups.mail.models import OutboxMessage
from tests.conftest import Browser, text_of
from tests.feedback.helpers import attendee, by_kind, default_form, past_event, rows


class BrowserAt(Browser):
    """A browser at a client address of its own (throttling counts per address)."""

    def __init__(self, app: Any, secret: bytes, address: str) -> None:
        httpx.AsyncClient.__init__(
            self,
            transport=httpx.ASGITransport(app=app, client=(address, 40000)),
            base_url="http://testserver",
        )
        self.secret = secret


async def _guest(session: Any, settings: Any, **event_fields: Any) -> dict[str, Any]:
    event = await past_event(session, **event_fields)
    questions = await default_form(session, event)
    invitee, token = await attendee(session, settings, event, "Anna Müller")
    await session.commit()
    return {"event": event, "questions": questions, "invitee": invitee, "token": token}


def _required(questions: list[Any], rating: str = "4", nps: str = "9") -> dict[str, str]:
    return {questions[0].field_name: rating, by_kind(questions, "nps").field_name: nps}


async def test_the_form_opens_from_the_link_with_private_headers(
    browser: Browser, session: Any, settings: Any
) -> None:
    guest = await _guest(session, settings)
    page = await browser.get(f"/i/{guest['token']}/feedback")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "noindex" in page.headers["x-robots-tag"]
    assert 'name="viewport"' in page.text
    assert "How did you like the event overall?" in page.text
    assert "The organizers see your name with your answers." in page.text
    assert 'class="site-header"' not in page.text  # no organizer navigation
    # Opening the page changes nothing.
    assert await rows(session, select(FeedbackResponse)) == []


async def test_required_questions_are_shown_with_their_error_and_the_answers_kept(
    browser: Browser, session: Any, settings: Any
) -> None:
    guest = await _guest(session, settings)
    questions = guest["questions"]
    second = questions[1]
    response = await browser.submit(
        f"/i/{guest['token']}/feedback", {second.field_name: "2", "lang": "en"}
    )
    assert response.status_code == 422
    overall = questions[0].field_name
    assert f'id="e-{overall}"' in response.text
    assert "Please answer this question." in response.text
    assert re.search(rf'name="{second.field_name}" value="2" checked', response.text)
    fragment = await browser.submit(
        f"/i/{guest['token']}/feedback", {second.field_name: "9"}, htmx=True
    )
    assert fragment.status_code == 422
    assert "<html" not in fragment.text
    assert "Please choose a number from 1 to 5." in fragment.text
    assert await rows(session, select(FeedbackResponse)) == []


async def test_answering_then_changing_the_answers(
    browser: Browser, session: Any, settings: Any
) -> None:
    guest = await _guest(session, settings)
    questions = guest["questions"]
    url = f"/i/{guest['token']}/feedback"
    sent = await browser.submit(url, {**_required(questions), "lang": "en"})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{url}?lang=en#feedback"
    page = await browser.get(sent.headers["location"])
    assert "Thank you! Your answers are saved." in page.text
    assert "Save my changes" in page.text
    assert re.search(rf'name="{questions[0].field_name}" value="4" checked', page.text)
    # With htmx the form's block comes back in place, with the answers as stored.
    changed = await browser.submit(url, _required(questions, rating="2"), htmx=True)
    assert changed.status_code == 200
    assert "<html" not in changed.text
    assert "Thank you! Your changed answers are saved." in changed.text
    assert re.search(rf'name="{questions[0].field_name}" value="2" checked', changed.text)
    responses = await rows(session, select(FeedbackResponse))
    assert len(responses) == 1
    assert responses[0].invitee_id == guest["invitee"].id


async def test_anonymous_answers_are_changed_with_the_code_the_invitee_holds(
    app: Any, browser: Browser, session: Any, settings: Any
) -> None:
    guest = await _guest(session, settings, anonymous=True)
    questions, token = guest["questions"], guest["token"]
    url = f"/i/{token}/feedback"
    page = await browser.get(url)
    assert "Your answers are anonymous" in page.text
    sent = await browser.submit(url, _required(questions))
    assert sent.status_code == 303
    cookie = re.search(
        rf"{code_cookie(guest['event'])}=([A-Z2-7]+);[^,]*Path={url}", sent.headers["set-cookie"]
    )
    assert cookie, sent.headers["set-cookie"]
    assert "HttpOnly" in sent.headers["set-cookie"]
    code = cookie.group(1)
    shown = await browser.get(url)
    assert "Your code for changes" in shown.text
    assert "-".join(code[i : i + 4] for i in range(0, 16, 4)) in shown.text
    assert re.search(rf'name="{questions[0].field_name}" value="4" checked', shown.text)
    # The code is nowhere in the database or the outbox.
    assert await rows(session, select(OutboxMessage)) == []
    stored = (await rows(session, select(FeedbackResponse)))[0]
    assert code not in str(stored.model_dump())

    # Another device: answered already, the answers are not shown without the code.
    async with Browser(app, settings.secret) as phone:
        locked = await phone.get(url)
        assert "You have answered already" in locked.text
        # Not the bare field name: a random personal link may contain "q1".
        assert f'name="{questions[0].field_name}"' not in locked.text
        again = await phone.submit(url, _required(questions, rating="1"))
        assert again.status_code == 409
        assert "enter the edit code" in again.text
        wrong = await phone.submit(f"{url}/code", {"edit_code": "AAAA-BBBB-CCCC-DDDD"})
        assert wrong.status_code == 422
        assert 'id="e-edit_code"' in wrong.text
        right = await phone.submit(f"{url}/code", {"edit_code": code.lower()})
        assert right.status_code == 303
        assert code in right.headers["set-cookie"]
        changed = await phone.submit(url, _required(questions, rating="1"))
        assert changed.status_code == 303
        forgot = await phone.submit(f"{url}/forget")
        assert forgot.status_code == 303
        assert f'{code_cookie(guest["event"])}=""' in forgot.headers["set-cookie"]
    responses = await rows(session, select(FeedbackResponse))
    assert len(responses) == 1


async def test_two_anonymous_submissions_at_the_same_moment_make_one_response(
    app: Any, session: Any, settings: Any
) -> None:
    guest = await _guest(session, settings, anonymous=True)
    url = f"/i/{guest['token']}/feedback"
    async with Browser(app, settings.secret) as first, Browser(app, settings.secret) as second:
        await first.csrf_token()
        await second.csrf_token()
        answers = await asyncio.gather(
            first.submit(url, _required(guest["questions"], rating="5")),
            second.submit(url, _required(guest["questions"], rating="1")),
        )
    assert sorted(a.status_code for a in answers) == [303, 409]
    assert len(await rows(session, select(FeedbackResponse))) == 1


async def test_wrong_links_get_the_friendly_page_and_are_throttled(
    app: Any, session: Any, settings: Any
) -> None:
    guest = await _guest(session, settings)
    async with BrowserAt(app, settings.secret, "203.0.113.9") as browser:
        for number in range(20):
            wrong = await browser.get(f"/i/{'C' * 31}{number % 10}/feedback")
            assert wrong.status_code == 404
            assert wrong.headers["referrer-policy"] == "no-referrer"
        assert "This link does not work" in text_of(wrong.text)
        throttled = await browser.get(f"/i/{guest['token']}/feedback")
        assert throttled.status_code == 429
        refused = await browser.submit(
            f"/i/{guest['token']}/feedback", _required(guest["questions"])
        )
        assert refused.status_code == 429
    assert await rows(session, select(FeedbackResponse)) == []


async def test_hostile_input_never_breaks_the_page(
    browser: Browser, session: Any, settings: Any
) -> None:
    guest = await _guest(session, settings)
    url = f"/i/{guest['token']}/feedback"
    questions = guest["questions"]
    liked = by_kind(questions, "multiple")
    for data in (
        {questions[0].field_name: "\x00"},
        {questions[0].field_name: "5" * 5000, liked.field_name: "-1"},
        {liked.field_name: "9" * 40},
        [(liked.field_name, str(liked.options[0].id))] * 80,
        {"lang": "xx", by_kind(questions, "long_text").field_name: "\u202e" * 6000},
    ):
        response = await browser.submit(url, data)
        assert response.status_code == 422, data
    assert (await browser.submit(f"{url}/code", {"edit_code": "\x00" * 300})).status_code == 422
    for path in (f"{url}/nothing-here", f"/i/{guest['token']}/coverage/abc/remove"):
        assert (await browser.get(path)).status_code in (303, 404, 405)


async def test_who_may_answer_is_told_why_not(
    browser: Browser, session: Any, settings: Any
) -> None:
    event = await past_event(
        session,
        starts_at=utcnow() + timedelta(days=2),
        ends_at=utcnow() + timedelta(days=2, hours=4),
        feedback_closes_at=utcnow() + timedelta(days=16),
    )
    questions = await default_form(session, event)
    _guest_invitee, early = await attendee(session, settings, event, "Anna Müller")
    _declined, declined = await attendee(
        session, settings, event, "Dora Declined", status=InviteeStatus.declined
    )
    await session.commit()
    page = await browser.get(f"/i/{early}/feedback")
    assert "opens when the event is over" in page.text
    assert (await browser.submit(f"/i/{early}/feedback", _required(questions))).status_code == 409
    page = await browser.get(f"/i/{declined}/feedback")
    assert "for those who took part" in page.text


async def test_the_invitation_page_leads_to_feedback_after_the_event(
    browser: Browser, session: Any, settings: Any
) -> None:
    guest = await _guest(session, settings)
    page = await browser.get(f"/i/{guest['token']}?lang=en")
    assert f'href="/i/{guest["token"]}/feedback?lang=en"' in page.text
    assert f'href="/i/{guest["token"]}/coverage?lang=en"' in page.text
    upcoming = await past_event(
        session,
        slug="upcoming",
        starts_at=utcnow() + timedelta(days=2),
        ends_at=utcnow() + timedelta(days=2, hours=4),
    )
    _invitee, token = await attendee(session, settings, upcoming, "Ben Baker")
    await session.commit()
    before = await browser.get(f"/i/{token}")
    assert f"/i/{token}/feedback" not in before.text
    assert "After the event" not in before.text
