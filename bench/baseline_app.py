"""The baseline server: a bare FastAPI app whose one page is a Jinja2 template, served by uvicorn
as `meetups serve` serves the app (meetups/cli.py: the same uvicorn options, logging set-up,
trusted proxies and number of worker processes).

    python -m bench.baseline_app --port 8001 [--workers 1]

GET /page/{token} renders the page; POST /page/{token} reads the form and renders it again. No
database, no middleware, no sessions: what is left is the floor that FastAPI, Jinja2 and uvicorn
set on this machine, which the app's numbers are divided by.
"""

import argparse
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from meetups.cli import UVICORN_OPTIONS
from meetups.config import Settings
from meetups.ops.logs import logging_config

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
PROGRAMME = ("Welcome and coffee", "The campaign", "Open discussion", "Dinner")

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


def _page(request: Request, token: str, answer: str = "") -> HTMLResponse:
    context = {
        "title": "Bloggertreffen Montabaur",
        "when": "Thursday, 14 May 2026, 14:00",
        "place": "Firmenzentrale, Elgendorfer Straße 57, 56410 Montabaur",
        "token": token,
        "csrf_token": "x" * 64,
        "answer": answer,
        "programme": PROGRAMME,
    }
    return templates.TemplateResponse(request, "baseline.html", context)


@app.get("/page/{token}")
async def page(request: Request, token: str) -> HTMLResponse:
    return _page(request, token)


@app.post("/page/{token}")
async def answer(request: Request, token: str) -> HTMLResponse:
    form = await request.form()
    value = form.get("answer")
    return _page(request, token, value if isinstance(value, str) else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    options = parser.parse_args()
    # The defaults the app runs with in the bench (no MEETUPS_* logging or proxy settings).
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    uvicorn.run(
        "bench.baseline_app:app" if options.workers > 1 else app,
        workers=options.workers,
        host=options.host,
        port=options.port,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_config=logging_config(settings.log_format),
        **UVICORN_OPTIONS,
    )


if __name__ == "__main__":
    main()
