"""A local SMTP server that takes every message and counts it: `python -m bench.smtp_sink
--port P --result FILE`. It prints "ready" once it listens; on SIGTERM it stops and writes JSON
to FILE: messages, bytes, and the monotonic times of the first and the last message (the same
clock in every process on Linux), from which the delivery rate is taken."""

import argparse
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class CountingHandler:
    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0
        self.recipients: set[str] = set()
        self.first: float | None = None
        self.last: float | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        now = time.monotonic()
        if self.first is None:
            self.first = now
        self.last = now
        self.messages += 1
        content = envelope.original_content or envelope.content or b""
        self.bytes += len(content)
        self.recipients.update(envelope.rcpt_tos)
        return "250 2.0.0 OK"

    def result(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "bytes": self.bytes,
            "recipients": len(self.recipients),
            "first": self.first,
            "last": self.last,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--result", type=Path, required=True)
    options = parser.parse_args()
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=options.port, enable_SMTPUTF8=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    controller.start()
    print("ready", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()
        options.result.write_text(json.dumps(handler.result()))


if __name__ == "__main__":
    main()
