"""The built-in mail catcher: its SMTP server, and the organizers' mail page."""

import asyncio
import re
from html import unescape
from typing import Any

import aiosmtplib
import pytest
from sqlmodel import select

from meetups.config import Settings
from meetups.db import Database
from meetups.mail.catcher import PAGE_SIZE, CatcherUnavailable, start_catcher
from meetups.mail.compose import Alternative, Attachment
from meetups.mail.models import CaughtMail
from meetups.web import create_app
from tests import factories
from tests.conftest import Browser, sign_in_as, text_of
from tests.smtp import ServerFactory, changed, make_worker, queue_messages

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
HTML = (
    '<p onclick="steal()">Hallo <b>Jürgen</b>,</p><script>alert("x")</script>'
    '<style>p { color: red }</style><img src="https://tracker.example/pixel.gif">'
    '<p><a href="https://meetups.example/r/abc" style="color: red">Antworten</a> '
    '<a href="javascript:alert(1)">böse</a></p>'
)


async def caught(database: Database) -> list[CaughtMail]:
    async with database.session() as session:
        return list((await session.exec(select(CaughtMail).order_by(CaughtMail.id))).all())  # type: ignore[arg-type]


async def deliver_to_catcher(
    database: Database, settings: Settings, count: int = 1, **fields: Any
) -> None:
    catcher = await start_catcher(database=database, settings=settings)
    try:
        await queue_messages(database, settings, count, **fields)
        report = await make_worker(database, settings).run_once()
        assert report.sent == count
    finally:
        catcher.close()


async def test_catcher_keeps_every_message(database: Database, catcher_settings: Settings) -> None:
    await deliver_to_catcher(
        database,
        catcher_settings,
        2,
        to_name="Jürgen Grünewald",
        subject="Einladung – bitte antworten",
    )

    first, second = await caught(database)
    assert first.mail_from == "team@meetups.example"
    assert (first.recipients, second.recipients) == ("anna+0@example.com", "anna+1@example.com")
    assert first.subject == "Einladung – bitte antworten"
    assert "Message-ID: <" in first.raw
    assert first.raw.isascii()


async def test_catcher_takes_any_recipient_and_odd_content(
    database: Database, catcher_settings: Settings
) -> None:
    catcher = await start_catcher(database=database, settings=catcher_settings)
    try:
        await aiosmtplib.send(
            b"Subject: =?bogus?q?x?=\r\nContent-Type: text/plain; charset=unknown-8bit\r\n\r\n"
            b"\xff\xfe body \x00",
            sender="bounce@example.net",
            recipients=["a@example.com", "b@example.org"],
            hostname="127.0.0.1",
            port=catcher_settings.mail_catcher_port,
        )
    finally:
        catcher.close()
    (mail,) = await caught(database)
    assert mail.recipients == "a@example.com, b@example.org"
    assert "\x00" not in mail.raw


async def test_catcher_refuses_to_start_on_a_port_in_use(
    database: Database, catcher_settings: Settings, smtp_servers: ServerFactory
) -> None:
    busy = await smtp_servers()
    with pytest.raises(CatcherUnavailable, match="MEETUPS_MAIL_CATCHER_PORT"):
        await start_catcher(
            database=database, settings=changed(catcher_settings, mail_catcher_port=busy.port)
        )


async def test_mail_page_lists_newest_first_and_searches_by_recipient(
    database: Database, catcher_settings: Settings, catcher_browser: Browser
) -> None:
    await deliver_to_catcher(database, catcher_settings, 3)

    page = await catcher_browser.get("/mail")
    assert page.status_code == 200
    text = text_of(page.text)
    assert text.index("Einladung 2") < text.index("Einladung 1") < text.index("Einladung 0")
    assert '<a href="/mail" aria-current="page">' in page.text  # the top navigation has it

    found = await catcher_browser.get(
        "/mail", params={"q": "ANNA+1@"}, headers={"HX-Request": "true"}
    )
    assert found.status_code == 200
    assert "<html" not in found.text  # only the results, for htmx
    assert "Einladung 1" in found.text
    assert "Einladung 0" not in found.text

    nothing = await catcher_browser.get("/mail", params={"q": "%"})
    assert "No message to this recipient." in text_of(nothing.text)


async def test_an_open_inbox_shows_new_mail_without_a_reload(
    database: Database, catcher_settings: Settings, catcher_browser: Browser
) -> None:
    await deliver_to_catcher(database, catcher_settings, 1)
    [shown] = await caught(database)

    page = await catcher_browser.get("/mail", params={"q": "anna"})
    refresh = re.search(
        r'<span class="mail-refresh" hidden hx-get="([^"]+)" hx-trigger="every 5s"', page.text
    )
    assert refresh is not None
    url = unescape(refresh.group(1))
    assert url == f"/mail?q=anna&seen={shown.id}"

    # Nothing new: 204, and htmx leaves the page as it is.
    unchanged = await catcher_browser.get(url, headers={"HX-Request": "true"})
    assert unchanged.status_code == 204
    assert unchanged.text == ""

    await deliver_to_catcher(database, catcher_settings, 2)
    changed_page = await catcher_browser.get(url, headers={"HX-Request": "true"})
    assert changed_page.status_code == 200
    assert "<html" not in changed_page.text
    assert text_of(changed_page.text).count("Einladung") == 3
    newest = max(mail.id for mail in await caught(database))
    assert f"seen={newest}" in changed_page.text  # the next question is about what is shown now

    # Emptied by someone else: the open inbox says so too.
    assert (await catcher_browser.submit("/mail/clear")).status_code == 303
    emptied = await catcher_browser.get(f"/mail?seen={newest}", headers={"HX-Request": "true"})
    assert emptied.status_code == 200
    assert "No mail yet." in text_of(emptied.text)
    # A plain page view never answers 204, and later pages do not ask again.
    assert (await catcher_browser.get("/mail?seen=0")).status_code == 200


async def test_later_inbox_pages_do_not_refresh_themselves(
    catcher_browser: Browser, session: Any
) -> None:
    for number in range(PAGE_SIZE + 1):
        session.add(CaughtMail(recipients=f"p{number}@example.com", subject="x", raw=""))
    await session.commit()

    assert "mail-refresh" in (await catcher_browser.get("/mail")).text
    assert "mail-refresh" not in (await catcher_browser.get("/mail?page=2")).text


async def test_mail_page_pages_through_many_messages(
    database: Database, catcher_settings: Settings, catcher_browser: Browser, session: Any
) -> None:
    for number in range(PAGE_SIZE + 3):
        session.add(
            CaughtMail(
                recipients=f"p{number}@example.com",
                subject=f"Nummer {number:03}",
                raw="Subject: x\r\n\r\n",
            )
        )
    await session.commit()

    first = text_of((await catcher_browser.get("/mail")).text)
    second = text_of((await catcher_browser.get("/mail", params={"page": "2"})).text)
    odd = await catcher_browser.get("/mail", params={"page": "-1x"})

    assert "Nummer 052" in first
    assert "Nummer 002" not in first
    assert "Nummer 002" in second
    assert "Nummer 052" not in second
    assert odd.status_code == 200


async def test_message_page_shows_text_safe_html_and_parts(
    database: Database, catcher_settings: Settings, catcher_browser: Browser
) -> None:
    await deliver_to_catcher(
        database,
        catcher_settings,
        to_name="Jürgen Grünewald",
        subject="Einladung: Bloggertreffen",
        text="Hallo Jürgen,\nbitte antworten Sie.",
        html=HTML,
        alternatives=[Alternative(ICS, "text/calendar", {"method": "REQUEST"})],
        attachments=[Attachment("einladung.ics", ICS.encode(), "text/calendar")],
    )
    (mail,) = await caught(database)

    page = await catcher_browser.get(f"/mail/{mail.id}")

    assert page.status_code == 200
    html = page.text
    text = unescape(text_of(html))
    assert "Jürgen Grünewald <anna+0@example.com>" in text  # headers decoded
    assert "Einladung: Bloggertreffen" in text
    assert "Hallo Jürgen,\nbitte antworten Sie." in html  # the text part, as written
    shown = html.split('<article class="mail-html">')[1].split("</article>")[0]
    link = (
        '<a href="https://meetups.example/r/abc" target="_blank" '
        'rel="noopener noreferrer nofollow">Antworten</a>'
    )
    assert link in shown  # still clickable, opens apart from the app, tells nothing about it
    assert "<b>Jürgen</b>" in shown
    for unsafe in (
        "<script",
        "alert(",
        "onclick",
        "steal()",
        "<style",
        "tracker.example",
        "javascript:",
        "style=",
    ):
        assert unsafe not in shown
    assert "einladung.ics" in text
    assert "part-3.ics" in text  # the calendar alternative, offered as a file too

    download = await catcher_browser.get(f"/mail/{mail.id}/parts/4")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/calendar")
    assert download.headers["content-disposition"].startswith(
        'attachment; filename="einladung.ics"'
    )
    assert download.content == ICS.encode()

    raw = await catcher_browser.get(f"/mail/{mail.id}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    assert raw.text == mail.raw


async def test_an_html_attachment_is_only_ever_downloaded(
    catcher_browser: Browser, session: Any
) -> None:
    raw = (
        "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        "--b\r\nContent-Type: text/html\r\n"
        'Content-Disposition: attachment; filename="../x.html"\r\n\r\n'
        "<script>alert(1)</script>\r\n--b--\r\n"
    )
    mail = CaughtMail(recipients="a@example.com", subject="x", raw=raw)
    session.add(mail)
    await session.commit()

    response = await catcher_browser.get(f"/mail/{mail.id}/parts/2")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith('attachment; filename="..x.html"')
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "no headers, no body",
        "Subject: =?utf-8?b?broken\r\n"
        "Content-Type: text/plain; charset=no-such-charset\r\n\r\n\xfcber",
        "Content-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
        "Content-Type: multipart/mixed\r\n\r\nno boundary at all",
        "From: <<<>>>\r\nTo: ,,,@\r\nDate: yesterday\r\nMessage-ID: nope\r\n\r\nbody",
    ],
)
async def test_malformed_messages_still_show(
    catcher_browser: Browser, session: Any, raw: str
) -> None:
    mail = CaughtMail(recipients="a@example.com", subject="odd", raw=raw)
    session.add(mail)
    await session.commit()

    for url in (f"/mail/{mail.id}", f"/mail/{mail.id}/raw", f"/mail/{mail.id}/parts/1"):
        response = await catcher_browser.get(url)
        assert response.status_code in {200, 404}, url
    assert (await catcher_browser.get(f"/mail/{mail.id}")).status_code == 200


@pytest.mark.parametrize(
    "url", ["/mail/999999", "/mail/abc", "/mail/0", "/mail/1/parts/99", "/mail/99999999999/raw"]
)
async def test_unknown_messages_are_a_friendly_404(
    catcher_browser: Browser, session: Any, url: str
) -> None:
    session.add(CaughtMail(recipients="a@example.com", subject="x", raw="Subject: x\r\n\r\nhi"))
    await session.commit()
    response = await catcher_browser.get(url)
    assert response.status_code == 404
    assert "Not found" in response.text


async def test_mail_page_is_not_there_without_the_catcher(signed_in: Browser) -> None:
    for url in ("/mail", "/mail/1", "/mail/1/raw"):
        assert (await signed_in.get(url)).status_code == 404
    assert (await signed_in.submit("/mail/clear")).status_code == 404
    events = await signed_in.get("/events")
    assert 'href="/mail"' not in events.text


async def test_mail_page_needs_a_sign_in(catcher_settings: Settings, database: Database) -> None:
    async with Browser(create_app(catcher_settings, database), catcher_settings.secret) as browser:
        response = await browser.get("/mail")
    assert response.status_code == 303
    assert response.headers["location"] in {"/setup", "/login?next=%2Fmail"}


async def test_viewers_read_but_only_organizers_delete(
    database: Database, catcher_settings: Settings, session: Any
) -> None:
    session.add(
        CaughtMail(recipients="a@example.com", subject="Hallo", raw="Subject: Hallo\r\n\r\nhi")
    )
    await session.commit()
    async with Browser(create_app(catcher_settings, database), catcher_settings.secret) as browser:
        await sign_in_as(browser, session, "viewer")
        page = await browser.get("/mail")
        assert "Hallo" in page.text
        assert "/mail/clear" not in page.text
        assert (await browser.submit("/mail/clear")).status_code == 403
    assert len(await caught(database)) == 1

    async with Browser(create_app(catcher_settings, database), catcher_settings.secret) as browser:
        await sign_in_as(browser, session, "organizer")
        response = await browser.submit("/mail/clear")
        assert response.status_code == 303
        assert "1 message deleted." in text_of(
            (await browser.get(response.headers["location"])).text
        )
    assert await caught(database) == []


async def test_serve_runs_the_worker_and_the_catcher(
    database: Database, catcher_settings: Settings, session: Any
) -> None:
    """What `make run` gives: the app's lifespan starts both; mail the app queues shows up on the
    mail page."""
    app = create_app(catcher_settings, database)
    organizer = await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    async with app.router.lifespan_context(app):
        assert app.state.mail_worker is not None
        await queue_messages(database, catcher_settings, subject="Willkommen in Montabaur")
        app.state.mail_worker.wake()
        for _ in range(200):
            if await caught(database):
                break
            await asyncio.sleep(0.05)
        async with Browser(app, catcher_settings.secret) as browser:
            await browser.sign_in(organizer.email)
            assert "Willkommen in Montabaur" in (await browser.get("/mail")).text
    assert app.state.mail_worker is None
    with pytest.raises(aiosmtplib.SMTPConnectError):  # the catcher is closed with the app
        await aiosmtplib.SMTP(
            hostname="127.0.0.1", port=catcher_settings.mail_catcher_port, timeout=2
        ).connect()


async def test_serve_without_its_own_worker(database: Database, settings: Settings) -> None:
    app = create_app(changed(settings, worker_in_serve=False), database)
    async with app.router.lifespan_context(app):
        assert app.state.mail_worker is None
