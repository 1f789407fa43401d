"""Roles are enforced on the server: viewers look, organizers change things, admins manage
people."""

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse

from meetups.accounts.models import Organizer, Role
from meetups.db import Database
from meetups.deps import Admin, Editor, Viewer
from tests import factories
from tests.accounts.conftest import HOSTILE_VALUES, all_organizers, organizer_by_email, sessions_of
from tests.conftest import Browser, sign_in_as, text_of

NEW_PERSON = {
    "name": "Nina New",
    "email": "nina@example.com",
    "password": "a fine long password",
    "role": "organizer",
}


@pytest.fixture
def app_with_probes(app: FastAPI) -> FastAPI:
    """The app plus one route per dependency, to see exactly whom each lets through."""
    router = APIRouter()

    @router.get("/probe/viewer")
    async def viewer_page(request: Request, organizer: Viewer) -> PlainTextResponse:
        return PlainTextResponse(f"viewer ok: {organizer.role.value}")

    @router.post("/probe/editor")
    async def editor_action(request: Request, organizer: Editor) -> PlainTextResponse:
        return PlainTextResponse(f"editor ok: {organizer.role.value}")

    @router.post("/probe/admin")
    async def admin_action(request: Request, organizer: Admin) -> PlainTextResponse:
        return PlainTextResponse(f"admin ok: {organizer.role.value}")

    app.include_router(router)
    return app


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {"/probe/viewer"}),
        ("organizer", {"/probe/viewer", "/probe/editor"}),
        ("admin", {"/probe/viewer", "/probe/editor", "/probe/admin"}),
    ],
)
async def test_each_role_gets_exactly_its_rights(
    app_with_probes: FastAPI, browser: Browser, session: Any, role: str, allowed: set[str]
) -> None:
    await sign_in_as(browser, session, role)
    for path in ["/probe/viewer", "/probe/editor", "/probe/admin"]:
        if path == "/probe/viewer":
            response = await browser.get(path)
        else:
            response = await browser.submit(path)
        if path in allowed:
            assert response.status_code == 200, path
            assert response.text.endswith(role)
        else:
            assert response.status_code == 403, path
            assert "Your role does not allow this" in text_of(response.text)


async def test_probes_need_a_sign_in(
    app_with_probes: FastAPI, browser: Browser, admin: Organizer
) -> None:
    for path in ["/probe/editor", "/probe/admin"]:
        response = await browser.submit(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"


@pytest.mark.parametrize("role", ["viewer", "organizer"])
async def test_only_admins_manage_organizers(
    browser: Browser, session: Any, database: Database, admin: Organizer, role: str
) -> None:
    await sign_in_as(browser, session, role)
    assert (await browser.get("/settings/organizers")).status_code == 403
    assert (await browser.submit("/settings/organizers", NEW_PERSON)).status_code == 403
    assert (
        await browser.submit(f"/settings/organizers/{admin.id}/role", {"role": "viewer"})
    ).status_code == 403
    assert (
        await browser.submit(f"/settings/organizers/{admin.id}/active", {"active": "false"})
    ).status_code == 403
    assert await organizer_by_email(database, "nina@example.com") is None
    unchanged = await organizer_by_email(database, admin.email)
    assert unchanged is not None
    assert unchanged.role is Role.admin
    assert unchanged.is_active
    # Their settings page is their own account; no link to the organizers.
    home = await browser.get("/settings")
    assert home.headers["location"] == "/settings/account"
    page = await browser.get("/settings/account")
    assert page.status_code == 200
    assert 'href="/settings/organizers"' not in page.text


async def test_admin_sees_the_organizers(signed_in: Browser, session: Any) -> None:
    await factories.make_organizer(
        session, email="vera@example.com", name="Vera Viewer", role="viewer"
    )
    await session.commit()
    assert (await signed_in.get("/settings")).headers["location"] == "/settings/organizers"
    page = await signed_in.get("/settings/organizers")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Vera Viewer" in text
    assert "vera@example.com" in text
    assert "Ada Admin" in text


async def test_admin_adds_an_organizer_who_can_sign_in(
    signed_in: Browser, database: Database, app: Any, settings: Any
) -> None:
    response = await signed_in.submit(
        "/settings/organizers", {**NEW_PERSON, "email": "Nina@Example.com"}
    )
    assert response.status_code == 303
    nina = await organizer_by_email(database, "nina@example.com")
    assert nina is not None
    assert nina.role is Role.organizer
    assert nina.is_active
    assert "Nina New can sign in now" in text_of((await signed_in.get("/settings/organizers")).text)
    async with Browser(app, settings.secret) as ninas_browser:
        await ninas_browser.sign_in("nina@example.com", NEW_PERSON["password"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "ADMIN@example.com"}, "email"),
        ({"email": "nope"}, "email"),
        ({"name": ""}, "name"),
        ({"password": "short"}, "password"),
        ({"role": "superuser"}, "role"),
        ({"role": ""}, "role"),
    ],
)
async def test_adding_refuses_bad_input(
    signed_in: Browser, database: Database, changes: dict[str, str], field: str
) -> None:
    response = await signed_in.submit("/settings/organizers", {**NEW_PERSON, **changes})
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.text
    assert NEW_PERSON["password"] not in response.text
    assert len(await all_organizers(database)) == 1


async def test_adding_with_htmx_answers_with_the_form_only(signed_in: Browser) -> None:
    response = await signed_in.submit(
        "/settings/organizers", {**NEW_PERSON, "email": "x"}, htmx=True
    )
    assert response.status_code == 422
    assert "<html" not in response.text
    assert 'id="add-organizer"' in response.text


@pytest.mark.parametrize("value", HOSTILE_VALUES)
async def test_adding_never_fails_on_hostile_input(signed_in: Browser, value: str) -> None:
    for field in ["name", "email", "password", "role"]:
        response = await signed_in.submit(
            "/settings/organizers", {**NEW_PERSON, field: value, "email": "x"}
        )
        assert response.status_code == 422, (field, value[:20])


async def test_admin_changes_a_role_and_it_applies_at_once(
    signed_in: Browser, session: Any, database: Database, app: Any, settings: Any
) -> None:
    olga = await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    async with Browser(app, settings.secret) as olgas_browser:
        await olgas_browser.sign_in("olga@example.com")
        response = await signed_in.submit(f"/settings/organizers/{olga.id}/role", {"role": "admin"})
        assert response.status_code == 303
        assert (await organizer_by_email(database, "olga@example.com")).role is Role.admin  # type: ignore[union-attr]
        assert (await olgas_browser.get("/settings/organizers")).status_code == 200
        await signed_in.submit(f"/settings/organizers/{olga.id}/role", {"role": "viewer"})
        assert (await organizer_by_email(database, "olga@example.com")).role is Role.viewer  # type: ignore[union-attr]
        # The session she has now carries the new role on its next request.
        assert (await olgas_browser.get("/settings/organizers")).status_code == 403
    page = await signed_in.get("/settings/organizers")
    assert "The role of Olga Organizer is now Viewer" in text_of(page.text)


async def test_unknown_roles_change_nothing(
    signed_in: Browser, session: Any, database: Database
) -> None:
    olga = await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    for value in ["root", "", "ADMIN", "admin ", "x" * 1000]:
        response = await signed_in.submit(f"/settings/organizers/{olga.id}/role", {"role": value})
        assert response.status_code == 303
    assert (await organizer_by_email(database, "olga@example.com")).role is Role.organizer  # type: ignore[union-attr]


async def test_admin_deactivates_and_reactivates(
    signed_in: Browser, session: Any, database: Database
) -> None:
    olga = await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    await signed_in.submit(f"/settings/organizers/{olga.id}/active", {"active": "false"})
    assert not (await organizer_by_email(database, "olga@example.com")).is_active  # type: ignore[union-attr]
    page = await signed_in.get("/settings/organizers")
    assert "Olga Organizer is deactivated and signed out" in text_of(page.text)
    await signed_in.submit(f"/settings/organizers/{olga.id}/active", {"active": "true"})
    assert (await organizer_by_email(database, "olga@example.com")).is_active  # type: ignore[union-attr]


async def test_the_last_active_admin_stays(
    signed_in: Browser, admin: Organizer, database: Database
) -> None:
    demote = await signed_in.submit(f"/settings/organizers/{admin.id}/role", {"role": "organizer"})
    assert demote.status_code == 303
    assert "must stay an administrator" in text_of(
        (await signed_in.get("/settings/organizers")).text
    )
    deactivate = await signed_in.submit(
        f"/settings/organizers/{admin.id}/active", {"active": "false"}
    )
    assert deactivate.status_code == 303
    assert "cannot be deactivated" in text_of((await signed_in.get("/settings/organizers")).text)
    still = await organizer_by_email(database, admin.email)
    assert still is not None
    assert still.role is Role.admin
    assert still.is_active
    assert await sessions_of(database, admin)


async def test_an_inactive_admin_does_not_count_as_the_other_admin(
    signed_in: Browser, admin: Organizer, session: Any, database: Database
) -> None:
    await factories.make_organizer(session, email="old@example.com", role="admin", active=False)
    await session.commit()
    await signed_in.submit(f"/settings/organizers/{admin.id}/role", {"role": "viewer"})
    assert (await organizer_by_email(database, admin.email)).role is Role.admin  # type: ignore[union-attr]


async def test_with_two_admins_one_may_step_down(
    signed_in: Browser, admin: Organizer, session: Any, database: Database
) -> None:
    other = await factories.make_organizer(session, email="second@example.com", role="admin")
    await session.commit()
    response = await signed_in.submit(
        f"/settings/organizers/{admin.id}/role", {"role": "organizer"}
    )
    assert response.status_code == 303
    assert (await organizer_by_email(database, admin.email)).role is Role.organizer  # type: ignore[union-attr]
    # Now the other one is the last and must stay.
    assert (await signed_in.get("/settings/organizers")).status_code == 403
    assert (await organizer_by_email(database, other.email)).role is Role.admin  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "organizer_id", ["999999", "0", "-1", "abc", "1.5", "99999999999999999999", "2147483648"]
)
async def test_unknown_organizers_give_404(signed_in: Browser, organizer_id: str) -> None:
    for action, data in [("role", {"role": "viewer"}), ("active", {"active": "false"})]:
        response = await signed_in.submit(f"/settings/organizers/{organizer_id}/{action}", data)
        assert response.status_code == 404, (organizer_id, action)
        assert "Not found" in text_of(response.text)


async def test_role_pages_refuse_other_methods(signed_in: Browser, admin: Organizer) -> None:
    response = await signed_in.get(f"/settings/organizers/{admin.id}/role")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


async def test_organizer_list_shows_everyone_once(signed_in: Browser, session: Any) -> None:
    for number in range(3):
        await factories.make_organizer(
            session, email=f"p{number}@example.com", name=f"Person {number}"
        )
    await session.commit()
    page = await signed_in.get("/settings/organizers")
    for number in range(3):
        assert text_of(page.text).count(f"p{number}@example.com") == 1


async def test_deactivation_needs_an_explicit_answer(
    signed_in: Browser, session: Any, database: Database
) -> None:
    olga = await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    for data in [{}, {"active": ""}, {"active": "no"}, {"active": "0"}, {"active": "False"}]:
        response = await signed_in.submit(f"/settings/organizers/{olga.id}/active", data)
        assert response.status_code == 303
    stored = await organizer_by_email(database, "olga@example.com")
    assert stored is not None
    assert stored.is_active
