"""Rendering pages and their htmx fragments from one template, and the responses htmx expects."""

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from jinja2.runtime import Macro
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup

from meetups import TEMPLATES_DIR, i18n
from meetups.accounts.organizers import role_label
from meetups.csrf import CSRF_FIELD
from meetups.mail.reasons import explain_failure
from meetups.markdown import render_markdown


def _request_context(request: Request) -> dict[str, Any]:
    token = getattr(request.state, "csrf_token", "")
    return {
        "csrf_token": token,
        "csrf_input": Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, token
        ),
        "hx_headers": json.dumps({"X-CSRF-Token": token}),
        "current_language": i18n.current_locale(),
        "languages": i18n.LANGUAGES,
        "organizer": getattr(request.state, "organizer", None),
        "flash": unquote(getattr(request.state, "flash", "")),
        "path": request.url.path,
        "settings": request.app.state.settings,
    }


templates = Jinja2Blocks(directory=str(TEMPLATES_DIR), context_processors=[_request_context])
_env = templates.env
_env.add_extension("jinja2.ext.i18n")
_env.install_gettext_callables(  # type: ignore[attr-defined]
    lambda message, **kw: i18n.gettext(message, **kw),
    lambda singular, plural, n, **kw: i18n.ngettext(singular, plural, n, **kw),
    newstyle=True,
)
_env.filters.update(
    markdown=render_markdown,
    datetime=i18n.format_datetime,
    date=i18n.format_date,
    time=i18n.format_time,
    number=i18n.format_number,
    money=i18n.format_money,
)
_env.globals.update(
    explain_failure=explain_failure,
    role_label=role_label,
    event_span=i18n.format_event_span,
    zone_abbreviation=i18n.zone_abbreviation,
)
# A block rendered on its own (an htmx fragment) does not see the imports at the top of its
# template, so the shared form macros are globals too; `{% from "_macros.html" import ... %}`
# at the top of a template still works for whole pages.
_shared_macros = _env.get_template("_macros.html").module
_env.globals.update(
    {name: macro for name, macro in vars(_shared_macros).items() if isinstance(macro, Macro)}
)


def is_htmx(request: Request) -> bool:
    """A request that wants a fragment: htmx, but not a boosted navigation (which wants a page)
    and not a history restore (htmx 2 sends HX-Request there too, and swaps the answer into
    <body>)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The whole page, or only `block` of it when htmx asks for a fragment."""
    response = templates.TemplateResponse(
        request,
        template,
        dict(context or {}),
        status_code=status_code,
        headers=dict(headers or {}),
        **({"block_name": block} if block and is_htmx(request) else {}),
    )
    response.headers["Vary"] = "HX-Request"
    return response


FLASH_COOKIE = "meetups_flash"


def redirect(request: Request, url: str, *, flash: str | None = None) -> Response:
    """After a successful post: 303 for plain forms, HX-Redirect for htmx; `flash` shows once."""
    response: Response
    if request.headers.get("hx-request") == "true":
        response = Response(status_code=204, headers={"HX-Redirect": url, "Vary": "HX-Request"})
    else:
        response = RedirectResponse(url, status_code=303, headers={"Vary": "HX-Request"})
    if flash:
        response.set_cookie(
            FLASH_COOKIE, quote(flash[:300]), httponly=True, samesite="lax", path="/"
        )
    return response
