"""Settings → API tokens: each organizer creates and revokes their own personal API tokens."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.accounts import tokens
from meetups.accounts.models import Organizer
from meetups.deps import CurrentOrganizer, RowId, SessionDep
from meetups.errors import DomainError, ValidationFailed
from meetups.forms import form_data
from meetups.htmx import redirect, render
from meetups.i18n import gettext as _

router = APIRouter()
TOKENS_URL = "/settings/tokens"


async def _page(
    request: Request,
    organizer: Organizer,
    session: SessionDep,
    *,
    created: tokens.CreatedToken | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "tokens": await tokens.tokens_of(organizer, session=session),
        "created": created,
        "values": values or {},
        "errors": errors or {},
        "max_tokens": tokens.MAX_ACTIVE_TOKENS,
        "api_base": request.app.state.settings.absolute_url("/api/v1"),
    }
    return render(request, "accounts/tokens.html", context, block="tokens", status_code=status_code)


@router.get(TOKENS_URL)
async def tokens_page(
    request: Request, session: SessionDep, organizer: CurrentOrganizer
) -> Response:
    return await _page(request, organizer, session)


@router.post(TOKENS_URL)
async def create_token(
    request: Request, session: SessionDep, organizer: CurrentOrganizer
) -> Response:
    """Creates a token and shows it on this answer only: it is stored hashed, so it can never be
    shown again (and is not put into a redirect, a cookie or a flash)."""
    data = await form_data(request)
    name = data.get("name", "")
    try:
        created = await tokens.create_token(organizer, name, session=session)
    except ValidationFailed as error:
        return await _page(
            request,
            organizer,
            session,
            values={"name": name[:100]},
            errors=error.errors,
            status_code=422,
        )
    except DomainError as error:
        return await _page(
            request,
            organizer,
            session,
            values={"name": name[:100]},
            errors={"_form": error.message},
            status_code=422,
        )
    await session.commit()
    return await _page(request, organizer, session, created=created)


@router.post(TOKENS_URL + "/{token_id}/revoke")
async def revoke_token(
    request: Request, token_id: RowId, session: SessionDep, organizer: CurrentOrganizer
) -> Response:
    # Someone else's token is as unknown as a missing one: a 404 page.
    token = await tokens.revoke_token(organizer, token_id, session=session)
    await session.commit()
    return redirect(
        request,
        TOKENS_URL,
        flash=_("The token “%(name)s” is revoked: it works no more.", name=token.name),
    )
