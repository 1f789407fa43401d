"""One JSON shape for every error of the API, and the route class that gives it.

Every failure answers `{"error": {"code": ..., "message": ..., "details": [...]}}`: `code` is a
stable English word for programs, `message` a sentence for people (in the language of the
request's Accept-Language), `details` the fields that were wrong. `ApiRoute` turns whatever a
route raises into that shape, so no error of an API route reaches the HTML error pages, and an
unexpected one is logged and answered with a JSON 500 rather than a page.
"""

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from meetups.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from meetups.i18n import gettext as _

log = logging.getLogger("meetups.api")

API_PREFIX = "/api/"

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
}


class ErrorDetail(BaseModel):
    field: str | None = Field(
        default=None, description="The field that is wrong, e.g. `title` or `limit`."
    )
    location: str | None = Field(
        default=None, description="Where the field was sent: `body`, `query` or `path`."
    )
    message: str


class ErrorBody(BaseModel):
    code: str = Field(
        description="A stable word for programs: bad_request, unauthorized, forbidden, "
        "not_found, method_not_allowed, conflict, too_large, invalid, too_many_requests, "
        "internal_error."
    )
    message: str = Field(description="What went wrong, for people.")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """An error answered as it is: a status, a code and a message."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: str | None = None,
        details: Iterable[ErrorDetail] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code or CODES.get(status_code, "error")
        self.message = message
        self.details = list(details)
        self.headers = dict(headers or {})


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def error_response(
    status_code: int,
    message: str,
    *,
    code: str | None = None,
    details: Iterable[ErrorDetail] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(
        error=ErrorBody(
            code=code or CODES.get(status_code, "error"), message=message, details=list(details)
        )
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status_code, headers=dict(headers or {})
    )


def invalid_fields(
    errors: Mapping[str, str], *, renamed: Mapping[str, str] | None = None, location: str = "body"
) -> ApiError:
    """A 422 naming each wrong field (by its API name) with the domain's message."""
    renamed = renamed or {}
    details = [
        ErrorDetail(
            field=None if name == "_form" else renamed.get(name, name),
            location=None if name == "_form" else location,
            message=message,
        )
        for name, message in errors.items()
    ]
    return ApiError(422, _("Some fields are not valid."), details=details)


def _validation_details(exc: RequestValidationError) -> list[ErrorDetail]:
    details = []
    for error in exc.errors()[:50]:
        location = [str(part) for part in error.get("loc", ())]
        where = location[0] if location else None
        field = ".".join(location[1:]) or None
        details.append(
            ErrorDetail(field=field, location=where, message=str(error.get("msg", ""))[:500])
        )
    return details


def from_request_validation(exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(error.get("loc", ("",))[0] == "path" for error in errors):
        # /api/v1/events/x/guests/abc: an address that names nothing, not a malformed request.
        return error_response(404, _("There is nothing at this address."))
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(400, _("The request body is not valid JSON."))
    return error_response(422, _("Some fields are not valid."), details=_validation_details(exc))


def from_http_exception(exc: StarletteHTTPException) -> JSONResponse:
    messages = {
        404: _("There is nothing at this address."),
        405: _("This address does not accept this kind of request."),
        413: _("What you sent is too large."),
    }
    message = messages.get(exc.status_code, _("The request was incomplete or malformed."))
    return error_response(exc.status_code, message, headers=exc.headers)


def internal_error() -> JSONResponse:
    return error_response(
        500,
        _(
            "Something went wrong. Please try again; if it keeps happening, tell your administrator."  # noqa: E501
        ),
    )


def response_for(exc: Exception) -> JSONResponse | None:
    """The JSON answer to an error a route raised, or None for an unexpected one."""
    if isinstance(exc, ApiError):
        return error_response(
            exc.status_code, exc.message, code=exc.code, details=exc.details, headers=exc.headers
        )
    if isinstance(exc, ValidationFailed):
        return error_response(
            422,
            _("Some fields are not valid."),
            details=[
                ErrorDetail(field=name, location="body", message=message)
                for name, message in exc.errors.items()
            ],
        )
    if isinstance(exc, NotFound):
        return error_response(404, exc.message)
    if isinstance(exc, PermissionDenied):
        return error_response(403, exc.message)
    if isinstance(exc, DomainError):
        # A rule of the current state refuses it (archived event, deadline passed, ...).
        details = [ErrorDetail(field=exc.field, message=exc.message)] if exc.field else []
        return error_response(409, exc.message, details=details)
    if isinstance(exc, RequestValidationError):
        return from_request_validation(exc)
    if isinstance(exc, StarletteHTTPException):
        return from_http_exception(exc)
    return None


class ApiRoute(APIRoute):
    """An API route: answers every error in the one JSON shape. `before` runs ahead of the body,
    the parameters and the dependencies (meetups.api.auth authenticates there, so a request
    without a valid token gets a 401 whatever else is wrong with it)."""

    async def before(self, request: Request) -> None:
        """Nothing by default."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def api_handler(request: Request) -> Response:
            try:
                await self.before(request)
                return await handler(request)
            except Exception as exc:
                response = response_for(exc)
                if response is not None:
                    return response
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                return internal_error()

        return api_handler


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of an operation in the OpenAPI schema: these errors, in the one shape."""
    descriptions = {
        400: "The body is not valid JSON.",
        401: "No token, or a wrong, revoked or deactivated one.",
        403: "Your role does not allow this (viewers can only read).",
        404: "There is no such event, guest, claim or address.",
        409: "The current state does not allow this (e.g. the event is archived or cancelled).",
        413: "The request body is too large.",
        422: "A parameter or a field of the body is not valid; `details` names them.",
    }
    return {
        code: {"model": ErrorResponse, "description": descriptions[code]}
        for code in sorted(set(status_codes))
    }
