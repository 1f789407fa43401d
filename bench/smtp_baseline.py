"""The delivery baseline: a plain aiosmtplib loop sending the same messages over one connection,
with nothing around it (no database, no bookkeeping): `python -m bench.smtp_baseline --port P
--messages FILE`, FILE holding one JSON object (sender, recipient, raw) a line."""

import argparse
import asyncio
import json
from pathlib import Path

import aiosmtplib


async def send_all(port: int, messages: list[dict[str, str]]) -> None:
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=port, start_tls=False, local_hostname="localhost"
    ) as client:
        for message in messages:
            raw = message["raw"]
            data, options = (
                (raw.encode("ascii"), []) if raw.isascii() else (raw.encode(), ["SMTPUTF8"])
            )
            await client.sendmail(
                message["sender"], [message["recipient"]], data, mail_options=options
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--messages", type=Path, required=True)
    options = parser.parse_args()
    with options.messages.open(encoding="utf-8") as lines:
        messages = [json.loads(line) for line in lines]
    asyncio.run(send_all(options.port, messages))


if __name__ == "__main__":
    main()
