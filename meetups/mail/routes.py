"""The mail catcher's inbox for organizers; only while MEETUPS_MAIL_CATCHER is on (else 404)."""

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from meetups.accounts.models import Role
from meetups.deps import Editor, RowId, SessionDep, SettingsDep, Viewer
from meetups.errors import NotFound
from meetups.htmx import is_htmx, redirect, render
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.mail import catcher
from meetups.mail.models import CaughtMail
from meetups.mail.reading import part_payload, read_mail


def _catcher_on(settings: SettingsDep) -> None:
    if not settings.mail_catcher:
        raise NotFound(_("There is no page at this address."))


router = APIRouter(prefix="/mail", dependencies=[Depends(_catcher_on)])


def _page_number(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 1


def _inbox_url(query: str, page: int = 1, *, seen: int | None = None) -> str:
    params = {"q": query} if query else {}
    if page > 1:
        params["page"] = str(page)
    if seen is not None:
        params["seen"] = str(seen)
    return "/mail" + (f"?{urlencode(params)}" if params else "")


async def _caught(session: SessionDep, mail_id: int) -> CaughtMail:
    mail = await catcher.get_caught(session=session, mail_id=mail_id)
    if mail is None:
        raise NotFound(_("This message is no longer there."))
    return mail


@router.get("")
async def inbox(
    request: Request,
    session: SessionDep,
    organizer: Viewer,
    q: str = "",
    page: str = "1",
    seen: str = "",
) -> Response:
    """The newest messages first. The first page asks again every few seconds (htmx), with the
    newest message it shows as `seen`; nothing new answers 204, which leaves the page alone."""
    newest = await catcher.newest_caught_id(session=session)
    if seen and seen == str(newest) and is_htmx(request):
        return Response(status_code=204)
    result = await catcher.list_caught(session=session, query=q, page=_page_number(page))
    context = {
        "result": result,
        "refresh_url": _inbox_url(result.query, seen=newest),
        "previous_url": _inbox_url(result.query, result.page - 1),
        "next_url": _inbox_url(result.query, result.page + 1),
        "can_clear": organizer.role.allows(Role.organizer),
    }
    return render(request, "mail/inbox.html", context, block="results")


@router.get("/{mail_id}")
async def message(
    request: Request, mail_id: RowId, session: SessionDep, organizer: Viewer
) -> Response:
    mail = await _caught(session, mail_id)
    return render(request, "mail/message.html", {"mail": mail, "readable": read_mail(mail.raw)})


@router.get("/{mail_id}/raw")
async def raw_message(mail_id: RowId, session: SessionDep, organizer: Viewer) -> Response:
    mail = await _caught(session, mail_id)
    return Response(mail.raw, media_type="text/plain; charset=utf-8")


@router.get("/{mail_id}/parts/{index}")
async def message_part(
    mail_id: RowId, index: RowId, session: SessionDep, organizer: Viewer
) -> Response:
    mail = await _caught(session, mail_id)
    found = part_payload(mail.raw, index - 1)
    if found is None:
        raise NotFound(_("This message has no such part."))
    filename, content_type, data = found
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=content_type, headers={"Content-Disposition": disposition})


@router.post("/clear")
async def clear(request: Request, session: SessionDep, organizer: Editor) -> Response:
    removed = await catcher.clear_caught(session=session)
    await session.commit()
    return redirect(
        request,
        "/mail",
        flash=ngettext("%(num)s message deleted.", "%(num)s messages deleted.", removed),
    )
