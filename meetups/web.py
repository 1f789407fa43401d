"""The app factory: middleware, error pages, static files, and every area's routes."""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import select
from starlette.exceptions import HTTPException as StarletteHTTPException

from meetups import STATIC_DIR, i18n
from meetups.accounts.models import Organizer
from meetups.config import Settings
from meetups.csrf import CSRF_COOKIE, CsrfError, new_browser_secret, token_for, verify_csrf
from meetups.db import Database, create_engine
from meetups.deps import LoginRequired, RoleRequired
from meetups.errors import NotFound, PermissionDenied
from meetups.htmx import FLASH_COOKIE, redirect, render
from meetups.i18n import gettext as _

log = logging.getLogger("meetups.web")

LANGUAGE_COOKIE = "meetups_lang"
# Requests that authenticate by other means than a browser session (none yet).
CSRF_EXEMPT_PREFIXES: tuple[str, ...] = ()

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
        yield
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

    _add_middleware(app, settings)
    _add_error_pages(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR), check_dir=False), name="static")
    _include_routes(app)
    return app


def _include_routes(app: FastAPI) -> None:
    from meetups.accounts.routes import router as accounts_router
    from meetups.contacts.routes import router as contacts_router
    from meetups.events.routes import router as events_router
    from meetups.invitations.routes import router as invitations_router

    app.include_router(accounts_router)
    app.include_router(events_router)
    app.include_router(invitations_router)
    app.include_router(contacts_router)


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def per_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        language = request.cookies.get(LANGUAGE_COOKIE)
        if language not in i18n.LANGUAGES:
            language = i18n.negotiate_language(request.headers.get("accept-language"), settings.default_language)
        i18n.set_locale(language)

        browser_secret = request.cookies.get(CSRF_COOKIE)
        fresh_secret = None
        if not browser_secret or len(browser_secret) > 100:
            browser_secret = fresh_secret = new_browser_secret()
        request.state.csrf_token = token_for(browser_secret, settings.secret)
        request.state.flash = request.cookies.get(FLASH_COOKIE, "")[:300]

        response = await call_next(request)

        if fresh_secret:
            response.set_cookie(
                CSRF_COOKIE, fresh_secret, httponly=True, samesite="lax", secure=settings.uses_https, path="/"
            )
        if request.state.flash and response.status_code < 300:
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


def _error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    return render(
        request, "error.html", {"title": title, "message": message, "status_code": status_code},
        block="content", status_code=status_code,
    )


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        database: Database = request.app.state.database
        async with database.session() as session:
            has_organizers = (await session.exec(select(Organizer.id).limit(1))).first() is not None
        if not has_organizers:
            return redirect(request, "/setup")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, f"/login?next={quote(target, safe='')}")

    @app.exception_handler(RoleRequired)
    async def role_required(request: Request, exc: RoleRequired) -> Response:
        return _error_page(request, 403, _("Not allowed"), _("Your role does not allow this. Ask an administrator if you need it."))

    @app.exception_handler(PermissionDenied)
    async def permission_denied(request: Request, exc: PermissionDenied) -> Response:
        return _error_page(request, 403, _("Not allowed"), exc.message)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return _error_page(request, 404, _("Not found"), exc.message)

    @app.exception_handler(CsrfError)
    async def csrf_failed(request: Request, _exc: CsrfError) -> Response:
        return _error_page(
            request, 403, _("Please try again"),
            _("This form was open too long or came from another site. Reload the page and send it again."),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, _exc: RequestValidationError) -> Response:
        return _error_page(request, 400, _("Not understood"), _("The request was incomplete or malformed."))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _error_page(request, 404, _("Not found"), _("There is no page at this address."))
        if exc.status_code == 405:
            return _error_page(request, 405, _("Not allowed"), _("This address does not accept this kind of request."))
        if exc.status_code == 413:
            return _error_page(request, 413, _("Too large"), _("What you sent is too large."))
        return _error_page(request, exc.status_code, _("Not understood"), _("The request was incomplete or malformed."))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error_page(request, 500, _("Something went wrong"), _("We could not do this. Please try again; if it keeps happening, tell your administrator."))
