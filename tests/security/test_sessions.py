"""Sessions: a session id planted before sign-in is never adopted, every sign-in gets a new one,
and a new password ends the other sessions (a reset ends them all)."""

from typing import Any

from meetups.accounts.models import Organizer
from meetups.csrf import CSRF_COOKIE
from meetups.db import Database
from meetups.deps import SESSION_COOKIE
from tests import factories
from tests.accounts.conftest import plant_cookie, sessions_of
from tests.conftest import Browser

NEW_PASSWORD = "another fine passphrase"


async def test_a_planted_session_of_the_attacker_is_not_adopted_at_sign_in(
    admin: Organizer, session: Any, database: Database, app: Any, settings: Any
) -> None:
    """Fixation: the attacker signs in to their own account and slips that session cookie into
    the victim's browser. The victim's sign-in must give a new session, and the attacker's
    cookie must stay the attacker's (never become the victim's)."""
    mallory = await factories.make_organizer(session, email="mallory@example.com", role="viewer")
    await session.commit()
    async with Browser(app, settings.secret) as attacker, Browser(app, settings.secret) as victim:
        await attacker.sign_in(mallory.email)
        planted = attacker.cookies[SESSION_COOKIE]
        plant_cookie(victim, SESSION_COOKIE, planted)
        await victim.sign_in(admin.email)
        assert victim.cookies[SESSION_COOKIE] != planted
        # The attacker's cookie still opens the attacker's (viewer) account only.
        organizers = await attacker.get("/settings/organizers")
        assert organizers.status_code == 403
        assert len(await sessions_of(database, admin)) == 1
        assert len(await sessions_of(database, mallory)) == 1


async def test_an_unknown_planted_session_id_is_not_adopted(
    browser: Browser, admin: Organizer, database: Database
) -> None:
    planted = "chosen-by-the-attacker-" + "y" * 30
    plant_cookie(browser, SESSION_COOKIE, planted)
    assert (await browser.get("/settings/account")).status_code == 303
    await browser.sign_in(admin.email)
    assert browser.cookies[SESSION_COOKIE] != planted
    (stored,) = await sessions_of(database, admin)
    assert planted not in stored.token_hash


async def test_signing_in_again_gives_a_new_session_id_and_csrf_secret(
    browser: Browser, admin: Organizer
) -> None:
    await browser.sign_in(admin.email)
    first_session, first_csrf = browser.cookies[SESSION_COOKIE], browser.cookies[CSRF_COOKIE]
    await browser.sign_in(admin.email)
    assert browser.cookies[SESSION_COOKIE] != first_session
    assert browser.cookies[CSRF_COOKIE] != first_csrf


async def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(
    admin: Organizer, database: Database, app: Any, settings: Any
) -> None:
    async with Browser(app, settings.secret) as here, Browser(app, settings.secret) as there:
        await here.sign_in(admin.email)
        await there.sign_in(admin.email)
        assert len(await sessions_of(database, admin)) == 2
        changed = await here.submit(
            "/settings/account/password",
            {
                "current_password": factories.PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_repeat": NEW_PASSWORD,
            },
        )
        assert changed.status_code == 303
        assert (await here.get("/settings/account")).status_code == 200
        assert (await there.get("/settings/account")).status_code == 303
        assert len(await sessions_of(database, admin)) == 1


async def test_a_refused_password_change_ends_no_session(
    admin: Organizer, database: Database, app: Any, settings: Any
) -> None:
    async with Browser(app, settings.secret) as here, Browser(app, settings.secret) as there:
        await here.sign_in(admin.email)
        await there.sign_in(admin.email)
        refused = await here.submit(
            "/settings/account/password",
            {
                "current_password": "not the password",
                "new_password": NEW_PASSWORD,
                "new_password_repeat": NEW_PASSWORD,
            },
        )
        assert refused.status_code == 422
        assert (await there.get("/settings/account")).status_code == 200
        assert len(await sessions_of(database, admin)) == 2
