"""Browser tests: the real app in its own process (`meetups serve`), driven by Debian's Chromium
through Playwright. Skipped, with the reason, where no Chromium is installed."""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from meetups.config import Settings
from meetups.invitations.links import link_token
from tests.network import free_port

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
DEMO_ORGANIZER = "demo@example.com"

pytestmark = pytest.mark.browser


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

    def load_demo(self) -> str:
        """Fills the database with the demo (`meetups demo`); returns the password it made for
        the demo organizer."""
        output = self.cli("demo").stdout
        match = re.search(r"password: (\S+)", output)
        assert match, output
        return match.group(1)

    @cached_property
    def settings(self) -> Settings:
        """The server's settings as far as a test needs them: where its database and secret key
        are, and its address."""
        return Settings(_env_file=None, var_dir=self.var_dir, base_url=self.url)  # type: ignore[call-arg]

    def query_one(self, sql: str, *parameters: object) -> tuple[Any, ...] | None:
        """The first row `sql` finds in the server's SQLite database: the test's way to what only
        an e-mail would tell it, such as which guest to be."""
        database = Path(self.settings.resolved_database_url.split("///", 1)[1])
        with closing(sqlite3.connect(database)) as connection:
            return connection.execute(sql, parameters).fetchone()

    def personal_link(self, link_nonce: str) -> str:
        """A guest's personal link, as their e-mails carry it."""
        return f"{self.url}/i/{link_token(link_nonce, self.settings.secret)}"


@pytest.fixture
def live_server_env() -> dict[str, str]:
    """More MEETUPS_* settings for the live server; a test module overrides this fixture (to turn
    the mail catcher on, say)."""
    return {}


def mail_catcher_env() -> dict[str, str]:
    """For a module's `live_server_env`: the built-in mail catcher on, and a worker that looks for
    mail to send every half second, so that a test sees its e-mails arrive soon."""
    return {
        "MEETUPS_MAIL_CATCHER": "true",
        "MEETUPS_MAIL_CATCHER_PORT": str(free_port()),
        "MEETUPS_WORKER_POLL_SECONDS": "0.5",
    }


@pytest.fixture
def live_server(tmp_path: Path, live_server_env: dict[str, str]) -> Iterator[LiveServer]:
    """A fresh `meetups serve` on SQLite in its own process, as `make run` starts it."""
    port = free_port()
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
def chromium(chromium_path: str) -> Iterator[Browser]:
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


def new_phone_context(
    browser: Browser, *, locale: str = "en-GB", touch: bool = False
) -> BrowserContext:
    """A browser context of a phone's size (390×844); with `touch`, also with a phone's touch
    screen and its handling of the viewport, not just its width."""
    return browser.new_context(locale=locale, viewport=PHONE, has_touch=touch, is_mobile=touch)


def sign_in_as_demo_organizer(page: Page, live_server: LiveServer, password: str) -> None:
    """Signs in on the login page as the organizer `LiveServer.load_demo` made."""
    page.goto(f"{live_server.url}/login")
    page.get_by_label("E-mail address").fill(DEMO_ORGANIZER)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/events")


def new_organizer_page(browser: Browser, live_server: LiveServer, password: str) -> Page:
    """A new page, in English, signed in as the demo organizer."""
    page = browser.new_page(locale="en-GB")
    sign_in_as_demo_organizer(page, live_server, password)
    return page


def open_caught_mail(
    page: Page, live_server: LiveServer, subject: str | re.Pattern[str], recipient: str
) -> None:
    """Opens, in the mail catcher, the first e-mail its inbox lists with that subject, and checks
    it went to the recipient. The worker delivers in the background, later on a busy machine; the
    open inbox shows new mail by itself (htmx asks every 5 seconds), so the test waits without
    reloading: that is what a person watching the inbox sees."""
    message = page.get_by_role("link", name=subject).first
    page.goto(f"{live_server.url}/mail")
    expect(message).to_be_visible(timeout=60_000)
    message.click()
    expect(page.locator("main")).to_contain_text(recipient)


def assert_fits_the_screen(page: Page) -> None:
    """Nothing sticks out sideways: on a phone, that would mean scrolling both ways."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
