"""Logs: one JSON object per line in production, readable text on a laptop; every line of a
request carries its id; and no personal link, reset link or password ever reaches them, whatever
the request was (captured from the app in this process, and from a real `meetups serve`)."""

import asyncio
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from meetups.accounts.password_reset import KIND as RESET_KIND
from meetups.checkin.codes import checkin_code
from meetups.config import LogFormat, Settings
from meetups.csrf import CSRF_COOKIE, token_for
from meetups.db import Database, create_engine
from meetups.demo.seed import PAST_SLUG
from meetups.events.models import Event
from meetups.invitations.links import issue_link, token_of
from meetups.invitations.models import Invitee
from meetups.invitations.unsubscribe import unsubscribe_token
from meetups.mail.models import OutboxMessage
from meetups.ops.logs import (
    JsonFormatter,
    RequestContext,
    TextFormatter,
    logging_config,
    redact_path,
    redact_text,
    request_id_from,
)
from tests import factories
from tests.conftest import TEST_SECRET, Browser
from tests.ops.conftest import StartCommand, command_env, run_cli, start_serve

RESET_LINK = re.compile(r"/password-reset/([A-Za-z0-9_-]{43})")
WRONG_PASSWORD = "hunter2-but-longer-and-wrong"
NEW_PASSWORD = "the new secret passphrase"


def _record(message: str, *args: Any, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("meetups.test", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


@pytest.mark.parametrize(
    ("header", "honoured"),
    [
        ("abc-123", True),
        ("0f8fad5b-d9cb-469f-a165-70867728950e", True),
        ("trace:4bf92f3577b34da6@edge.1", True),
        ("", False),
        (None, False),
        ("x" * 129, False),
        ("has space", False),
        ("line\nbreak", False),
        ('quote"', False),
        ("ümlaut", False),
        ("<script>", False),
    ],
)
def test_a_sane_request_id_is_kept_anything_else_replaced(
    header: str | None, honoured: bool
) -> None:
    result = request_id_from(header)
    if honoured:
        assert result == header
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", result)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/i/SECRETSECRETSECRETSECRETSECRET12/travel/items/3", "/i/…/travel/items/3"),
        ("/password-reset/SECRETSECRETSECRET", "/password-reset/…"),
        ("/password-reset", "/password-reset"),
        ("/unsubscribe/17-SECRET", "/unsubscribe/…"),
        ("/feeds/SECRET.ics", "/feeds/…"),
        ("/checkin/1-2-SECRET", "/checkin/…"),
        ("//i/SECRET", "//i/…"),
        ("/events/x/guests/3", "/events/x/guests/3"),
    ],
)
def test_paths_are_logged_without_their_secret(path: str, shown: str) -> None:
    assert redact_path(path) == shown
    assert "SECRET" not in redact_path(path)


def test_any_text_loses_links_it_contains() -> None:
    text = (
        'GET "http://example.org/i/SECRETSECRET?lang=de" failed; '
        "see https://m.example/password-reset/SECRET2 and /unsubscribe/1-SECRET3."
    )
    cleaned = redact_text(text)
    assert "SECRET" not in cleaned
    assert "http://example.org/i/…?lang=de" in cleaned


def test_the_json_format_is_one_object_per_line() -> None:
    formatter = JsonFormatter()
    record = _record(
        "GET %s %s",
        "/i/…",
        200,
        request_id="abc-123",
        method="GET",
        path="/i/SECRET",
        status=200,
        duration_ms=12.5,
    )
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "meetups.test"
    assert entry["message"] == "GET /i/… 200"
    assert entry["request_id"] == "abc-123"
    assert entry["method"] == "GET"
    assert entry["path"] == "/i/…"
    assert entry["status"] == 200
    assert entry["duration_ms"] == 12.5
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])


def test_tracebacks_stay_on_one_line_and_lose_links() -> None:
    try:
        raise ValueError("cannot open /i/SECRETSECRET\nsecond line")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert "ValueError" in entry["exception"]
    assert "SECRET" not in line
    text = TextFormatter().format(record)
    assert "SECRET" not in text


def test_the_text_format_shows_the_request_id() -> None:
    line = TextFormatter().format(_record("hello %s", "/i/SECRET", request_id="abc-123"))
    assert line.endswith("meetups.test: hello /i/… [request abc-123]")


def test_outside_a_request_lines_have_no_request_id() -> None:
    record = _record("worker tick")
    RequestContext().filter(record)
    assert "request_id" not in json.loads(JsonFormatter().format(record))


def test_the_configuration_keeps_uvicorns_access_log_off() -> None:
    config = logging_config(LogFormat.json)
    assert config["loggers"]["uvicorn.access"]["propagate"] is False
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    assert config["formatters"]["default"]["()"].endswith("JsonFormatter")
    assert logging_config(LogFormat.text)["formatters"]["default"]["()"].endswith("TextFormatter")


@pytest.fixture
def app_log() -> Iterator[io.StringIO]:
    """What the app writes to the log at INFO, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContext())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


async def _reset_token(database: Database) -> str:
    async with database.session() as read:
        query = select(OutboxMessage.raw).where(OutboxMessage.kind == RESET_KIND)
        raw = (await read.exec(query.order_by(col(OutboxMessage.id).desc()))).first()
    assert raw is not None
    return RESET_LINK.findall(raw.replace("=\r\n", "").replace("=\n", ""))[0]


async def test_a_full_request_cycle_logs_no_secret(
    browser: Browser,
    admin: Any,
    session: Any,
    settings: Settings,
    database: Database,
    app_log: io.StringIO,
) -> None:
    event = await factories.make_event(session)
    contact = await factories.make_contact(session)
    invitee = await factories.make_invitee(session, event, contact)
    link = issue_link(invitee, settings.secret)
    session.add(invitee)
    await session.commit()
    unsubscribe = unsubscribe_token(contact, settings.secret)
    code = checkin_code(event.id, invitee.id, settings.secret)  # type: ignore[arg-type]

    traced = await browser.get(f"/i/{link}", headers={"X-Request-ID": "trace-4711"})
    assert traced.status_code == 200
    assert traced.headers["X-Request-ID"] == "trace-4711"
    for path in [f"/i/{link}/calendar.ics", f"/unsubscribe/{unsubscribe}", f"/checkin/{code}"]:
        assert (await browser.get(path)).status_code < 500
    await browser.submit(f"/i/{link}", {"answer": "accepted"})
    wrong = await browser.submit("/login", {"email": admin.email, "password": WRONG_PASSWORD})
    assert wrong.status_code == 422
    await browser.submit("/password-reset", {"email": admin.email})
    reset = await _reset_token(database)
    assert (await browser.get(f"/password-reset/{reset}")).status_code == 200
    done = await browser.submit(
        f"/password-reset/{reset}",
        {"new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD},
    )
    assert done.status_code == 303
    await browser.sign_in(admin.email, NEW_PASSWORD)

    text = app_log.getvalue()
    for secret in [
        link,
        unsubscribe,
        code,
        reset,
        WRONG_PASSWORD,
        NEW_PASSWORD,
        factories.PASSWORD,
        contact.email,
    ]:
        assert secret not in text
    entries = [json.loads(line) for line in text.splitlines()]
    access = [entry for entry in entries if entry["logger"] == "meetups.access"]
    paths = {entry["path"] for entry in access}
    assert {"/i/…", "/i/…/calendar.ics", "/unsubscribe/…", "/checkin/…"} <= paths
    assert {"/password-reset", "/password-reset/…", "/login"} <= paths
    traced_line = next(entry for entry in access if entry["request_id"] == "trace-4711")
    assert traced_line["method"] == "GET"
    assert traced_line["path"] == "/i/…"
    assert traced_line["status"] == 200
    assert traced_line["duration_ms"] >= 0
    assert all(entry.get("request_id") for entry in access)


async def test_an_unexpected_error_is_logged_with_its_request_id_and_without_the_link(
    browser: Browser, app: Any, app_log: io.StringIO
) -> None:
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/i/{token}/boom")
    async def boom(token: str) -> None:
        raise RuntimeError(f"failed for /i/{token}")

    app.router.routes.insert(0, router.routes[0])
    response = await browser.get("/i/SECRETSECRETSECRETSECRETSECRET12/boom")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    entries = [json.loads(line) for line in app_log.getvalue().splitlines()]
    error = next(entry for entry in entries if entry["level"] == "ERROR")
    assert error["request_id"] == request_id
    assert "RuntimeError" in error["exception"]
    assert "SECRET" not in app_log.getvalue()


def _demo(env: dict[str, str]) -> str:
    seeded = run_cli(env, "demo")
    assert seeded.returncode == 0, seeded.stderr
    return re.search(r"password:\s+(\S+)", seeded.stdout).group(1)  # type: ignore[union-attr]


async def _past_guest_links(url: str) -> tuple[str, str]:
    database = Database(create_engine(url))
    try:
        async with database.session() as read:
            event = (await read.exec(select(Event).where(Event.slug == PAST_SLUG))).one()
            invitee = (
                await read.exec(
                    select(Invitee)
                    .where(Invitee.event_id == event.id, col(Invitee.link_nonce).is_not(None))
                    .limit(1)
                )
            ).one()
            token = token_of(invitee, TEST_SECRET.encode())
            assert token is not None
            return token, checkin_code(event.id, invitee.id, TEST_SECRET.encode())  # type: ignore[arg-type]
    finally:
        await database.dispose()


def _submit(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    if CSRF_COOKIE not in client.cookies:
        client.get("/login")
    token = token_for(client.cookies[CSRF_COOKIE], TEST_SECRET.encode())
    return client.post(
        path, data={**data, "csrf_token": token}, headers={"Sec-Fetch-Site": "same-origin"}
    )


def _cycle(url: str, password: str, link: str, code: str, database_url: str) -> list[str]:
    """Signs in, opens a personal link and its pages, asks for and opens a reset link, fails a
    sign-in: the secrets a log must not show."""
    with httpx.Client(base_url=url, timeout=30) as client:
        assert (
            _submit(
                client, "/login", {"email": "demo@example.com", "password": password}
            ).status_code
            == 303
        )
        for path in [
            f"/i/{link}",
            f"/i/{link}/travel",
            f"/i/{link}/calendar.ics",
            f"/checkin/{code}",
        ]:
            assert client.get(path, headers={"X-Request-ID": "trace-4711"}).status_code < 500
        assert _submit(client, "/password-reset", {"email": "demo@example.com"}).status_code == 200
    reset = asyncio.run(_reset_from(database_url))
    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.get(f"/password-reset/{reset}").status_code == 200
        wrong = _submit(client, "/login", {"email": "demo@example.com", "password": WRONG_PASSWORD})
        assert wrong.status_code == 422
    return [password, link, code, reset, WRONG_PASSWORD]


async def _reset_from(url: str) -> str:
    database = Database(create_engine(url))
    try:
        return await _reset_token(database)
    finally:
        await database.dispose()


def test_meetups_serve_writes_json_lines_without_secrets(
    settings: Settings, start_command: StartCommand
) -> None:
    env = command_env(settings, log_format="json", worker_in_serve="false")
    password = _demo(env)
    link, code = asyncio.run(_past_guest_links(settings.resolved_database_url))
    server = start_serve(start_command, env)
    secrets = _cycle(server.url, password, link, code, settings.resolved_database_url)
    stdout, stderr = server.stop()
    for secret in secrets:
        assert secret not in stdout + stderr
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    loggers = {entry["logger"] for entry in entries}
    assert {"meetups.access", "uvicorn.error"} <= loggers
    access = [entry for entry in entries if entry["logger"] == "meetups.access"]
    assert {"/i/…", "/i/…/travel", "/i/…/calendar.ics", "/checkin/…", "/password-reset/…"} <= {
        entry["path"] for entry in access
    }
    traced = [entry for entry in access if entry.get("request_id") == "trace-4711"]
    assert len(traced) == 4
    assert all(
        {"time", "level", "message", "method", "status", "duration_ms"} <= set(entry)
        for entry in access
    )
    # /healthz (asked while starting) is no noise in the log.
    assert not any(entry["path"] == "/healthz" for entry in access)


def test_meetups_serve_writes_readable_text_by_default(
    settings: Settings, start_command: StartCommand
) -> None:
    env = command_env(settings, worker_in_serve="false")
    password = _demo(env)
    link, code = asyncio.run(_past_guest_links(settings.resolved_database_url))
    server = start_serve(start_command, env)
    secrets = _cycle(server.url, password, link, code, settings.resolved_database_url)
    stdout, stderr = server.stop()
    for secret in secrets:
        assert secret not in stdout + stderr
    assert re.search(r"INFO meetups\.access: GET /i/… 200 [\d.]+ ms \[request trace-4711\]", stderr)
    assert not stderr.lstrip().startswith("{")
