"""Who is calling the API: the organizer behind `Authorization: Bearer <personal token>`.

Only that header counts. A browser's session cookie is ignored here, which is also why the API
needs no CSRF protection: a cross-site request can carry cookies, never our bearer token.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from meetups.accounts import tokens
from meetups.accounts.models import ApiToken, Organizer, Role
from meetups.api.errors import ApiError, ApiRoute
from meetups.db import Database
from meetups.i18n import gettext as _

# For the OpenAPI schema (the "Authorize" button of the docs); the checking is done below.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="personal_token",
    description="A personal API token, created under Settings → API tokens (`mtk_...`).",
)


def _unauthorized(message: str, *, invalid: bool) -> ApiError:
    # RFC 6750: a token that was sent but is no good says so in the challenge.
    challenge = 'Bearer realm="meetups"' + (', error="invalid_token"' if invalid else "")
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def _bearer_token(request: Request) -> str | None:
    scheme, _space, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


async def authenticate(request: Request) -> None:
    """Finds the token's organizer (in a short session of its own, so that noting "last used"
    never waits for the request's own transaction) or answers 401."""
    value = _bearer_token(request)
    if value is None:
        raise _unauthorized(
            _("Send a personal API token as “Authorization: Bearer <token>”."), invalid=False
        )
    database: Database = request.app.state.database
    async with database.session() as session:
        found = await tokens.organizer_for_api_token(value, session=session)
    if found is None:
        raise _unauthorized(
            _("This token is not valid: it is wrong or revoked, or its owner is deactivated."),
            invalid=True,
        )
    organizer, token = found
    if tokens.needs_last_used_update(token):
        async with database.session(write=True) as session:
            await tokens.mark_used(token.id, session=session)  # type: ignore[arg-type]
            await session.commit()
    request.state.api_organizer = organizer
    request.state.api_token = token


class AuthenticatedRoute(ApiRoute):
    async def before(self, request: Request) -> None:
        await authenticate(request)


def _caller(request: Request) -> Organizer:
    organizer = getattr(request.state, "api_organizer", None)
    if organizer is None:  # a route registered without AuthenticatedRoute
        raise _unauthorized(_("Authentication is required."), invalid=False)
    return organizer


def _token(request: Request) -> ApiToken:
    token = getattr(request.state, "api_token", None)
    if token is None:
        raise _unauthorized(_("Authentication is required."), invalid=False)
    return token


def _require(role: Role) -> Callable[[Organizer], Organizer]:
    def dependency(organizer: Annotated[Organizer, Depends(_caller)]) -> Organizer:
        if not organizer.role.allows(role):
            raise ApiError(
                403, _("Your role does not allow this. Ask an administrator if you need it.")
            )
        return organizer

    return dependency


ApiViewer = Annotated[Organizer, Depends(_caller)]
ApiEditor = Annotated[Organizer, Depends(_require(Role.organizer))]
CurrentToken = Annotated[ApiToken, Depends(_token)]
