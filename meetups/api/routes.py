"""The API's routes under /api/v1, its OpenAPI schema, and the page that shows it."""

from typing import Any

from fastapi import APIRouter, FastAPI, Request, Security
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts

from meetups.api import claims, events, feedback, guests, invitations, me
from meetups.api.auth import bearer_scheme
from meetups.api.errors import ApiRoute
from meetups.htmx import render

API_V1 = "/api/v1"
SCHEMA_PATH = f"{API_V1}/openapi.json"
DOCS_PATH = "/api/docs"

DESCRIPTION = """\
The events, guests, invitations, travel claims and feedback of meetups, for scripts.

**Authentication.** Every request carries a personal API token:
`Authorization: Bearer mtk_...`. Create one under *Settings → API tokens*; it is shown once.
A token acts with its owner's role: viewers read, organizers and administrators also write.
Cookies are ignored here.

**Lists** take `limit` (1 to 200, default 50) and `offset`, and answer with `items`, `total`
and `next` (the address of the next page, or null).

**Errors** all look alike: `{"error": {"code": "not_found", "message": "...", "details": []}}`,
with `details` naming wrong fields. 401: no valid token; 403: your role does not allow it;
404: nothing at this address; 409: the event's state does not allow it (archived, cancelled,
past the deadline, ...); 422: invalid parameters or fields.

**Privacy.** Guests' personal links are never given out: they go to the guest alone. Anonymous
feedback comes without names, addresses, guest ids or times.
"""

v1 = APIRouter(
    prefix=API_V1,
    dependencies=[Security(bearer_scheme)],
    # Operation ids are the functions' names: list_events, add_guest, ...
    generate_unique_id_function=lambda route: route.name,
)
for module in (me, events, guests, invitations, claims, feedback):
    v1.include_router(module.router)

# The schema and its page are public (they hold no data); errors still answer in JSON.
public = APIRouter(route_class=ApiRoute, include_in_schema=False)


def api_schema(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI schema of the API's routes alone (built once per app)."""
    cached: dict[str, Any] | None = getattr(app.state, "api_schema", None)
    if cached is None:
        routes = [
            route
            for route in iter_route_contexts(app.routes)
            if (route.path or "").startswith(API_V1 + "/")
        ]
        cached = get_openapi(
            title="meetups API", version="1.0.0", description=DESCRIPTION, routes=routes
        )
        _drop_default_validation_errors(cached)
        app.state.api_schema = cached
    return cached


def _drop_default_validation_errors(schema: dict[str, Any]) -> None:
    """FastAPI documents its own 422 body wherever an operation has parameters; ours answer in
    the one error shape, and operations that never answer 422 (a bad id there is a 404) should
    not claim to."""
    for operation in (op for path in schema["paths"].values() for op in path.values()):
        answer = operation.get("responses", {}).get("422", {})
        if "HTTPValidationError" in str(answer):
            del operation["responses"]["422"]
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


@public.get(SCHEMA_PATH)
async def openapi_schema(request: Request) -> JSONResponse:
    return JSONResponse(api_schema(request.app))


@public.get(DOCS_PATH)
async def api_docs(request: Request) -> Response:
    return render(request, "api/docs.html", {"schema_url": SCHEMA_PATH})


router = APIRouter()
router.include_router(v1)
router.include_router(public)
