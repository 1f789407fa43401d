"""Lists in pages: `limit` and `offset` in, `items`, `total` and a `next` link out."""

from dataclasses import dataclass
from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Far beyond any list this tool holds; keeps the number a database takes without complaint.
MAX_OFFSET = 1_000_000

T = TypeVar("T")


@dataclass(frozen=True)
class PageParams:
    """The page asked for, and the request asking (the link to the next page repeats its
    address with the next offset)."""

    limit: int
    offset: int
    request: Request


def page_params(
    request: Request,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="How many items at most (1 to 200).")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset, request=request)


Paging = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="How many items there are in all (on every page).")
    limit: int
    offset: int
    next: str | None = Field(description="The address of the next page; null on the last one.")

    @classmethod
    def of(cls, items: list[T], *, total: int, paging: PageParams, **extra: Any) -> Self:
        """The page `paging` asked for, holding `items` of `total` in all; `extra` fills the
        fields a list adds to a page (e.g. `anonymous`)."""
        return cls(
            items=items,
            total=total,
            limit=paging.limit,
            offset=paging.offset,
            next=_next_link(paging, total),
            **extra,
        )


def _next_link(paging: PageParams, total: int) -> str | None:
    following = paging.offset + paging.limit
    if following >= total:
        return None
    settings = paging.request.app.state.settings
    url = paging.request.url.include_query_params(limit=paging.limit, offset=following)
    return settings.absolute_url(f"{url.path}?{url.query}")


async def fetch_page(
    statement: Any, *, session: AsyncSession, paging: PageParams
) -> tuple[list[Any], int]:
    """The rows of one page of `statement` (which must be ordered) and how many there are in all."""
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    total = (await session.exec(count)).one()
    rows = list((await session.exec(statement.offset(paging.offset).limit(paging.limit))).all())
    return rows, total
