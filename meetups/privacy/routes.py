"""The organizers' side of privacy: the privacy log under Settings (administrators only: it tells
who looked at or deleted whose data)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.contacts.routes import page_number
from meetups.deps import Admin, SessionDep
from meetups.htmx import render
from meetups.privacy import records

router = APIRouter()


@router.get("/settings/privacy")
async def privacy_log(request: Request, session: SessionDep, _admin: Admin) -> Response:
    log = await records.log_page(
        session=session, page=page_number(request.query_params.get("page", "1"))
    )
    context = {"log": log, "action_labels": records.action_labels()}
    return render(request, "privacy/log.html", context)
