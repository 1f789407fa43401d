"""Running the real commands: `meetups serve` and `meetups worker` as processes of their own, on
the test's database, with their output kept for reading."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from meetups.config import Settings
from tests.conftest import TEST_SECRET
from tests.network import free_port


def command_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `meetups` command on the test's database, plus MEETUPS_* `extra`."""
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("MEETUPS_")},
        "MEETUPS_VAR_DIR": str(settings.var_dir),
        "MEETUPS_DATABASE_URL": settings.resolved_database_url,
        "MEETUPS_SECRET_KEY": TEST_SECRET,
        "MEETUPS_DEFAULT_LANGUAGE": "en",
        "MEETUPS_SMTP_HOST": "127.0.0.1",
        "MEETUPS_SMTP_PORT": str(free_port()),
        **{f"MEETUPS_{key.upper()}": value for key, value in extra.items()},
    }


def run_cli(
    env: dict[str, str], *args: str, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meetups.cli", *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Process:
    """A running `meetups` command; `stop()` sends SIGTERM and returns what it wrote."""

    popen: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    url: str = ""
    stopped: bool = field(default=False)

    def stop(self) -> tuple[str, str]:
        if not self.stopped:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
            self.stopped = True
        return self.stdout, self.stderr

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


StartCommand = Callable[..., Process]


@pytest.fixture
def start_command(tmp_path: Path) -> Iterator[StartCommand]:
    """`start_command(env, "serve", "--port", "8123", wait_for="http://...")`: starts the command;
    with `wait_for`, returns once that address answers."""
    processes: list[Process] = []

    def start(env: dict[str, str], *args: str, wait_for: str | None = None) -> Process:
        number = len(processes)
        stdout_path = tmp_path / f"command{number}.out"
        stderr_path = tmp_path / f"command{number}.err"
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            popen = subprocess.Popen(
                [sys.executable, "-m", "meetups.cli", *args],
                env=env,
                stdout=out,
                stderr=err,
                cwd=tmp_path,
            )
        process = Process(popen, stdout_path, stderr_path, url=wait_for or "")
        processes.append(process)
        if wait_for:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{wait_for}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    if popen.poll() is not None or time.monotonic() > deadline:
                        process.stop()
                        raise RuntimeError(process.stderr) from None
                    time.sleep(0.2)
        return process

    yield start
    for process in processes:
        process.stop()


def start_serve(start_command: StartCommand, env: dict[str, str], *args: str) -> Process:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return start_command(env, "serve", "--port", str(port), *args, wait_for=url)


def wait_until(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("the condition did not come true in time")
