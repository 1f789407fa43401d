"""`meetups serve` for production: several processes on one port, the client address and
scheme taken from the reverse proxy only when it is one we trust, and clear refusals of settings
that cannot work."""

import asyncio

import httpx
from sqlmodel import select

from meetups.accounts.models import LoginFailure
from meetups.config import Settings
from meetups.csrf import CSRF_COOKIE, token_for
from meetups.db import Database, create_engine
from tests.conftest import TEST_SECRET
from tests.ops.conftest import StartCommand, command_env, run_cli, start_serve


async def _failure_keys(url: str) -> set[str]:
    database = Database(create_engine(url))
    try:
        async with database.session() as read:
            return set((await read.exec(select(LoginFailure.key))).all())
    finally:
        await database.dispose()


def _failed_sign_in(url: str, forwarded_for: str) -> None:
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
        client.get("/login")
        token = token_for(client.cookies[CSRF_COOKIE], TEST_SECRET.encode())
        response = client.post(
            "/login",
            data={"email": "nobody@example.com", "password": "wrong", "csrf_token": token},
            headers={"Sec-Fetch-Site": "same-origin"},
        )
        assert response.status_code == 422


def test_the_client_address_comes_from_a_trusted_proxy(
    settings: Settings, start_command: StartCommand
) -> None:
    server = start_serve(start_command, command_env(settings, worker_in_serve="false"))
    _failed_sign_in(server.url, "203.0.113.5")
    assert "client:203.0.113.5" in asyncio.run(_failure_keys(settings.resolved_database_url))


def test_an_untrusted_peer_cannot_pretend_another_address(
    settings: Settings, start_command: StartCommand
) -> None:
    """The proxy is elsewhere (10.0.0.1): our test client at 127.0.0.1 is not it, and its
    X-Forwarded-For is ignored (otherwise throttling could be dodged with a made-up header)."""
    env = command_env(settings, worker_in_serve="false", forwarded_allow_ips="10.0.0.1")
    server = start_serve(start_command, env)
    _failed_sign_in(server.url, "203.0.113.5")
    keys = asyncio.run(_failure_keys(settings.resolved_database_url))
    assert "client:127.0.0.1" in keys
    assert "client:203.0.113.5" not in keys


def test_several_processes_serve_one_port(settings: Settings, start_command: StartCommand) -> None:
    env = command_env(settings, worker_in_serve="false", log_format="json")
    server = start_serve(start_command, env, "--workers", "2")
    for _ in range(10):
        assert httpx.get(f"{server.url}/healthz", timeout=10).json() == {"status": "ok"}
        assert httpx.get(f"{server.url}/login", timeout=10).status_code in (200, 303)
    _stdout, stderr = server.stop()
    started = [line for line in stderr.splitlines() if "Started server process" in line]
    assert len(started) == 2, stderr


def test_several_processes_refuse_the_mail_catcher(settings: Settings) -> None:
    env = command_env(settings, mail_catcher="true")
    result = run_cli(env, "serve", "--workers", "2")
    assert result.returncode == 2
    assert "The mail catcher runs in one process only" in result.stderr


def test_settings_that_cannot_work_are_refused_at_start(settings: Settings) -> None:
    for name, value, message in [
        ("forwarded_allow_ips", "proxy.internal", "is no IP address or network"),
        ("forwarded_allow_ips", "*,10.0.0.1", "or * alone"),
        ("log_format", "xml", "MEETUPS_LOG_FORMAT"),
        ("worker_heartbeat_max_age_seconds", "0", "MEETUPS_WORKER_HEARTBEAT_MAX_AGE_SECONDS"),
        ("password_reset_lifetime_minutes", "1", "MEETUPS_PASSWORD_RESET_LIFETIME_MINUTES"),
    ]:
        result = run_cli(command_env(settings, **{name: value}), "serve")
        assert result.returncode == 2, (name, value)
        assert message in result.stderr, (name, value, result.stderr)
