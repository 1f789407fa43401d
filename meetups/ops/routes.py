"""/healthz and /readyz: no sign-in, no session, no cookies; JSON for machines."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from meetups.ops.health import liveness, readiness

router = APIRouter()

# Asked every few seconds by balancers and monitoring: kept out of the access log unless failing.
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


@router.api_route("/healthz", methods=["GET", "HEAD"])
async def healthz() -> JSONResponse:
    """The process runs and answers; touches nothing else."""
    return JSONResponse(liveness())


@router.api_route("/readyz", methods=["GET", "HEAD"])
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers, its schema is current, a mail worker is alive."""
    report = await readiness(
        database=request.app.state.database, settings=request.app.state.settings
    )
    return JSONResponse(report.as_json(), status_code=200 if report.ok else 503)
