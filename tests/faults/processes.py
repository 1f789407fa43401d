"""`meetups serve` and `meetups worker` as real processes on the test's database, sending to the
test's SMTP server, for killing (SIGKILL) and restarting."""

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from meetups.config import Settings
from tests.conftest import TEST_SECRET


def environment(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    """MEETUPS_* for a process on the test's database; `extra` as MEETUPS_<NAME>=value."""
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("MEETUPS_")},
        "MEETUPS_DATABASE_URL": settings.resolved_database_url,
        "MEETUPS_SECRET_KEY": TEST_SECRET,
        "MEETUPS_VAR_DIR": str(tmp_path / "var"),
        "MEETUPS_BASE_URL": str(settings.base_url),
        "MEETUPS_DEFAULT_LANGUAGE": settings.default_language,
        "MEETUPS_MAIL_FROM": settings.mail_from,
        "MEETUPS_SMTP_HOST": settings.smtp_host,
        "MEETUPS_SMTP_PORT": str(settings.smtp_port),
        "MEETUPS_SMTP_SECURITY": settings.smtp_security.value,
        "MEETUPS_SMTP_MAX_PER_MINUTE": str(settings.smtp_max_per_minute),
        "MEETUPS_SMTP_TIMEOUT_SECONDS": str(settings.smtp_timeout_seconds),
        **{f"MEETUPS_{name.upper()}": value for name, value in extra.items()},
    }


@dataclass
class Cli:
    """One `meetups ...` process; its output goes to a log file in the test's directory."""

    args: list[str]
    env: dict[str, str]
    tmp_path: Path
    process: asyncio.subprocess.Process | None = None
    logs: list[Path] = field(default_factory=list)

    async def start(self) -> "Cli":
        log = self.tmp_path / f"{self.args[0]}-{len(self.logs) + 1}.log"
        self.logs.append(log)
        with log.open("w") as output:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "meetups.cli",
                *self.args,
                env=self.env,
                cwd=self.tmp_path,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
            )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def output(self) -> str:
        """Everything every run of it wrote."""
        return "\n".join(log.read_text() for log in self.logs)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no finishing the message in flight."""
        assert self.process is not None
        if self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGKILL)

    async def wait(self, seconds: float = 30) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), seconds)

    async def stop(self) -> int:
        """SIGTERM and wait (SIGKILL if it hangs)."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
        try:
            return await self.wait(40)
        except TimeoutError:
            self.kill()
            return await self.wait(10)


async def wait_for(
    condition: Callable[[], Awaitable[bool]], *, seconds: float, what: str, interval: float = 0.1
) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds} s waiting for {what}")
        await asyncio.sleep(interval)


async def wait_until_serving(web: Cli, url: str, seconds: float = 60) -> None:
    async def answers() -> bool:
        if not web.running:
            raise AssertionError(f"meetups serve ended:\n{web.output()}")
        try:
            async with httpx.AsyncClient(timeout=1) as client:
                await client.get(f"{url}/login")
        except httpx.TransportError:
            return False
        return True

    await wait_for(answers, seconds=seconds, what=f"{url} to answer", interval=0.2)
