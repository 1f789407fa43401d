"""What every benchmark shares: the run's scale, its temporary directory and child processes,
starting the app and the baseline server, the load generator, and signing in as a browser."""

import asyncio
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.databases import ScratchDatabases
from bench.processes import (
    HOST,
    BenchError,
    Child,
    Children,
    clean_environment,
    free_port,
    meetups_command,
    python_command,
    wait_for_http,
)
from bench.seed import ORGANIZER_EMAIL, ORGANIZER_PASSWORD, bench_settings
from meetups.config import Settings
from meetups.csrf import CSRF_COOKIE, CSRF_FIELD

CSRF_PATTERN = rf'name="{CSRF_FIELD}" value="([^"]+)"'


@dataclass(frozen=True)
class Scale:
    """How much each benchmark does; `quick` is a smoke run that only proves the code works."""

    rsvp_guests: int = 1000  # distinct invitees: each opens the page once, then accepts once
    rsvp_gets: int = 5000  # page views measured (of pages opened before)
    connections: int = 16  # the load generator's concurrent connections
    invitations: int = 5000
    mail_workers: int = 1
    server_workers: int = 1  # processes of `meetups serve --workers` and of the baseline
    rush_guests: int = 200  # simultaneous acceptances ...
    rush_capacity: int = 50  # ... for this many places
    feedback_responses: int = 100_000

    @classmethod
    def quick(cls) -> "Scale":
        return cls(
            rsvp_guests=30,
            rsvp_gets=60,
            connections=4,
            invitations=40,
            rush_guests=20,
            rush_capacity=5,
            feedback_responses=300,
        )


@dataclass
class Server:
    child: Child
    port: int
    settings: Settings | None = None  # the app's (the baseline has none)

    @property
    def app_settings(self) -> Settings:
        if self.settings is None:
            raise BenchError("the baseline server has no app settings")
        return self.settings

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass
class Run:
    workdir: Path
    children: Children
    scale: Scale
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    _baseline: Server | None = None
    _counter: int = 0

    def name(self, stem: str) -> str:
        self._counter += 1
        return f"{self._counter:02d}-{stem}"

    def settings_for(self, url: str, base_url: str) -> Settings:
        return bench_settings(url, self.workdir / "var", self.secret, base_url)

    def app_environment(self, url: str, base_url: str, **extra: str) -> dict[str, str]:
        return clean_environment(
            {
                "MEETUPS_DATABASE_URL": url,
                "MEETUPS_SECRET_KEY": self.secret,
                "MEETUPS_VAR_DIR": str(self.workdir / "var"),
                "MEETUPS_BASE_URL": base_url,
                "MEETUPS_DEFAULT_LANGUAGE": "en",
                # E-mail is delivered by `meetups worker` processes (benchmark 2 starts them).
                "MEETUPS_WORKER_IN_SERVE": "false",
                **extra,
            }
        )

    def start_app(self, url: str, stem: str, *, workers: int | None = None) -> Server:
        """`meetups serve` on a free port, on the database at `url`."""
        workers = workers or self.scale.server_workers
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        child = self.children.start(
            self.name(stem),
            meetups_command(
                "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)
            ),
            env=self.app_environment(url, base_url),
        )
        wait_for_http(child, f"{base_url}/login")
        return Server(child, port, self.settings_for(url, base_url))

    def baseline(self) -> Server:
        """The bare FastAPI + Jinja2 server, started once per run."""
        if self._baseline is None or self._baseline.child.process.poll() is not None:
            port = free_port()
            child = self.children.start(
                self.name("baseline-app"),
                python_command(
                    "bench.baseline_app",
                    "--host",
                    HOST,
                    "--port",
                    str(port),
                    "--workers",
                    str(self.scale.server_workers),
                ),
                env=clean_environment({}),
            )
            wait_for_http(child, f"http://{HOST}:{port}/page/warm")
            self._baseline = Server(child, port)
        return self._baseline

    async def load(
        self,
        server: Server,
        requests: list[dict[str, Any]],
        *,
        connections: int | None = None,
        burst: bool = False,
        capture: bool = False,
        stem: str = "load",
    ) -> dict[str, Any]:
        """Runs the load generator in a process of its own against `server`."""
        name = self.name(stem)
        spec_path = self.workdir / f"{name}.spec.json"
        result_path = self.workdir / f"{name}.result.json"
        spec: dict[str, Any] = {
            "host": HOST,
            "port": server.port,
            "connections": connections or self.scale.connections,
            "burst": burst,
            "requests": requests,
        }
        if capture:
            spec["capture"] = {"cookie": CSRF_COOKIE, "pattern": CSRF_PATTERN}
        spec_path.write_text(json.dumps(spec))
        await asyncio.to_thread(
            self.children.run,
            name,
            python_command("bench.loadgen", str(spec_path), str(result_path)),
            env=clean_environment({}),
        )
        return json.loads(result_path.read_text())


def form_post(path: str, cookie: str, fields: dict[str, str]) -> dict[str, Any]:
    """A form POST as a browser sends it from one of our pages."""
    return {
        "method": "POST",
        "path": path,
        "headers": {
            "Cookie": f"{CSRF_COOKIE}={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Sec-Fetch-Site": "same-origin",
        },
        "body": urlencode(fields),
    }


def page_get(path: str, cookie: str | None = None) -> dict[str, Any]:
    headers = {"Accept": "text/html", "Accept-Language": "en"}
    if cookie:
        headers["Cookie"] = f"{CSRF_COOKIE}={cookie}"
    return {"method": "GET", "path": path, "headers": headers}


def server_errors(result: dict[str, Any]) -> int:
    return sum(count for code, count in result["statuses"].items() if code.startswith("5"))


def unexpected(result: dict[str, Any], expected: int) -> int:
    """Answers other than `expected`, and requests that got no answer at all."""
    other = sum(count for code, count in result["statuses"].items() if code != str(expected))
    return other + result["error_count"]


def rps(result: dict[str, Any]) -> float:
    return result["requests"] / result["elapsed"]


async def signed_in_client(server: Server) -> httpx.AsyncClient:
    """An HTTP client signed in as the bench's organizer, the way a browser signs in (with a
    long timeout: some of what it does takes long on purpose)."""
    client = httpx.AsyncClient(base_url=server.url, timeout=900.0)
    page = await client.get("/login")
    match = re.search(CSRF_PATTERN, page.text)
    if match is None:
        await client.aclose()
        raise BenchError("the sign-in page carries no CSRF token")
    answer = await client.post(
        "/login",
        data={"email": ORGANIZER_EMAIL, "password": ORGANIZER_PASSWORD, CSRF_FIELD: match[1]},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    if answer.status_code != 303:
        await client.aclose()
        raise BenchError(f"signing in failed: {answer.status_code}")
    return client


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = re.search(CSRF_PATTERN, page.text)
    if match is None:
        raise BenchError(f"{path} carries no CSRF token ({page.status_code})")
    return match[1]


@dataclass
class Backend:
    """One database system the benchmarks run on."""

    name: str  # "SQLite" or "PostgreSQL <version>"
    databases: ScratchDatabases
