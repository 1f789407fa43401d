"""Child processes of a benchmark run: started on free ports, logged to files, and always stopped
(also after an error or Ctrl-C), so that no server outlives the run."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

REPO_DIR = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 20.0


class BenchError(RuntimeError):
    """Something the benchmark needs did not work; the message says what."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def python_command(module: str, *args: str) -> list[str]:
    """A bench helper module run by the same interpreter as the bench itself."""
    return [sys.executable, "-m", module, *args]


def meetups_command(*args: str) -> list[str]:
    """The installed `meetups` command beside this interpreter (as `make install` puts it)."""
    script = Path(sys.executable).with_name("meetups")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "meetups.cli", *args]


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment for a child: no MEETUPS_* setting of the caller leaks in (they could
    change what is measured), the repository on the import path, and `extra` on top."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MEETUPS_")}
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO_DIR), os.environ.get("PYTHONPATH", "")) if part
    )
    env.update(extra)
    return env


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Children:
    """`with Children(workdir) as children:` every process started through it is stopped when
    the block ends, however it ends."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._running: list[Child] = []

    def __enter__(self) -> "Children":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()

    def start(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
    ) -> Child:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                list(command),
                cwd=cwd or self.workdir,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        child = Child(name, process, log)
        self._running.append(child)
        return child

    def run(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        timeout: float = 3600.0,
    ) -> tuple[Child, float, int]:
        """Runs a command to its end: the child, its wall time in seconds, and its peak resident
        memory in KiB. The peak is the kernel's high-water mark of the child's own memory
        (/proc's VmHWM, read while it runs); the rusage of a finished child is no use here, as
        Linux counts in it the memory of this process, which the child was forked from."""
        started = time.perf_counter()
        child = self.start(name, command, env=env, cwd=cwd)
        deadline = started + timeout
        peak = 0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, peak_rss_kib(child.pid) or 0)
            if time.perf_counter() > deadline:
                self.stop(child)
                raise BenchError(f"{name} took longer than {timeout:.0f} s")
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        child.process.returncode = os.waitstatus_to_exitcode(status)
        self._running.remove(child)
        if child.process.returncode != 0:
            raise BenchError(
                f"{name} failed (exit {child.process.returncode}):\n{child.log_tail()}"
            )
        return child, elapsed, peak or int(usage.ru_maxrss)

    def stop(self, child: Child, sig: int = signal.SIGTERM) -> int | None:
        """Asks the child to stop, waits, and kills it if it does not; its exit code."""
        if child.process.poll() is None:
            try:
                child.process.send_signal(sig)
                child.process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            except ProcessLookupError:
                pass
        if child in self._running:
            self._running.remove(child)
        return child.process.returncode

    def stop_all(self) -> None:
        for child in reversed(list(self._running)):
            self.stop(child)


def wait_for_http(child: Child, url: str, timeout: float = 60.0) -> None:
    """Waits until `url` answers at all (any status), or fails with the child's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise BenchError(f"{child.name} exited early:\n{child.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return
        except urllib.error.HTTPError:
            return  # it answered
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise BenchError(f"{child.name} did not answer at {url} within {timeout:.0f} s")


def wait_for_line(child: Child, text: str, timeout: float = 30.0) -> None:
    """Waits until the child's log holds `text` (a helper saying it is ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in child.log_tail(200):
            return
        if child.process.poll() is not None:
            raise BenchError(f"{child.name} exited early:\n{child.log_tail()}")
        time.sleep(0.05)
    raise BenchError(f"{child.name} was not ready within {timeout:.0f} s:\n{child.log_tail()}")


def peak_rss_kib(pid: int) -> int | None:
    """The peak resident memory of a running process (VmHWM), or None where /proc has none."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None
