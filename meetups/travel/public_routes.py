"""The invitee's travel claim, behind their personal link: `/i/{token}/travel`.

The link is the key, opened as on every page behind it (meetups.personal_link): wrong links get
the same friendly page and are counted per client, so guessing is throttled; every response
carries `Referrer-Policy: no-referrer`. Items and receipts are always looked up through the
link's own claim, so changing an id in the address reaches nothing else.
"""

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups import i18n
from meetups.config import Settings
from meetups.db import MAX_ROW_ID
from meetups.deps import SessionDep, SettingsDep
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.form import travel_category_labels
from meetups.forms import form_data, form_file
from meetups.htmx import is_htmx, redirect, templates
from meetups.invitations.models import Invitee
from meetups.personal_link import (
    PRIVATE_HEADERS,
    PersonalLink,
    find_invitee,
    invitee_after_rollback,
    open_personal_link,
    personal_link_for,
    personal_page,
)
from meetups.travel import claims, policy, receipts
from meetups.travel.banking import mask_iban
from meetups.travel.models import ClaimStatus, Receipt
from meetups.travel.money import format_amount_input, format_distance
from meetups.travel.review import action_labels, status_labels
from meetups.travel.routes import receipt_response

router = APIRouter()

# The invitation page (templates/rsvp/page.html, travel/_rsvp_travel.html) states the policy.
templates.env.globals["travel_policy_text"] = policy.policy_text

ITEM_FIELDS = frozenset({"category", "spent_on", "description", "amount", "distance_km", "receipt"})


def _item_values(item: Any) -> dict[str, str]:
    if item is None:
        return {"category": "", "spent_on": "", "description": "", "amount": "", "distance_km": ""}
    return {
        "category": item.category.value,
        "spent_on": item.spent_on.isoformat(),
        "description": item.description,
        "amount": format_amount_input(item.amount_cents),
        "distance_km": format_distance(item.distance_tenths_km),
    }


def _travel_page(
    request: Request,
    link: PersonalLink,
    view: claims.ClaimView,
    *,
    notice: str = "",
    error: str = "",
    errors: Mapping[str, str] | None = None,
    item_values: Mapping[str, str] | None = None,
    payee_values: Mapping[str, str] | None = None,
    editing: Any = None,
    status_code: int = 200,
    template: str = "travel/invitee.html",
) -> Response:
    event = view.event
    claim = view.claim
    allowed = event.travel_category_list
    labels = travel_category_labels()
    errors = errors or {}
    values = item_values if item_values is not None else _item_values(editing)
    others = sum(
        item.amount_cents for item in view.items if editing is None or item.id != editing.id
    )
    context = {
        **link.page_context(_title(event.title)),
        "view": view,
        "claim": claim,
        "policy_text": policy.policy_text(event),
        "deadline": policy.deadline_text(event),
        "categories": [(c.value, labels[c]) for c in allowed],
        "category_labels": labels,
        "status_labels": status_labels(),
        "action_labels": action_labels(),
        "notice": notice,
        "error": error,
        "errors": errors,
        "item_values": values,
        "open_item_form": not view.items or bool(ITEM_FIELDS & set(errors)),
        "view_preview": claims.preview(values, event, other_items_cents=others),
        "currency": claim.currency if claim else event.travel_currency,
        "payee_values": payee_values
        if payee_values is not None
        else {
            "payee_name": claim.payee_name if claim else claims._default_payee(view.contact),
            "bic": claim.bic if claim else "",
        },
        "masked_iban": mask_iban(claim.iban) if claim and claim.iban else "",
        "editing": editing,
        "format_distance": format_distance,
        "file_type": receipts.file_type,
        "page_url": link.url("/travel"),
        "receipt_url": lambda receipt: f"/i/{link.token}/travel/receipts/{receipt.id}",
        "max_mb": receipts.MAX_RECEIPT_BYTES // (1024 * 1024),
        "statuses": ClaimStatus,
    }
    return personal_page(request, template, context, block="travel", status_code=status_code)


def _title(event_title: str) -> str:
    return i18n.gettext("Travel costs: %(title)s", title=event_title)


async def _upload(request: Request) -> claims.Upload | None:
    """The receipt sent with the form, read up to one byte past the limit (so that too large
    files are recognized without reading them whole); None when no file was chosen."""
    file = await form_file(request, "receipt")
    if file is None or not (file.filename or "").strip():
        return None
    data = await file.read(receipts.MAX_RECEIPT_BYTES + 1)
    if not data and not file.filename:
        return None
    return claims.Upload(filename=file.filename or "", data=data)


async def _after_failure(invitee: Invitee, session: SessionDep) -> claims.ClaimView:
    return await claims.claim_view(await invitee_after_rollback(invitee, session), session=session)


@router.get("/i/{token}/travel")
async def travel_page(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    view = await claims.claim_view(link.invitee, session=session)
    return _travel_page(request, link, view)


async def _change(
    request: Request,
    token: str,
    session: SessionDep,
    settings: Settings,
    action: str,
    item_id: str | None = None,
) -> Response:
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    invitee = link.invitee
    data = await form_data(request)
    upload = await _upload(request) if action in ("add", "update") else None
    editing = None
    try:
        if action == "add":
            await claims.add_item(invitee, data, upload, session=session)
            notice = i18n.gettext("The cost is added.")
        elif action == "update":
            editing = await claims.own_item(invitee, item_id, session=session)
            await claims.update_item(invitee, item_id, data, upload, session=session)
            notice = i18n.gettext("The cost is changed.")
        elif action == "delete":
            await claims.delete_item(invitee, item_id, session=session)
            notice = i18n.gettext("The cost is removed.")
        elif action == "payee":
            await claims.save_payee(invitee, data, session=session)
            notice = i18n.gettext("Your bank details are saved.")
        else:
            await claims.submit(invitee, session=session, settings=settings)
            notice = i18n.gettext(
                "Thank you! Your claim is submitted. We have sent you a confirmation by e-mail."
            )
    except NotFound as failure:
        view = await _after_failure(invitee, session)
        return _travel_page(request, link, view, error=failure.message, status_code=404)
    except ValidationFailed as failure:
        view = await _after_failure(invitee, session)
        values = {key: value[:300] for key, value in data.items()}
        is_payee = action == "payee"
        return _travel_page(
            request,
            link,
            view,
            errors=failure.errors,
            item_values=None if is_payee else values,
            payee_values=values if is_payee else None,
            editing=editing,
            status_code=422,
            template="travel/item.html" if action == "update" else "travel/invitee.html",
        )
    except DomainError as failure:
        view = await _after_failure(invitee, session)
        status = 409 if isinstance(failure, claims.ClaimClosed) else 422
        return _travel_page(request, link, view, error=failure.message, status_code=status)
    await session.commit()
    anchor = "claim-payee" if action == "payee" else "claim-items"
    if action == "submit":
        anchor = "claim-status"
    if not is_htmx(request) or action == "update":
        return redirect(request, link.url("/travel", anchor=anchor), flash=notice)
    view = await claims.claim_view(invitee, session=session)
    return _travel_page(request, link, view, notice=notice)


@router.post("/i/{token}/travel/items")
async def add_item(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    return await _change(request, token, session, settings, "add")


@router.get("/i/{token}/travel/items/{item_id}")
async def edit_item_page(
    request: Request, token: str, item_id: str, session: SessionDep, settings: SettingsDep
) -> Response:
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    view = await claims.claim_view(link.invitee, session=session)
    try:
        item = await claims.own_item(link.invitee, item_id, session=session)
    except NotFound as failure:
        return _travel_page(request, link, view, error=failure.message, status_code=404)
    if not view.can_edit:
        return redirect(request, link.url("/travel", anchor="claim-items"))
    return _travel_page(request, link, view, editing=item, template="travel/item.html")


@router.post("/i/{token}/travel/items/{item_id}")
async def update_item(
    request: Request, token: str, item_id: str, session: SessionDep, settings: SettingsDep
) -> Response:
    return await _change(request, token, session, settings, "update", item_id)


@router.post("/i/{token}/travel/items/{item_id}/delete")
async def delete_item(
    request: Request, token: str, item_id: str, session: SessionDep, settings: SettingsDep
) -> Response:
    return await _change(request, token, session, settings, "delete", item_id)


@router.post("/i/{token}/travel/payee")
async def save_payee(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    return await _change(request, token, session, settings, "payee")


@router.post("/i/{token}/travel/submit")
async def submit_claim(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    return await _change(request, token, session, settings, "submit")


@router.post("/i/{token}/travel/preview")
async def preview_total(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """The amount of the cost being typed and the claim's total with it, while typing (htmx)."""
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    data = await form_data(request)
    view = await claims.claim_view(link.invitee, session=session)
    editing = (data.get("item_id") or "").strip()
    others = sum(item.amount_cents for item in view.items if str(item.id) != editing)
    result = claims.preview(data, view.event, other_items_cents=others)
    context = {
        "preview": result,
        "event": view.event,
        "currency": view.claim.currency if view.claim else view.event.travel_currency,
        "format_distance": format_distance,
        "page_language": link.language,
    }
    return personal_page(request, "travel/_preview.html", context)


@router.get("/i/{token}/travel/receipts/{receipt_id}")
async def invitee_receipt(
    request: Request,
    token: str,
    receipt_id: str,
    session: SessionDep,
    settings: SettingsDep,
    download: str = "",
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    claim = await claims.claim_of(found, session=session)
    receipt = None
    if claim is not None and receipt_id.isascii() and receipt_id.isdigit():
        number = int(receipt_id)
        if 1 <= number <= MAX_ROW_ID:
            receipt = await session.get(Receipt, number)
    if receipt is None or claim is None or receipt.claim_id != claim.id:
        link = await personal_link_for(request, token, found, session, settings)
        view = await claims.claim_view(found, session=session)
        return _travel_page(
            request,
            link,
            view,
            error=i18n.gettext("There is no such receipt in your claim."),
            status_code=404,
        )
    response = await receipt_response(receipt, session=session, download=bool(download))
    response.headers.update(PRIVATE_HEADERS)
    response.headers["Cache-Control"] = "private, no-store"
    return response
