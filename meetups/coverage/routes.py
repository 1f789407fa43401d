"""The Coverage tab for organizers: the links, counts per kind, adding and correcting links, and
the CSV export."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.coverage import links
from meetups.coverage.models import CoverageKind, CoverageLink
from meetups.deps import Editor, RowId, SessionDep, Viewer
from meetups.errors import ValidationFailed
from meetups.events.lookup import get_event_by_slug
from meetups.events.models import Event
from meetups.forms import form_data
from meetups.htmx import redirect, render
from meetups.i18n import gettext as _

router = APIRouter()


def _url(event: Event, suffix: str = "") -> str:
    return f"/events/{event.slug}/coverage{suffix}"


def _blank() -> dict[str, str]:
    return {
        "url": "",
        "title": "",
        "site": "",
        "kind": "blog_post",
        "published_on": "",
        "discloses_paid_travel": "unknown",
        "author_name": "",
    }


def _values_of(link: CoverageLink) -> dict[str, str]:
    disclosure = {True: "yes", False: "no", None: "unknown"}[link.discloses_paid_travel]
    return {
        "url": link.url,
        "title": link.title,
        "site": link.site,
        "kind": CoverageKind(link.kind).value,
        "published_on": link.published_on.isoformat() if link.published_on else "",
        "discloses_paid_travel": disclosure,
        "author_name": link.author_name,
    }


async def _list_page(
    request: Request,
    event: Event,
    session: SessionDep,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    entries = await links.coverage_of(event, session=session)
    context = {
        "event": event,
        "active_tab": "coverage",
        "entries": entries,
        "counts": await links.counts_by_kind(event, session=session),
        "kind_labels": links.kind_labels(),
        "disclosure_label": links.disclosure_label,
        "undisclosed": sum(1 for e in entries if e.link.discloses_paid_travel is False),
        "values": values or _blank(),
        "errors": errors or {},
    }
    return render(request, "coverage/list.html", context, block="tab", status_code=status_code)


@router.get("/events/{slug}/coverage")
async def coverage_tab(
    request: Request, slug: str, session: SessionDep, organizer: Viewer
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    return await _list_page(request, event, session)


@router.get("/events/{slug}/coverage.csv")
async def coverage_csv(
    slug: str, session: SessionDep, organizer: Viewer, semicolon: str = ""
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    entries = await links.coverage_of(event, session=session)
    return Response(
        links.coverage_csv(entries, semicolon=semicolon == "1"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{links.csv_filename(event)}"'},
    )


@router.post("/events/{slug}/coverage")
async def add_coverage(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    try:
        entry = links.parse_coverage(data, by_organizer=True)
        async with session.begin_nested():
            await links.add_link(event, entry, session=session, organizer=organizer)
    except ValidationFailed as error:
        values = {**_blank(), **{k: v[:2000] for k, v in data.items()}}
        return await _list_page(
            request, event, session, values=values, errors=error.errors, status_code=422
        )
    await session.commit()
    return redirect(request, _url(event), flash=_("The link is added."))


def _edit_page(
    request: Request,
    event: Event,
    link: CoverageLink,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "event": event,
        "active_tab": "coverage",
        "link": link,
        "values": values or _values_of(link),
        "errors": errors or {},
        "kind_labels": links.kind_labels(),
    }
    return render(
        request, "coverage/edit.html", context, block="coverage_form", status_code=status_code
    )


@router.get("/events/{slug}/coverage/{link_id}")
async def edit_coverage_form(
    request: Request, slug: str, link_id: RowId, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    link = await links.get_link(event, link_id, session=session)
    return _edit_page(request, event, link)


@router.post("/events/{slug}/coverage/{link_id}")
async def save_coverage(
    request: Request, slug: str, link_id: RowId, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    link = await links.get_link(event, link_id, session=session)
    data = await form_data(request)
    try:
        entry = links.parse_coverage(data, by_organizer=True)
        async with session.begin_nested():
            await links.update_link(event, link_id, entry, session=session)
    except ValidationFailed as error:
        link = await links.get_link(event, link_id, session=session)
        values = {**_values_of(link), **{k: v[:2000] for k, v in data.items()}}
        return _edit_page(request, event, link, values=values, errors=error.errors, status_code=422)
    await session.commit()
    return redirect(request, _url(event), flash=_("The link is saved."))


@router.post("/events/{slug}/coverage/{link_id}/remove")
async def remove_coverage(
    request: Request, slug: str, link_id: RowId, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    await links.remove_link(event, link_id, session=session)
    await session.commit()
    return redirect(request, _url(event), flash=_("The link is removed."))
