"""The app factory: middleware, error pages, static files, and every area's routes."""

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import select
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meetups import STATIC_DIR, i18n
from meetups.accounts.models import Organizer
from meetups.api import errors as api_errors
from meetups.api.errors import is_api_path
from meetups.config import Settings
from meetups.csrf import CSRF_COOKIE, CsrfError, new_browser_secret, token_for, verify_csrf
from meetups.db import Database, create_engine
from meetups.deps import LANGUAGE_COOKIE, LoginRequired, RoleRequired
from meetups.errors import NotFound, PermissionDenied
from meetups.htmx import FLASH_COOKIE, is_htmx, redirect, render
from meetups.i18n import gettext as _
from meetups.ops import logs
from meetups.ops.routes import HEALTH_PATHS

log = logging.getLogger("meetups.web")
access_log = logging.getLogger("meetups.access")

# The largest request body we read (CSV imports, receipts); larger ones get a friendly 413.
MAX_REQUEST_BYTES = 20 * 1024 * 1024
# Requests that authenticate by other means than a browser session: one-click unsubscribe
# (RFC 8058) arrives as a POST from the mail provider, without cookies; its link is the proof.
# The JSON API authenticates by its bearer token alone and ignores cookies (meetups.api.auth), so
# a forged cross-site request has nothing to ride on.
CSRF_EXEMPT_PREFIXES: tuple[str, ...] = ("/unsubscribe/", "/api/")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    owns_database = database is None
    database = database or Database(create_engine(settings.resolved_database_url))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from meetups.mail.background import mail_services

        # The mail worker (unless it runs on its own) and, when on, the mail catcher.
        async with mail_services(database=database, settings=settings) as worker:
            _app.state.mail_worker = worker
            yield
            _app.state.mail_worker = None
        if owns_database:
            await database.dispose()

    async def csrf_guard(request: Request) -> None:
        if not request.url.path.startswith(CSRF_EXEMPT_PREFIXES or ("\0",)):
            await verify_csrf(request, settings.secret, str(settings.base_url))

    app = FastAPI(
        title="meetups",
        lifespan=lifespan,
        dependencies=[Depends(csrf_guard)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.mail_worker = None  # set while the lifespan runs the worker in this process

    # Inside the per-request middleware (added after it, so nearer the routes): its 413 is raised
    # where a route reads the body and is answered by the error pages below.
    app.add_middleware(RequestSizeLimit, max_bytes=MAX_REQUEST_BYTES)
    _add_middleware(app, settings)
    _add_error_pages(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR), check_dir=False), name="static")
    _include_routes(app)
    return app


def _include_routes(app: FastAPI) -> None:
    from meetups.accounts.reset_routes import router as password_reset_router
    from meetups.accounts.routes import router as accounts_router
    from meetups.accounts.token_routes import router as token_router
    from meetups.api.routes import router as api_router
    from meetups.calendar.routes import router as calendar_router
    from meetups.checkin.routes import router as checkin_router
    from meetups.contacts.routes import router as contacts_router
    from meetups.coverage.public_routes import router as coverage_invitee_router
    from meetups.coverage.routes import router as coverage_router
    from meetups.events.routes import router as events_router
    from meetups.feedback.public_routes import router as feedback_invitee_router
    from meetups.feedback.routes import router as feedback_router
    from meetups.invitations.public_routes import router as invitee_router
    from meetups.invitations.routes import router as invitations_router
    from meetups.mail.routes import router as mail_router
    from meetups.ops.routes import router as ops_router
    from meetups.privacy.public_routes import router as privacy_invitee_router
    from meetups.privacy.routes import router as privacy_router
    from meetups.travel.public_routes import router as travel_invitee_router
    from meetups.travel.routes import router as travel_router

    app.include_router(api_router)
    app.include_router(accounts_router)
    app.include_router(token_router)
    app.include_router(password_reset_router)
    app.include_router(events_router)
    app.include_router(invitations_router)
    app.include_router(travel_router)
    # Before the invitation page's router: it answers every other address under a personal link.
    app.include_router(travel_invitee_router)
    app.include_router(feedback_invitee_router)
    app.include_router(coverage_invitee_router)
    app.include_router(privacy_invitee_router)  # /i/{token}/privacy, /privacy/deleted
    app.include_router(calendar_router)  # /i/{token}/calendar.ics
    app.include_router(checkin_router)  # /i/{token}/checkin.svg
    app.include_router(invitee_router)
    app.include_router(contacts_router)
    app.include_router(feedback_router)
    app.include_router(coverage_router)
    app.include_router(mail_router)
    app.include_router(privacy_router)
    app.include_router(ops_router)


def loggable_path(request: Request) -> str:
    """The request's path with any personal link blanked out (see meetups.ops.logs)."""
    return logs.redact_path(request.url.path)


class RequestSizeLimit:
    """Refuses request bodies above `max_bytes`, by their Content-Length or while they stream in.
    The 413 is raised where a route reads the body, so it gets the usual friendly error page."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        too_large = not declared.isdigit() or int(declared) > self.max_bytes
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if too_large:
                raise StarletteHTTPException(413)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise StarletteHTTPException(413)
            return message

        await self.app(scope, limited_receive, send)


def _sets_cookie(response: Response, name: str) -> bool:
    prefix = f"{name}=".encode()
    return any(
        key == b"set-cookie" and value.startswith(prefix) for key, value in response.raw_headers
    )


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def per_request(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        request_id = logs.request_id_from(request.headers.get("x-request-id"))
        context = logs.request_id.set(request_id)
        try:
            response = await _answer(request, call_next)
            response.headers["X-Request-ID"] = request_id
            _log_access(request, response.status_code, time.perf_counter() - started)
            return response
        finally:
            logs.request_id.reset(context)

    async def _answer(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith("/api/"):
            # Scripts send no cookies and seldom a language: English is what they can rely on.
            language = i18n.negotiate_language(request.headers.get("accept-language"), "en")
        else:
            language = request.cookies.get(LANGUAGE_COOKIE)
            if language not in i18n.LANGUAGES:
                language = i18n.negotiate_language(
                    request.headers.get("accept-language"), settings.default_language
                )
        i18n.set_locale(language)

        browser_secret = request.cookies.get(CSRF_COOKIE)
        fresh_secret = None
        if not browser_secret or len(browser_secret) > 100:
            browser_secret = fresh_secret = new_browser_secret()
        request.state.csrf_token = token_for(browser_secret, settings.secret)
        request.state.flash = request.cookies.get(FLASH_COOKIE, "")[:300]

        try:
            response = await call_next(request)
        except Exception:
            # Answered here rather than by Starlette's last-resort handler, so that even this page
            # carries the security headers below (and the exception is not raised a second time).
            log.exception("unhandled error on %s %s", request.method, loggable_path(request))
            response = _unexpected_error_page(request)

        # API clients send no cookies back: they get none.
        api = is_api_path(request.url.path)
        if fresh_secret and request.url.path not in HEALTH_PATHS and not api:
            response.set_cookie(
                CSRF_COOKIE,
                fresh_secret,
                httponly=True,
                samesite="lax",
                secure=settings.uses_https,
                path="/",
            )
        # A flash shows once: on the next page, unless this is a redirect or sets a new one.
        if (
            request.state.flash
            and not 300 <= response.status_code < 400
            and not request.url.path.startswith("/static/")
            and not _sets_cookie(response, FLASH_COOKIE)
        ):
            response.delete_cookie(FLASH_COOKIE, path="/")
        headers = response.headers
        csp = headers.get("Content-Security-Policy")
        if csp is None:
            headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        elif "frame-ancestors" not in csp:
            # A route's own policy (an SVG, a receipt) still must not be framed by other sites.
            headers["Content-Security-Policy"] = csp.rstrip("; ") + "; frame-ancestors 'none'"
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        if settings.uses_https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def _log_access(request: Request, status: int, seconds: float) -> None:
    """One line per request, with the path as loggable_path shows it (never a personal link) and
    without the query string (it may carry addresses or a `next` target)."""
    quiet = request.url.path in HEALTH_PATHS and status < 400
    duration_ms = round(seconds * 1000, 1)
    path = loggable_path(request)
    access_log.log(
        logging.DEBUG if quiet else logging.INFO,
        "%s %s %s %.1f ms",
        request.method,
        path,
        status,
        duration_ms,
        extra={
            "method": request.method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
        },
    )


def _error_page(
    request: Request,
    status_code: int,
    title: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    headers = dict(headers or {})
    if is_htmx(request):
        # An htmx request targets some fragment; the error replaces the page's main area instead.
        headers.update({"HX-Retarget": "#main", "HX-Reswap": "innerHTML"})
    return render(
        request,
        "error.html",
        {"title": title, "message": message, "status_code": status_code},
        block="content",
        status_code=status_code,
        headers=headers,
    )


def _unexpected_error_page(request: Request) -> Response:
    if is_api_path(request.url.path):
        return api_errors.internal_error()
    return _error_page(
        request,
        500,
        _("Something went wrong"),
        _(
            "We could not do this. Please try again; if it keeps happening, tell your administrator."  # noqa: E501
        ),
    )


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        # Asked once per process: a second session here, while the request's own may still hold a
        # connection, could wait on a pool that a burst of such requests has used up.
        if not getattr(request.app.state, "has_organizers", False):
            database: Database = request.app.state.database
            async with database.session() as session:
                found = (await session.exec(select(Organizer.id).limit(1))).first() is not None
            request.app.state.has_organizers = found
        if not request.app.state.has_organizers:
            return redirect(request, "/setup")
        if request.method != "GET":
            # After signing in, the browser would GET this address: only pages make sense there.
            return redirect(request, "/login")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, f"/login?next={quote(target, safe='')}")

    @app.exception_handler(RoleRequired)
    async def role_required(request: Request, exc: RoleRequired) -> Response:
        return _error_page(
            request,
            403,
            _("Not allowed"),
            _("Your role does not allow this. Ask an administrator if you need it."),
        )

    @app.exception_handler(PermissionDenied)
    async def permission_denied(request: Request, exc: PermissionDenied) -> Response:
        return _error_page(request, 403, _("Not allowed"), exc.message)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return _error_page(request, 404, _("Not found"), exc.message)

    @app.exception_handler(CsrfError)
    async def csrf_failed(request: Request, _exc: CsrfError) -> Response:
        return _error_page(
            request,
            403,
            _("Please try again"),
            _(
                "This form was open too long or came from another site. Reload the page and send it again."  # noqa: E501
            ),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
            # /settings/organizers/abc: an address that names nothing, not a malformed request.
            return _error_page(request, 404, _("Not found"), _("There is no page at this address."))
        return _error_page(
            request, 400, _("Not understood"), _("The request was incomplete or malformed.")
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api_path(request.url.path):
            return api_errors.from_http_exception(exc)
        if exc.status_code == 404:
            return _error_page(request, 404, _("Not found"), _("There is no page at this address."))
        if exc.status_code == 405:
            return _error_page(
                request,
                405,
                _("Not allowed"),
                _("This address does not accept this kind of request."),
                headers=dict(exc.headers or {}),
            )
        if exc.status_code == 413:
            return _error_page(request, 413, _("Too large"), _("What you sent is too large."))
        return _error_page(
            request,
            exc.status_code,
            _("Not understood"),
            _("The request was incomplete or malformed."),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Only errors outside the per-request middleware get here (that one answers the rest).
        log.exception("unhandled error on %s %s", request.method, loggable_path(request))
        return _unexpected_error_page(request)
