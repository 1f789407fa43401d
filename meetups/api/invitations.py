"""Sending invitations: to everyone on the guest list not invited yet, or to chosen guests.

The same rules as the guest list page: only published events before their answer deadline,
nobody twice, addresses on the suppression list left out; the e-mails go through the outbox."""

from typing import Annotated

from fastapi import APIRouter, Body, Request

from meetups.api.auth import ApiEditor, AuthenticatedRoute
from meetups.api.errors import error_responses
from meetups.api.guests import guest_ids_by_contact, guest_refs
from meetups.api.schemas import GuestRef, InvitationReport, InvitationRequest, SuppressedGuest
from meetups.deps import SessionDep, SettingsDep
from meetups.events.lookup import get_event_by_slug
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.invitations import sending
from meetups.invitations.unsubscribe import reason_label
from meetups.mail.background import wake_worker

router = APIRouter(route_class=AuthenticatedRoute, tags=["invitations"])


@router.post(
    "/events/{slug}/invitations",
    summary="Send invitations",
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
async def send_invitations(
    request: Request,
    slug: str,
    session: SessionDep,
    settings: SettingsDep,
    organizer: ApiEditor,
    body: Annotated[InvitationRequest | None, Body()] = None,
) -> InvitationReport:
    """Queues invitations with personal links to the guests not invited yet (all of them, or
    those of `guest_ids`); the mail worker sends them. Calling it again invites nobody twice:
    when everyone concerned has had their invitation, `invited` is empty."""
    event = await get_event_by_slug(slug, session=session)
    ids = body.guest_ids if body is not None else None
    selected = [str(number) for number in ids] if ids is not None else None
    try:
        report = await sending.send_invitations(
            event, session=session, settings=settings, selected=selected
        )
    except sending.NothingToSend as nothing:
        return InvitationReport(
            message=nothing.message, invited=[], suppressed=[], unusable=[], already_invited=0
        )
    invited = await guest_refs(event, report.sent, session=session)
    unusable = await guest_refs(event, report.unusable, session=session)
    suppressed_ids = await guest_ids_by_contact(
        event, [contact for contact, _entry in report.suppressed], session=session
    )
    suppressed = [
        SuppressedGuest(
            guest=GuestRef(id=suppressed_ids[contact.id], name=contact.name),
            reason=reason_label(entry.reason),
        )
        for contact, entry in report.suppressed
        if contact.id in suppressed_ids
    ]
    await session.commit()
    if report.sent:
        wake_worker(request.app.state)
    message = (
        ngettext(
            "%(num)s invitation is on its way.",
            "%(num)s invitations are on their way.",
            len(report.sent),
        )
        if report.sent
        else _("Nobody was invited.")
    )
    return InvitationReport(
        message=message,
        invited=invited,
        suppressed=suppressed,
        unusable=unusable,
        already_invited=report.already_invited,
    )
