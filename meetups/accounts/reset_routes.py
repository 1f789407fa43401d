"""Forgot password: ask for a link by e-mail, then choose a new password behind it.

The link's address is a secret like an invitee's personal link: it is kept out of the logs
(meetups.ops.logs), its pages send no referrer and are not indexed, and guessing at it is
throttled per client like guessing at personal links.
"""

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.accounts import password_reset
from meetups.accounts.login import TooManyAttempts
from meetups.accounts.models import Organizer
from meetups.config import Settings
from meetups.deps import SessionDep, SettingsDep
from meetups.errors import ValidationFailed
from meetups.forms import form_data
from meetups.htmx import redirect, render
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.invitations import guessing
from meetups.mail.background import wake_worker
from meetups.personal_link import client_address, count_wrong_link

router = APIRouter()

PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}


def _request_page(
    request: Request, context: Mapping[str, Any], *, status_code: int = 200
) -> Response:
    return render(
        request,
        "accounts/password_reset_request.html",
        {"values": {}, "errors": {}, "sent": False, **context},
        block="form",
        status_code=status_code,
        headers=PRIVATE_HEADERS,
    )


@router.get("/password-reset")
async def request_form(request: Request) -> Response:
    return _request_page(request, {})


@router.post("/password-reset")
async def request_link(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    data = await form_data(request)
    email = data.get("email", "")
    try:
        await password_reset.request_reset(
            email, client=client_address(request), session=session, settings=settings
        )
    except ValidationFailed as error:
        return _request_page(
            request, {"values": {"email": email[:254]}, "errors": error.errors}, status_code=422
        )
    except TooManyAttempts as error:
        return _request_page(
            request,
            {"values": {"email": email[:254]}, "errors": {"_form": error.message}},
            status_code=429,
        )
    await session.commit()
    wake_worker(request.app.state)
    return _request_page(
        request, {"sent": True, "minutes": settings.password_reset_lifetime_minutes}
    )


def _reset_page(
    request: Request,
    token: str,
    *,
    email: str = "",
    errors: dict[str, str] | None = None,
    gone: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "action": f"/password-reset/{token}",
        "email": email,
        "errors": errors or {},
        "gone": gone,
    }
    return render(
        request,
        "accounts/password_reset.html",
        context,
        block="form",
        status_code=status_code,
        headers=PRIVATE_HEADERS,
    )


async def _link_gone(request: Request, token: str, session: SessionDep) -> Response:
    """A wrong or spent link: counted like a wrong personal link, so guessing gets throttled."""
    await count_wrong_link(request, session)
    return _reset_page(request, token, gone=password_reset.link_gone_message(), status_code=404)


def _throttled(request: Request, token: str, settings: Settings) -> Response:
    minutes = settings.login_failure_window_minutes
    message = ngettext(
        "Too many links that do not work came from your address. "
        "Please wait %(num)s minute and try again.",
        "Too many links that do not work came from your address. "
        "Please wait %(num)s minutes and try again.",
        minutes,
    )
    response = _reset_page(request, token, gone=message, status_code=429)
    response.headers["Retry-After"] = str(minutes * 60)
    return response


async def _find_organizer(
    request: Request, token: str, session: SessionDep, settings: Settings
) -> Organizer | Response:
    """The organizer whose reset link this is, or the page to answer with instead."""
    if await guessing.too_many_wrong_links(
        client_address(request), session=session, settings=settings
    ):
        return _throttled(request, token, settings)
    reset = await password_reset.valid_reset(token, session=session)
    if reset is None:
        return await _link_gone(request, token, session)
    return await password_reset.organizer_of(reset, session=session)


@router.get("/password-reset/{token}")
async def reset_form(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await _find_organizer(request, token, session, settings)
    if isinstance(found, Response):
        return found
    return _reset_page(request, token, email=found.email)


@router.post("/password-reset/{token}")
async def reset_password(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await _find_organizer(request, token, session, settings)
    if isinstance(found, Response):
        return found
    data = await form_data(request)
    try:
        await password_reset.complete_reset(
            token,
            new=data.get("new_password", ""),
            repeat=data.get("new_password_repeat", ""),
            session=session,
        )
    except password_reset.InvalidResetLink:
        return await _link_gone(request, token, session)
    except ValidationFailed as error:
        return _reset_page(request, token, email=found.email, errors=error.errors, status_code=422)
    await session.commit()
    return redirect(request, "/login", flash=_("Your new password is set. Please sign in with it."))
