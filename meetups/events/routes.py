"""Event pages for organizers: the list, the form, the overview tab and the state changes."""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.calendar import changes
from meetups.deps import CurrentOrganizer, Editor, SessionDep, SettingsDep
from meetups.errors import DomainError, ValidationFailed
from meetups.events import manage
from meetups.events.form import (
    EventFields,
    blank_form_values,
    category_field,
    form_values,
    language_labels,
    parse_event_form,
    timezone_choices,
    travel_category_labels,
)
from meetups.events.listing import GuestCounts, Section, guest_counts, list_events
from meetups.events.lookup import get_event_by_slug
from meetups.events.models import Event
from meetups.events.next_steps import next_steps
from meetups.forms import form_data, is_checked
from meetups.htmx import redirect, render
from meetups.i18n import current_locale, ngettext
from meetups.i18n import gettext as _

router = APIRouter()


async def _counts(event: Event, *, session: AsyncSession) -> GuestCounts:
    return (
        (await guest_counts([event.id], session=session))[event.id] if event.id else GuestCounts()
    )


def _event_url(event: Event, suffix: str = "") -> str:
    return f"/events/{event.slug}{suffix}"


@router.get("/events")
async def events_list(
    request: Request, session: SessionDep, organizer: CurrentOrganizer, section: str = ""
) -> Response:
    chosen = Section(section) if section in Section.__members__ else Section.upcoming
    listing = await list_events(chosen, session=session)
    return render(
        request,
        "events/list.html",
        {"listing": listing, "sections": list(Section)},
        block="sections",
    )


def _form_context(
    values: dict[str, str], errors: dict[str, str], event: Event | None
) -> dict[str, object]:
    return {
        "values": values,
        "errors": errors,
        "event": event,
        "timezones": timezone_choices(values.get("timezone")),
        "event_languages": language_labels(),
        "categories": [(category_field(c), label) for c, label in travel_category_labels().items()],
        "action": _event_url(event, "/edit") if event else "/events/new",
        "checked": {key for key in values if is_checked(values, key)},
    }


@router.get("/events/new")
async def new_event_form(request: Request, settings: SettingsDep, organizer: Editor) -> Response:
    values = blank_form_values(
        default_timezone=settings.default_timezone,
        language=current_locale(),
        contact_name=organizer.name,
        contact_email=organizer.email,
    )
    return render(request, "events/form.html", _form_context(values, {}, None), block="form")


def _parse(data: dict[str, str], organizer: Organizer, settings: SettingsDep) -> EventFields:
    return parse_event_form(
        data,
        default_timezone=settings.default_timezone,
        default_contact_name=organizer.name,
        default_contact_email=organizer.email,
    )


def _invalid(
    request: Request, data: dict[str, str], error: ValidationFailed, event: Event | None
) -> Response:
    values = {key: value[:25_000] for key, value in data.items()}
    context = _form_context(values, error.errors, event)
    return render(request, "events/form.html", context, block="form", status_code=422)


@router.post("/events/new")
async def create_event(
    request: Request, session: SessionDep, settings: SettingsDep, organizer: Editor
) -> Response:
    data = await form_data(request)
    try:
        event = await manage.create_event(
            _parse(data, organizer, settings), organizer=organizer, session=session
        )
    except ValidationFailed as error:
        return _invalid(request, data, error, None)
    await session.commit()
    return redirect(
        request,
        _event_url(event),
        flash=_("The event is saved as a draft. Publish it when it is ready."),
    )


@router.get("/events/{slug}")
async def event_overview(
    request: Request, slug: str, session: SessionDep, organizer: CurrentOrganizer
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    counts = await _counts(event, session=session)
    labels = travel_category_labels()
    context = {
        "event": event,
        "counts": counts,
        "active_tab": "overview",
        "steps": next_steps(event, counts),
        "travel_kinds": [labels[category] for category in event.travel_category_list],
        "event_languages": language_labels(),
    }
    return render(request, "events/overview.html", context, block="tab")


def _not_editable(request: Request, event: Event) -> Response:
    message = _("This event is archived. Take it out of the archive to change it.")
    return redirect(request, _event_url(event), flash=message)


@router.get("/events/{slug}/edit")
async def edit_event_form(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    if not event.can_edit():
        return _not_editable(request, event)
    return render(
        request, "events/form.html", _form_context(form_values(event), {}, event), block="form"
    )


@router.post("/events/{slug}/edit")
async def edit_event(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    if not event.can_edit():
        return _not_editable(request, event)
    data = await form_data(request)
    try:
        fields = _parse(data, organizer, settings)
        await manage.check_update(event, fields, session=session)
        decision = data.get("notify")
        if decision not in ("yes", "no"):
            # Guests hold this event in their calendars: first show whom a change would reach.
            preview = await changes.preview_update(event, fields, session=session)
            if preview.needs_decision:
                return _notify_question(request, data, event, preview)
        outcome = await changes.save_event(
            event, fields, notify=decision == "yes", session=session, settings=settings
        )
    except ValidationFailed as error:
        return _invalid(request, data, error, event)
    except DomainError as error:
        return redirect(request, _event_url(event), flash=error.message)
    await session.commit()
    if outcome.told:
        message = ngettext(
            "Your changes are saved. %(num)s guest is told about them by e-mail.",
            "Your changes are saved. %(num)s guests are told about them by e-mail.",
            outcome.told,
        )
    elif outcome.changed_time_or_place:
        message = _("Your changes are saved. Nobody was told about them.")
    else:
        message = _("Your changes are saved.")
    return redirect(request, _event_url(event), flash=message)


def _notify_question(
    request: Request, data: dict[str, str], event: Event, preview: changes.UpdatePreview
) -> Response:
    """Asks whether to tell the guests, with the form's values carried along unchanged."""
    carried = [
        (key, value[:25_000]) for key, value in data.items() if key not in ("csrf_token", "notify")
    ]
    context = {
        "event": event,
        "preview": preview,
        "carried": carried,
        "action": _event_url(event, "/edit"),
    }
    return render(request, "calendar/notify_question.html", context, block="form")


@router.post("/events/{slug}/duplicate")
async def duplicate_event(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    copy = await manage.duplicate_event(event, organizer=organizer, session=session)
    await session.commit()
    return redirect(
        request,
        _event_url(copy, "/edit"),
        flash=_("This is a copy without guests. Check the title and dates, then save it."),
    )


async def _change_state(
    request: Request,
    slug: str,
    session: SessionDep,
    change: Callable[..., Awaitable[Event]],
    done: Callable[[], str],
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    try:
        await change(event, session=session)
    except DomainError as error:
        return redirect(request, _event_url(event), flash=error.message)
    await session.commit()
    return redirect(request, _event_url(event), flash=done())


@router.post("/events/{slug}/publish")
async def publish_event(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    return await _change_state(
        request,
        slug,
        session,
        manage.publish_event,
        lambda: _("The event is published. Add guests and invite them."),
    )


@router.get("/events/{slug}/cancel")
async def cancel_event_confirmation(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    counts = await _counts(event, session=session)
    audience = await changes.cancellation_audience(event, session=session)
    return render(
        request,
        "events/cancel.html",
        {"event": event, "counts": counts, "audience": audience},
        block="confirm",
    )


@router.post("/events/{slug}/cancel")
async def cancel_event(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, organizer: Editor
) -> Response:
    data = await form_data(request)
    if data.get("confirm") != "yes":
        # Without JavaScript there was no confirmation dialog: ask on a page of its own.
        event = await get_event_by_slug(slug, session=session)
        return redirect(request, _event_url(event, "/cancel"))
    event = await get_event_by_slug(slug, session=session)
    try:
        audience = await changes.cancel_event(event, session=session, settings=settings)
    except DomainError as error:
        return redirect(request, _event_url(event), flash=error.message)
    await session.commit()
    if audience.total:
        message = ngettext(
            "The event is cancelled. %(num)s guest is told by e-mail.",
            "The event is cancelled. %(num)s guests are told by e-mail.",
            audience.total,
        )
    else:
        message = _("The event is cancelled.")
    return redirect(request, _event_url(event), flash=message)


@router.post("/events/{slug}/archive")
async def archive_event(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    return await _change_state(
        request,
        slug,
        session,
        manage.archive_event,
        lambda: _("The event is archived. You find it under Archived."),
    )


@router.post("/events/{slug}/unarchive")
async def unarchive_event(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    return await _change_state(
        request,
        slug,
        session,
        manage.unarchive_event,
        lambda: _("The event is back from the archive."),
    )
