"""The load generator, run in a process of its own: `python -m bench.loadgen SPEC RESULT`.

A small HTTP/1.1 client on asyncio (uvloop where installed) with keep-alive connections: cheap
enough per request that, on a small machine, the server and not the client is what is measured.
Each of `connections` connections sends the next request of the list as soon as its previous
answer is complete (a closed loop, like wrk). With `burst`, every connection is opened first and
sends exactly one request at the same moment (the capacity benchmark).

SPEC is a JSON file: host, port, connections, burst, requests (method, path, headers, body), and
optionally capture: a cookie name and a regular expression whose first group is taken from each
answer's body. RESULT gets JSON: elapsed seconds, statuses, errors, latencies, captures.
"""

import asyncio
import contextlib
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUEST_TIMEOUT_SECONDS = 120.0


@dataclass
class Request:
    wire: bytes
    index: int


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    close: bool


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    captures: dict[int, tuple[str, str]] = field(default_factory=dict)
    first_sent: float = 0.0
    last_done: float = 0.0


def build_requests(spec: dict[str, Any]) -> list[Request]:
    host = f"{spec['host']}:{spec['port']}"
    built = []
    for index, item in enumerate(spec["requests"]):
        body = item.get("body", "").encode()
        lines = [f"{item['method']} {item['path']} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in item.get("headers", {}).items()]
        if body or item["method"] not in ("GET", "HEAD"):
            lines.append(f"Content-Length: {len(body)}")
        built.append(Request(("\r\n".join(lines) + "\r\n\r\n").encode() + body, index))
    return built


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split()[1])
    headers: list[tuple[str, str]] = []
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip().lower(), value.strip()))
    found = dict(headers)
    if found.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            parts.append(await reader.readexactly(size))
            await reader.readline()
        body = b"".join(parts)
    else:
        body = await reader.readexactly(int(found.get("content-length", "0")))
    return Answer(status, headers, body, found.get("connection", "").lower() == "close")


def capture(answer: Answer, spec: dict[str, Any]) -> tuple[str, str] | None:
    wanted = spec.get("capture")
    if not wanted:
        return None
    cookie = ""
    for name, value in answer.headers:
        if name == "set-cookie" and value.startswith(wanted["cookie"] + "="):
            cookie = value.split(";", 1)[0].split("=", 1)[1]
    match = re.search(wanted["pattern"].encode(), answer.body)
    return cookie, match.group(1).decode() if match else ""


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def exchange(self, request: Request) -> Answer:
        if self.writer is None:
            await self.open()
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(request.wire)
        await self.writer.drain()
        answer = await read_answer(self.reader)
        if answer.close:
            await self.close()
        return answer


async def _one(
    connection: Connection, request: Request, spec: dict[str, Any], outcome: Outcome
) -> None:
    started = time.perf_counter()
    try:
        answer = await asyncio.wait_for(connection.exchange(request), REQUEST_TIMEOUT_SECONDS)
    except (OSError, ConnectionError, asyncio.IncompleteReadError, TimeoutError, ValueError) as e:
        outcome.errors.append(f"{type(e).__name__}: {e}")
        await connection.close()
        return
    done = time.perf_counter()
    outcome.latencies.append(done - started)
    outcome.statuses[answer.status] = outcome.statuses.get(answer.status, 0) + 1
    outcome.last_done = max(outcome.last_done, done)
    captured = capture(answer, spec)
    if captured is not None:
        outcome.captures[request.index] = captured


async def closed_loop(spec: dict[str, Any], requests: list[Request]) -> Outcome:
    outcome = Outcome()
    queue = iter(requests)

    async def worker() -> None:
        connection = Connection(spec["host"], spec["port"])
        try:
            for request in queue:
                await _one(connection, request, spec, outcome)
        finally:
            await connection.close()

    outcome.first_sent = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(spec["connections"], len(requests)))))
    return outcome


async def burst(spec: dict[str, Any], requests: list[Request]) -> Outcome:
    """Every request on a connection of its own, all sent at the same moment."""
    outcome = Outcome()
    connections = [Connection(spec["host"], spec["port"]) for _ in requests]
    await asyncio.gather(*(connection.open() for connection in connections))
    go = asyncio.Event()

    async def fire(connection: Connection, request: Request) -> None:
        await go.wait()
        await _one(connection, request, spec, outcome)

    tasks = [asyncio.create_task(fire(c, r)) for c, r in zip(connections, requests, strict=True)]
    await asyncio.sleep(0.2)  # every task waits at the gate
    outcome.first_sent = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    await asyncio.gather(*(connection.close() for connection in connections))
    return outcome


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    requests = build_requests(spec)
    outcome = await (burst if spec.get("burst") else closed_loop)(spec, requests)
    elapsed = max(outcome.last_done - outcome.first_sent, 1e-9)
    return {
        "requests": len(requests),
        "elapsed": elapsed,
        "statuses": {str(code): count for code, count in sorted(outcome.statuses.items())},
        "errors": outcome.errors[:20],
        "error_count": len(outcome.errors),
        "p50": percentile(outcome.latencies, 0.50),
        "p99": percentile(outcome.latencies, 0.99),
        "max": max(outcome.latencies, default=0.0),
        "captures": {str(index): list(pair) for index, pair in outcome.captures.items()},
    }


def main(argv: list[str]) -> int:
    spec_path, result_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text())
    try:
        import uvloop
    except ImportError:  # the plain event loop works too, only slower
        result = asyncio.run(run(spec))
    else:
        result = uvloop.run(run(spec))
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
