"""Travel claims for organizers: the Travel tab of an event, the queue across events, a claim with
its receipts and the decisions on it, marking paid, the exports, and the company's payout account
in the settings. Viewers can look at everything; deciding, paying and exporting bank details
need the organizer role; the payout account is the administrators'."""

from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.accounts.models import Organizer, Role
from meetups.db import Database, utcnow
from meetups.deps import (
    Admin,
    Editor,
    RowId,
    SessionDep,
    SettingsDep,
    Viewer,
    release_connection,
)
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.form import travel_category_labels
from meetups.events.lookup import get_event_by_slug
from meetups.events.models import Event
from meetups.forms import form_data, form_list
from meetups.htmx import redirect, render
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.travel import payout, policy, receipts, review
from meetups.travel.banking import format_iban, mask_iban
from meetups.travel.models import ClaimStatus, Receipt
from meetups.travel.money import format_amount_input, format_distance, over_cap_by

router = APIRouter()


def _tab_url(event: Event, status: ClaimStatus | None = None) -> str:
    query = f"?{urlencode({'status': status.value})}" if status else ""
    return f"/events/{event.slug}/travel{query}"


def _claim_url(event: Event, claim_id: int | None, suffix: str = "") -> str:
    return f"/events/{event.slug}/travel/claims/{claim_id}{suffix}"


async def _undo(session: SessionDep, *rows: Any) -> None:
    """Undoes a failed attempt; the rows the page still shows are read afresh (a rollback
    expires them, and the page must not load them lazily)."""
    await session.rollback()
    for row in rows:
        await session.refresh(row)


def _can_decide(organizer: Organizer) -> bool:
    return organizer.role.allows(Role.organizer)


def _common() -> dict[str, Any]:
    return {
        "status_labels": review.status_labels(),
        "action_labels": review.action_labels(),
        "category_labels": travel_category_labels(),
        "mask_iban": mask_iban,
        "format_iban": format_iban,
        "format_distance": format_distance,
        "statuses": list(ClaimStatus),
    }


# --- The Travel tab and the queue across events -----------------------------------------------


@router.get("/events/{slug}/travel")
async def travel_tab(
    request: Request,
    slug: str,
    session: SessionDep,
    organizer: Viewer,
    status: str = "",
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    return await _tab(request, event, session, organizer, status=review.parse_status(status))


async def _tab(
    request: Request,
    event: Event,
    session: SessionDep,
    organizer: Organizer,
    *,
    status: ClaimStatus | None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found = await review.queue(session=session, event=event, status=status)
    budget = await review.budget_of(event, session=session)
    account = await payout.payout_account(session=session)
    context = {
        **_common(),
        "event": event,
        "active_tab": "travel",
        "queue": found,
        "status": status,
        "status_url": lambda value: _tab_url(event, value),
        "claim_url": lambda row: _claim_url(event, row.claim.id),
        "policy_text": policy.policy_text(event),
        "deadline": policy.deadline_text(event),
        "budget_input": format_amount_input(budget),
        "has_account": account is not None,
        "can_decide": _can_decide(organizer),
        "today": utcnow().date().isoformat(),
        "errors": errors or {},
        "values": values or {},
        "payable": [row for row in found.rows if row.claim.is_payable],
    }
    return render(request, "travel/tab.html", context, block="tab", status_code=status_code)


@router.get("/travel")
async def travel_queue(
    request: Request, session: SessionDep, organizer: Viewer, status: str = "submitted"
) -> Response:
    chosen = review.parse_status(status) if status != "all" else None
    found = await review.queue(session=session, status=chosen)
    context = {
        **_common(),
        "queue": found,
        "status": chosen,
        "status_url": lambda value: (
            "/travel?" + urlencode({"status": value.value if value else "all"})
        ),
        "claim_url": lambda row: _claim_url(row.event, row.claim.id),
        "can_decide": _can_decide(organizer),
        "today": utcnow().date().isoformat(),
        "payable": [row for row in found.rows if row.claim.is_payable],
        "errors": {},
    }
    return render(request, "travel/queue.html", context, block="queue")


@router.post("/events/{slug}/travel/budget")
async def set_budget(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    try:
        cents = await review.set_budget(event, data.get("budget", ""), session=session)
    except ValidationFailed as error:
        await _undo(session, organizer, event)
        return await _tab(
            request,
            event,
            session,
            organizer,
            status=None,
            errors=error.errors,
            values={"budget": data.get("budget", "")[:50]},
            status_code=422,
        )
    await session.commit()
    message = _("The travel budget is saved.") if cents is not None else _("The budget is removed.")
    return redirect(request, _tab_url(event), flash=message)


def _paid_message(outcome: review.PaidOutcome) -> str:
    message = ngettext(
        "%(num)s claim is marked as paid; the guest is told by e-mail.",
        "%(num)s claims are marked as paid; the guests are told by e-mail.",
        len(outcome.paid),
    )
    if outcome.skipped:
        message += " " + ngettext(
            "%(num)s claim was skipped: it is not approved, or paid already.",
            "%(num)s claims were skipped: they are not approved, or paid already.",
            outcome.skipped,
        )
    return message


@router.post("/events/{slug}/travel/paid")
async def mark_paid_batch(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    ids = await form_list(request, "claim")
    try:
        outcome = await review.mark_paid(
            event,
            ids,
            data.get("paid_on"),
            organizer=organizer,
            session=session,
            settings=settings,
        )
    except DomainError as error:
        await _undo(session, organizer, event)
        return redirect(request, _tab_url(event, ClaimStatus.approved), flash=_error_text(error))
    await session.commit()
    return redirect(request, _tab_url(event), flash=_paid_message(outcome))


@router.post("/travel/paid")
async def mark_paid_across(
    request: Request, session: SessionDep, settings: SettingsDep, organizer: Editor
) -> Response:
    data = await form_data(request)
    ids = await form_list(request, "claim")
    try:
        outcome = await review.mark_paid(
            None,
            ids,
            data.get("paid_on"),
            organizer=organizer,
            session=session,
            settings=settings,
        )
    except DomainError as error:
        await _undo(session, organizer)
        return redirect(request, "/travel?status=approved", flash=_error_text(error))
    await session.commit()
    return redirect(request, "/travel?status=paid", flash=_paid_message(outcome))


def _error_text(error: DomainError) -> str:
    if isinstance(error, ValidationFailed):
        return " ".join(error.errors.values())
    return error.message


# --- Exports ----------------------------------------------------------------------------------


def _download(content: bytes, filename: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"; '
            f"filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/events/{slug}/travel/claims.csv")
async def export_csv(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    content = await payout.export_csv(event, session=session)
    return _download(content, f"travel-claims-{event.slug}.csv", "text/csv; charset=utf-8")


@router.get("/events/{slug}/travel/sepa.xml")
async def export_sepa(
    request: Request, slug: str, session: SessionDep, organizer: Editor, execution_date: str = ""
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    try:
        when = date.fromisoformat(execution_date) if execution_date.strip() else None
    except ValueError:
        when = None
    if when is not None and when < utcnow().date():
        when = None
    try:
        result = await payout.sepa_file(event, session=session, execution_date=when)
    except payout.PayoutProblem as error:
        return redirect(request, _tab_url(event), flash=error.message)
    return _download(
        result.xml, f"sepa-{event.slug}-{result.execution_date}.xml", "application/xml"
    )


# --- One claim --------------------------------------------------------------------------------


async def _claim_page(
    request: Request,
    event: Event,
    claim_id: int,
    session: SessionDep,
    organizer: Organizer,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    detail = await review.claim_detail(event, claim_id, session=session)
    claim = detail.claim
    context = {
        **_common(),
        "event": event,
        "active_tab": "travel",
        "detail": detail,
        "claim": claim,
        "can_decide": _can_decide(organizer),
        "receipt_url": lambda receipt: _claim_url(event, claim.id, f"/receipts/{receipt.id}"),
        "over_cap_by": over_cap_by(claim.requested_cents, event.travel_cap_cents),
        "format_amount_input": format_amount_input,
        "file_type": receipts.file_type,
        "errors": errors or {},
        "values": values or {},
        "error": error,
        "today": utcnow().date().isoformat(),
        "back_url": _tab_url(event),
    }
    return render(request, "travel/claim.html", context, block="claim", status_code=status_code)


@router.get("/events/{slug}/travel/claims/{claim_id}")
async def claim_page(
    request: Request, slug: str, claim_id: RowId, session: SessionDep, organizer: Viewer
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    claim = await review.get_claim(event, claim_id, session=session)
    if _can_decide(organizer) and claim.status == ClaimStatus.submitted and claim.seen_at is None:
        # From this look on, the guest can no longer change what the organizer is deciding on.
        await release_connection(session)
        database: Database = request.app.state.database
        async with database.session(write=True) as writer:
            await review.mark_seen(claim, session=writer)
            await writer.commit()
        await session.refresh(claim)
    return await _claim_page(request, event, claim_id, session, organizer)


async def _decide(
    request: Request,
    slug: str,
    claim_id: int,
    session: SessionDep,
    settings: SettingsDep,
    organizer: Organizer,
    action: str,
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    revision = data.get("revision")
    try:
        if action == "approve":
            claim = await review.approve(
                event,
                claim_id,
                revision,
                data,
                organizer=organizer,
                session=session,
                settings=settings,
            )
        elif action == "reject":
            claim = await review.reject(
                event,
                claim_id,
                revision,
                data.get("rejection"),
                organizer=organizer,
                session=session,
                settings=settings,
            )
        else:
            claim = await review.send_back(
                event,
                claim_id,
                revision,
                data.get("note"),
                organizer=organizer,
                session=session,
                settings=settings,
            )
    except NotFound:
        raise
    except ValidationFailed as failure:
        await _undo(session, organizer, event)
        return await _claim_page(
            request,
            event,
            claim_id,
            session,
            organizer,
            errors=failure.errors,
            values={**{k: v[:2000] for k, v in data.items()}, "form": action},
            status_code=422,
        )
    except DomainError as failure:
        await _undo(session, organizer, event)
        return await _claim_page(
            request,
            event,
            claim_id,
            session,
            organizer,
            error=failure.message,
            status_code=409,
        )
    await session.commit()
    messages = {
        ClaimStatus.approved: _("The claim is approved; the guest is told by e-mail."),
        ClaimStatus.partly_approved: _(
            "The claim is approved in part; the guest is told by e-mail."
        ),
        ClaimStatus.rejected: _("The claim is rejected; the guest is told by e-mail."),
        ClaimStatus.needs_changes: _(
            "The claim is sent back; the guest is asked by e-mail to change it."
        ),
    }
    return redirect(request, _claim_url(event, claim.id), flash=messages[ClaimStatus(claim.status)])


@router.post("/events/{slug}/travel/claims/{claim_id}/approve")
async def approve_claim(
    request: Request,
    slug: str,
    claim_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    organizer: Editor,
) -> Response:
    return await _decide(request, slug, claim_id, session, settings, organizer, "approve")


@router.post("/events/{slug}/travel/claims/{claim_id}/reject")
async def reject_claim(
    request: Request,
    slug: str,
    claim_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    organizer: Editor,
) -> Response:
    return await _decide(request, slug, claim_id, session, settings, organizer, "reject")


@router.post("/events/{slug}/travel/claims/{claim_id}/send-back")
async def send_back_claim(
    request: Request,
    slug: str,
    claim_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    organizer: Editor,
) -> Response:
    return await _decide(request, slug, claim_id, session, settings, organizer, "send_back")


@router.post("/events/{slug}/travel/claims/{claim_id}/paid")
async def mark_claim_paid(
    request: Request,
    slug: str,
    claim_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    organizer: Editor,
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    await review.get_claim(event, claim_id, session=session)
    data = await form_data(request)
    try:
        outcome = await review.mark_paid(
            event,
            [claim_id],
            data.get("paid_on"),
            organizer=organizer,
            session=session,
            settings=settings,
        )
    except ValidationFailed as failure:
        await _undo(session, organizer, event)
        return await _claim_page(
            request,
            event,
            claim_id,
            session,
            organizer,
            errors=failure.errors,
            values={"paid_on": data.get("paid_on", "")[:20], "form": "paid"},
            status_code=422,
        )
    except DomainError as failure:
        await _undo(session, organizer, event)
        return await _claim_page(
            request,
            event,
            claim_id,
            session,
            organizer,
            error=failure.message,
            status_code=409,
        )
    if not outcome.paid:
        await _undo(session, organizer, event)
        return await _claim_page(
            request,
            event,
            claim_id,
            session,
            organizer,
            status_code=409,
            error=_("Only an approved claim with bank details can be marked as paid."),
        )
    await session.commit()
    return redirect(
        request,
        _claim_url(event, claim_id),
        flash=_("The claim is marked as paid; the guest is told by e-mail."),
    )


# --- Receipts ---------------------------------------------------------------------------------


async def receipt_response(receipt: Receipt, *, session: SessionDep, download: bool) -> Response:
    """The file with its real type under its generated name: images and PDFs inline (to look at
    in the browser), anything else never; `download` asks the browser to save it."""
    kind = receipts.file_type(receipt)
    data = await receipts.receipt_bytes(receipt, session=session)
    disposition = "attachment" if download else "inline"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{receipt.stored_name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        # Only our own pages may show it in a frame (the PDF viewer on the claim page); nothing
        # in it may run or load anything.
        "Content-Security-Policy": (
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
            "object-src 'self'; frame-ancestors 'self'"
            if kind.extension == "pdf"
            else "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; "
            "frame-ancestors 'self'"
        ),
        "X-Frame-Options": "SAMEORIGIN",
    }
    return Response(data, media_type=kind.content_type, headers=headers)


@router.get("/events/{slug}/travel/claims/{claim_id}/receipts/{receipt_id}")
async def organizer_receipt(
    request: Request,
    slug: str,
    claim_id: RowId,
    receipt_id: RowId,
    session: SessionDep,
    organizer: Viewer,
    download: str = "",
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    claim = await review.get_claim(event, claim_id, session=session)
    receipt = await session.get(Receipt, receipt_id)
    if receipt is None or receipt.claim_id != claim.id:
        raise NotFound(_("There is no such receipt."))
    return await receipt_response(receipt, session=session, download=bool(download))


# --- The company's payout account (settings) --------------------------------------------------


def _account_page(
    request: Request,
    account: Any,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "account": account,
        "masked_iban": mask_iban(account.iban) if account else "",
        "values": values
        if values is not None
        else ({"name": account.name, "bic": account.bic} if account else {}),
        "errors": errors or {},
    }
    return render(
        request, "travel/payout_account.html", context, block="form", status_code=status_code
    )


@router.get("/settings/payout")
async def payout_account_page(request: Request, session: SessionDep, admin: Admin) -> Response:
    return _account_page(request, await payout.payout_account(session=session))


@router.post("/settings/payout")
async def save_payout_account(request: Request, session: SessionDep, admin: Admin) -> Response:
    data = await form_data(request)
    try:
        await payout.save_payout_account(data, organizer=admin, session=session)
    except ValidationFailed as error:
        await _undo(session, admin)
        values = {key: data.get(key, "")[:100] for key in ("name", "bic")}
        return _account_page(
            request,
            await payout.payout_account(session=session),
            values=values,
            errors=error.errors,
            status_code=422,
        )
    await session.commit()
    return redirect(request, "/settings/payout", flash=_("The payout account is saved."))
