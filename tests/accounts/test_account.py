"""An organizer's own account: changing the password."""

from typing import Any

import pytest

from meetups.accounts.models import Organizer
from meetups.accounts.passwords import verify_password
from meetups.db import Database
from tests import factories
from tests.accounts.conftest import HOSTILE_VALUES, organizer_by_email, sessions_of
from tests.conftest import Browser, sign_in_as, text_of

NEW = "a brand new passphrase"


def _change(
    current: str = factories.PASSWORD, new: str = NEW, repeat: str | None = None
) -> dict[str, str]:
    return {
        "current_password": current,
        "new_password": new,
        "new_password_repeat": new if repeat is None else repeat,
    }


async def test_account_page_shows_who_is_signed_in(signed_in: Browser) -> None:
    page = await signed_in.get("/settings/account")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "admin@example.com" in text
    assert "Administrator" in text
    assert 'name="current_password"' in page.text


@pytest.mark.parametrize("role", ["viewer", "organizer", "admin"])
async def test_everyone_changes_their_own_password(
    browser: Browser, session: Any, database: Database, app: Any, settings: Any, role: str
) -> None:
    organizer = await sign_in_as(browser, session, role)
    async with Browser(app, settings.secret) as elsewhere:
        await elsewhere.sign_in(organizer.email)
        response = await browser.submit("/settings/account/password", _change())
        assert response.status_code == 303
        assert response.headers["location"] == "/settings/account"
        stored = await organizer_by_email(database, organizer.email)
        assert stored is not None
        assert verify_password(NEW, stored.password_hash)
        # This browser stays signed in; every other session of the account ends.
        page = await browser.get("/settings/account")
        assert page.status_code == 200
        assert "Your password is changed" in text_of(page.text)
        assert len(await sessions_of(database, organizer)) == 1
        assert (await elsewhere.get("/settings/account")).status_code == 303
        # The old password is refused, the new one works.
        refused = await elsewhere.submit(
            "/login", {"email": organizer.email, "password": factories.PASSWORD}
        )
        assert refused.status_code == 422
        await elsewhere.sign_in(organizer.email, NEW)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (_change(current="wrong password"), "current_password", "not your current password"),
        (_change(current=""), "current_password", "not your current password"),
        (_change(new="short"), "new_password", "at least 10"),
        (_change(new="zzzzzzzzzzzzzz"), "new_password", "too easy"),
        (_change(repeat="another new passphrase"), "new_password_repeat", "differ"),
    ],
)
async def test_password_change_refuses_bad_input(
    signed_in: Browser,
    admin: Organizer,
    database: Database,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = await signed_in.submit("/settings/account/password", data)
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.text
    assert message in text_of(response.text)
    assert NEW not in response.text
    assert factories.PASSWORD not in response.text
    stored = await organizer_by_email(database, admin.email)
    assert stored is not None
    assert verify_password(factories.PASSWORD, stored.password_hash)


async def test_password_change_with_htmx_swaps_the_form(signed_in: Browser) -> None:
    response = await signed_in.submit(
        "/settings/account/password", _change(current="nope"), htmx=True
    )
    assert response.status_code == 422
    assert "<html" not in response.text
    assert 'id="password-form"' in response.text


@pytest.mark.parametrize("value", HOSTILE_VALUES)
async def test_password_change_never_fails_on_hostile_input(signed_in: Browser, value: str) -> None:
    for field in ["current_password", "new_password", "new_password_repeat"]:
        data = {**_change(current="wrong"), field: value}
        response = await signed_in.submit("/settings/account/password", data)
        assert response.status_code == 422, (field, value[:20])
