"""/healthz says the process answers; /readyz whether it can do its work: the database answers,
its schema is current, and a mail worker is alive. Both without sign-in, session or cookies."""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from meetups.config import Settings
from meetups.db import Database, create_engine, utcnow
from meetups.mail.models import WorkerHeartbeat
from meetups.migrate import downgrade
from meetups.ops.health import code_revisions
from meetups.web import create_app
from tests.conftest import Browser


async def _beat(session: Any, seconds_ago: float, worker_id: str = "test:1:ab") -> None:
    seen = utcnow() - timedelta(seconds=seconds_ago)
    session.add(WorkerHeartbeat(worker_id=worker_id, hostname="test", pid=1, seen_at=seen))
    await session.commit()


@pytest.fixture
def unreachable(tmp_path: Path, settings: Settings) -> Settings:
    """Settings whose database cannot be opened (its directory does not exist)."""
    missing = tmp_path / "no" / "such" / "dir" / "meetups.db"
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        **{**settings.model_dump(), "database_url": f"sqlite+aiosqlite:///{missing}"},
    )


async def test_healthz_answers_without_anything(browser: Browser) -> None:
    response = await browser.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["content-type"] == "application/json"
    assert "set-cookie" not in response.headers
    head = await browser.head("/healthz")
    assert head.status_code == 200


async def test_healthz_needs_no_database(unreachable: Settings) -> None:
    database = Database(create_engine(unreachable.resolved_database_url))
    app = create_app(unreachable, database)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            ready = await client.get("/readyz")
    finally:
        await database.dispose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["database", "migrations", "worker"]
    # Nothing about the database's address or the error goes to whoever asks.
    assert "sqlite" not in ready.text
    assert str(unreachable.var_dir) not in ready.text


async def test_readyz_is_ready_with_a_live_worker(browser: Browser, session: Any) -> None:
    await _beat(session, seconds_ago=5)
    response = await browser.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert set(body["checks"]) == {"database", "migrations", "worker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "set-cookie" not in response.headers
    assert (await browser.head("/readyz")).status_code == 200


async def test_readyz_names_the_missing_worker(
    browser: Browser, session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    response = await browser.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["worker"]
    assert "120 s" in body["checks"]["worker"]["detail"]
    assert body["checks"]["database"]["ok"] is True
    assert "no mail worker said it is alive" in caplog.text


async def test_an_old_heartbeat_is_no_sign_of_life(browser: Browser, session: Any) -> None:
    await _beat(session, seconds_ago=121)
    assert (await browser.get("/readyz")).json()["failed"] == ["worker"]


async def test_how_old_a_heartbeat_may_be_is_a_setting(
    settings: Settings, database: Database, session: Any
) -> None:
    await _beat(session, seconds_ago=200)
    patient = Settings(  # type: ignore[call-arg]
        _env_file=None, **{**settings.model_dump(), "worker_heartbeat_max_age_seconds": 300}
    )
    async with Browser(create_app(patient, database), patient.secret) as browser:
        assert (await browser.get("/readyz")).status_code == 200


async def test_the_newest_of_several_workers_counts(browser: Browser, session: Any) -> None:
    await _beat(session, seconds_ago=3600, worker_id="old:1:aa")
    await _beat(session, seconds_ago=1, worker_id="new:2:bb")
    assert (await browser.get("/readyz")).status_code == 200


async def test_a_schema_behind_the_code_is_not_ready(browser: Browser, settings: Settings) -> None:
    # Alembic runs its own event loop: in a thread of its own.
    await asyncio.to_thread(downgrade, settings.resolved_database_url, "0001")
    response = await browser.get("/readyz")
    assert response.status_code == 503
    assert "migrations" in response.json()["failed"]
    assert response.json()["checks"]["database"]["ok"] is True


async def test_a_schema_ahead_of_the_code_is_not_ready(
    browser: Browser, session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """After `meetups migrate` of a newer version, the old processes say they are not ready."""
    await _beat(session, seconds_ago=1)
    await session.exec(text("UPDATE alembic_version SET version_num = '9999'"))
    await session.commit()
    response = await browser.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["migrations"]
    assert "9999" in caplog.text
    assert "run `meetups migrate`" in caplog.text


def test_the_code_knows_its_head_revision() -> None:
    heads = code_revisions()
    assert len(heads) == 1
    assert all(head.isalnum() for head in heads)


async def test_health_checks_need_no_sign_in_and_no_csrf(
    browser: Browser, admin: Any, session: Any
) -> None:
    """An organizer exists, so other addresses would send to /login; these do not."""
    await _beat(session, seconds_ago=1)
    for path in ["/healthz", "/readyz"]:
        response = await browser.get(path, headers={"Cookie": ""})
        assert response.status_code == 200, path
        assert not response.is_redirect
        refused = await browser.post(path)
        assert refused.status_code in (403, 405), path
