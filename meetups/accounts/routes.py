"""Sign-in, the first administrator, language, and the organizers' settings."""

from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.accounts import organizers
from meetups.accounts.login import (
    ThrottlePolicy,
    authenticate,
    end_other_sessions,
    end_session,
    organizer_for_token,
    start_session,
)
from meetups.accounts.models import Role
from meetups.accounts.password_reset import void_reset_links
from meetups.csrf import CSRF_COOKIE, new_browser_secret
from meetups.deps import (
    LANGUAGE_COOKIE,
    Admin,
    CurrentOrganizer,
    RowId,
    SessionDep,
    SettingsDep,
    session_cookie_name,
)
from meetups.errors import DomainError, ValidationFailed
from meetups.forms import form_data
from meetups.htmx import redirect, render
from meetups.i18n import LANGUAGES, current_locale
from meetups.i18n import gettext as _

router = APIRouter()
ONE_YEAR = 365 * 24 * 3600


def _safe_next(target: str | None, default: str = "/events") -> str:
    """Only paths on this site, so that a crafted link cannot send people elsewhere after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        # Browsers drop tabs and newlines from URLs: "/\t/evil.example" becomes "//evil.example".
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def _sign_in(
    request: Request, response: Response, token: str, language: str | None, settings: SettingsDep
) -> Response:
    response.set_cookie(
        session_cookie_name(settings),
        token,
        max_age=settings.session_lifetime_hours * 3600,
        httponly=True,
        secure=settings.uses_https,
        samesite="lax",
        path="/",
    )
    # A new CSRF secret with the new session: a token seen before signing in is worth nothing after.
    response.set_cookie(
        CSRF_COOKIE,
        new_browser_secret(),
        httponly=True,
        samesite="lax",
        secure=settings.uses_https,
        path="/",
    )
    if language in LANGUAGES:
        _remember_language(response, language, settings)
    return response


def _remember_language(response: Response, language: str, settings: SettingsDep) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=ONE_YEAR,
        samesite="lax",
        secure=settings.uses_https,
        path="/",
    )


@router.get("/")
async def home(request: Request) -> Response:
    return redirect(request, "/events")


@router.get("/setup")
async def setup_form(request: Request, session: SessionDep) -> Response:
    if await organizers.organizer_count(session=session) > 0:
        return redirect(request, "/login")
    return render(request, "accounts/setup.html", {"values": {}, "errors": {}}, block="form")


@router.post("/setup")
async def setup(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    data = await form_data(request)
    try:
        admin = await organizers.create_first_admin(
            session=session,
            name=data.get("name", ""),
            email=data.get("email", ""),
            password=data.get("password", ""),
            password_repeat=data.get("password_repeat", ""),
            language=current_locale(),
        )
    except ValidationFailed as error:
        values = {k: v for k, v in data.items() if "password" not in k}
        return render(
            request,
            "accounts/setup.html",
            {"values": values, "errors": error.errors},
            block="form",
            status_code=422,
        )
    except DomainError as error:
        return redirect(request, "/login", flash=error.message)
    token = await start_session(
        admin, session=session, lifetime=timedelta(hours=settings.session_lifetime_hours)
    )
    await session.commit()
    response = redirect(
        request, "/events", flash=_("Welcome! Your administrator account is ready.")
    )
    return _sign_in(request, response, token, admin.language, settings)


@router.get("/login")
async def login_form(request: Request, session: SessionDep, next: str = "") -> Response:
    if await organizers.organizer_count(session=session) == 0:
        return redirect(request, "/setup")
    return render(
        request,
        "accounts/login.html",
        {"values": {"next": _safe_next(next)}, "errors": {}},
        block="form",
    )


@router.post("/login")
async def login(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    data = await form_data(request)
    policy = ThrottlePolicy(
        settings.login_max_failures, timedelta(minutes=settings.login_failure_window_minutes)
    )
    client = request.client.host if request.client else "unknown"
    try:
        organizer = await authenticate(
            data.get("email", ""),
            data.get("password", ""),
            client=client,
            session=session,
            policy=policy,
        )
    except DomainError as error:
        await session.commit()  # the failure counts towards throttling
        values = {"email": data.get("email", "")[:254], "next": _safe_next(data.get("next"))}
        return render(
            request,
            "accounts/login.html",
            {"values": values, "errors": {"_form": error.message}},
            block="form",
            status_code=422,
        )
    token = await start_session(
        organizer, session=session, lifetime=timedelta(hours=settings.session_lifetime_hours)
    )
    await session.commit()
    response = redirect(request, _safe_next(data.get("next")))
    return _sign_in(request, response, token, organizer.language, settings)


@router.post("/logout")
async def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    await end_session(request.cookies.get(session_cookie_name(settings)), session=session)
    await session.commit()
    response = redirect(request, "/login", flash=_("You are signed out."))
    response.delete_cookie(
        session_cookie_name(settings), path="/", secure=settings.uses_https, httponly=True
    )
    return response


@router.post("/language")
async def switch_language(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    data = await form_data(request)
    language = data.get("language", "")
    target = _safe_next(data.get("next"))
    if language not in LANGUAGES:
        return redirect(request, target)
    organizer = await organizer_for_token(
        request.cookies.get(session_cookie_name(settings)), session=session
    )
    if organizer is not None:
        await organizers.set_language(organizer, language, session=session)
        await session.commit()
    response = redirect(request, target)
    _remember_language(response, language, settings)
    return response


@router.get("/settings")
async def settings_home(request: Request, organizer: CurrentOrganizer) -> Response:
    return redirect(
        request, "/settings/organizers" if organizer.role == Role.admin else "/settings/account"
    )


def _role_options() -> list[tuple[str, str]]:
    return [(role.value, organizers.role_label(role)) for role in reversed(Role)]


async def _organizers_page(
    request: Request,
    session: SessionDep,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    block: str = "organizers",
) -> Response:
    context = {
        "organizers": await organizers.list_organizers(session=session),
        "role_options": _role_options(),
        "values": values or {"role": "organizer"},
        "errors": errors or {},
    }
    return render(
        request, "accounts/organizers.html", context, block=block, status_code=status_code
    )


@router.get("/settings/organizers")
async def organizers_page(request: Request, session: SessionDep, admin: Admin) -> Response:
    return await _organizers_page(request, session)


@router.post("/settings/organizers")
async def add_organizer(request: Request, session: SessionDep, admin: Admin) -> Response:
    data = await form_data(request)
    try:
        added = await organizers.add_organizer(
            session=session,
            name=data.get("name", ""),
            email=data.get("email", ""),
            password=data.get("password", ""),
            role=data.get("role", ""),
        )
    except ValidationFailed as error:
        values = {k: v for k, v in data.items() if k != "password"}
        return await _organizers_page(
            request, session, values=values, errors=error.errors, status_code=422, block="add_form"
        )
    await session.commit()
    return redirect(
        request, "/settings/organizers", flash=_("%(name)s can sign in now.", name=added.name)
    )


@router.post("/settings/organizers/{organizer_id}/role")
async def change_role(
    request: Request, organizer_id: RowId, session: SessionDep, admin: Admin
) -> Response:
    data = await form_data(request)
    target = await organizers.get_organizer(organizer_id, session=session)
    try:
        await organizers.change_role(target, data.get("role", ""), session=session)
    except DomainError as error:
        return redirect(request, "/settings/organizers", flash=error.message)
    await session.commit()
    return redirect(
        request,
        "/settings/organizers",
        flash=_(
            "The role of %(name)s is now %(role)s.",
            name=target.name,
            role=organizers.role_label(target.role),
        ),
    )


@router.post("/settings/organizers/{organizer_id}/active")
async def set_active(
    request: Request, organizer_id: RowId, session: SessionDep, admin: Admin
) -> Response:
    data = await form_data(request)
    target = await organizers.get_organizer(organizer_id, session=session)
    if data.get("active") not in {"true", "false"}:
        # Only the two buttons of the page; anything else must not deactivate someone by default.
        return redirect(request, "/settings/organizers")
    active = data["active"] == "true"
    try:
        await organizers.set_active(target, active, session=session)
    except DomainError as error:
        return redirect(request, "/settings/organizers", flash=error.message)
    await session.commit()
    message = (
        _("%(name)s is active again.", name=target.name)
        if active
        else _("%(name)s is deactivated and signed out.", name=target.name)
    )
    return redirect(request, "/settings/organizers", flash=message)


@router.get("/settings/account")
async def account_page(request: Request, organizer: CurrentOrganizer) -> Response:
    return render(request, "accounts/account.html", {"errors": {}}, block="form")


@router.post("/settings/account/password")
async def change_password(
    request: Request, session: SessionDep, settings: SettingsDep, organizer: CurrentOrganizer
) -> Response:
    data = await form_data(request)
    try:
        await organizers.change_password(
            organizer,
            current=data.get("current_password", ""),
            new=data.get("new_password", ""),
            repeat=data.get("new_password_repeat", ""),
            session=session,
        )
        # Whoever else knew the old password is signed out; this browser stays signed in; a
        # reset link asked for earlier must not undo the new password.
        await end_other_sessions(
            organizer, keep=request.cookies.get(session_cookie_name(settings)), session=session
        )
        await void_reset_links(organizer, session=session)
    except ValidationFailed as error:
        return render(
            request,
            "accounts/account.html",
            {"errors": error.errors},
            block="form",
            status_code=422,
        )
    await session.commit()
    return redirect(request, "/settings/account", flash=_("Your password is changed."))
