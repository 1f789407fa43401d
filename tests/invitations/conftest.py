"""Fixtures of the guest list's tests: signed-in editors and viewers."""

from typing import Any

import pytest

from tests.conftest import Browser, sign_in_as


@pytest.fixture
async def editor(browser: Browser, session: Any) -> Browser:
    """A browser signed in with the organizer role (may change things, is no admin)."""
    await sign_in_as(browser, session, "organizer")
    return browser


@pytest.fixture
async def viewer(browser: Browser, session: Any) -> Browser:
    await sign_in_as(browser, session, "viewer")
    return browser


# The organizer side's tests: a real SMTP server (aiosmtpd, from tests/mail) that the worker
# delivers to, running against the same database as the app.
from tests.mail.conftest import (  # noqa: E402
    SmtpServer,
    make_worker,
    relay_settings,
    smtp_server,  # noqa: F401 - a fixture
    smtp_servers,  # noqa: F401 - a fixture
)


@pytest.fixture
def deliver(database: Any, settings: Any, smtp_server: SmtpServer) -> Any:  # noqa: F811
    """`await deliver()`: the mail worker delivers everything due to the test's SMTP server, as
    `meetups worker --once` would (without the scheduler hooks; `deliver(hooks=True)` runs them)."""

    async def run(*, hooks: bool = False, **options: Any) -> Any:
        from meetups.mail.scheduler import registered_hooks

        worker = make_worker(
            database,
            relay_settings(settings, smtp_server),
            hooks=registered_hooks() if hooks else [],
            **options,
        )
        return await worker.run_once()

    return run
