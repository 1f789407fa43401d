"""Who the token belongs to: a quick way to check that a token works and what it may do."""

from fastapi import APIRouter

from meetups.api.auth import ApiViewer, AuthenticatedRoute, CurrentToken
from meetups.api.errors import error_responses
from meetups.api.schemas import Me, TokenInfo

router = APIRouter(route_class=AuthenticatedRoute, tags=["account"])


@router.get("/me", summary="The token's owner", responses=error_responses(401))
async def me(organizer: ApiViewer, token: CurrentToken) -> Me:
    return Me(
        id=organizer.id,  # type: ignore[arg-type]
        name=organizer.name,
        email=organizer.email,
        role=organizer.role,
        token=TokenInfo(
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
        ),
    )
