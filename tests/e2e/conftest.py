"""Browser tests: the real app in its own process (`meetups serve`), driven by Debian's Chromium
through Playwright. Skipped, with the reason, where no Chromium is installed."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("MEETUPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium to run browser tests")
    return CHROMIUM


class LiveServer:
    def __init__(self, url: str, var_dir: Path, env: dict[str, str]) -> None:
        self.url = url
        self.var_dir = var_dir
        self.env = env

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Runs `meetups ARGS` against the same database as the server."""
        return subprocess.run(
            [sys.executable, "-m", "meetups.cli", *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


@pytest.fixture
def live_server_env() -> dict[str, str]:
    """More MEETUPS_* settings for the live server; a test module overrides this fixture (to turn
    the mail catcher on, say)."""
    return {}


@pytest.fixture
def live_server(tmp_path: Path, live_server_env: dict[str, str]) -> Iterator[LiveServer]:
    """A fresh `meetups serve` on SQLite in its own process, as `make run` starts it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    var_dir = tmp_path / "var"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MEETUPS_")},
        "MEETUPS_VAR_DIR": str(var_dir),
        "MEETUPS_BASE_URL": url,
        "MEETUPS_DEFAULT_LANGUAGE": "en",
        **live_server_env,
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "meetups.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/login", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.2)
        yield LiveServer(url, var_dir, env)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def browser_context_args() -> dict[str, object]:
    return {"viewport": LAPTOP, "locale": "en-GB"}


@pytest.fixture
def chromium(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def screenshot(page: object, name: str) -> None:
    """Saves the page at laptop and phone width into test-artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size  # type: ignore[attr-defined]
    for label, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)  # type: ignore[attr-defined]
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)  # type: ignore[attr-defined]
    page.set_viewport_size(original)  # type: ignore[attr-defined]
