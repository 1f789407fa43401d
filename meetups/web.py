"""The app factory: middleware, error pages, static files, and every area's routes."""

import logging
import re
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
from meetups.config import Settings
from meetups.csrf import CSRF_COOKIE, CsrfError, new_browser_secret, token_for, verify_csrf
from meetups.db import Database, create_engine
from meetups.deps import LANGUAGE_COOKIE, LoginRequired, RoleRequired
from meetups.errors import NotFound, PermissionDenied
from meetups.htmx import FLASH_COOKIE, is_htmx, redirect, render
from meetups.i18n import gettext as _

log = logging.getLogger("meetups.web")

# The largest request body we read (CSV imports, receipts); larger ones get a friendly 413.
MAX_REQUEST_BYTES = 20 * 1024 * 1024
# Requests that authenticate by other means than a browser session: one-click unsubscribe
# (RFC 8058) arrives as a POST from the mail provider, without cookies; its link is the proof.
CSRF_EXEMPT_PREFIXES: tuple[str, ...] = ("/unsubscribe/",)
# Paths that carry a personal secret: never written to the log as they are.
_SECRET_PATH = re.compile(r"^/(i|unsubscribe|feeds|checkin)/[^/]+")

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
    from meetups.accounts.routes import router as accounts_router
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
    from meetups.travel.public_routes import router as travel_invitee_router
    from meetups.travel.routes import router as travel_router

    app.include_router(accounts_router)
    app.include_router(events_router)
    app.include_router(invitations_router)
    app.include_router(travel_router)
    # Before the invitation page's router: it answers every other address under a personal link.
    app.include_router(travel_invitee_router)
    app.include_router(feedback_invitee_router)
    app.include_router(coverage_invitee_router)
    app.include_router(calendar_router)  # /i/{token}/calendar.ics
    app.include_router(checkin_router)  # /i/{token}/checkin.svg
    app.include_router(invitee_router)
    app.include_router(contacts_router)
    app.include_router(feedback_router)
    app.include_router(coverage_router)
    app.include_router(mail_router)


def loggable_path(request: Request) -> str:
    """The request's path with any personal link blanked out."""
    return _SECRET_PATH.sub(r"/\1/…", request.url.path)


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

        if fresh_secret:
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
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        if settings.uses_https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


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
        database: Database = request.app.state.database
        async with database.session() as session:
            has_organizers = (await session.exec(select(Organizer.id).limit(1))).first() is not None
        if not has_organizers:
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
