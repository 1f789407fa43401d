"""Mail inside `meetups serve`: the worker as a background task (unless MEETUPS_WORKER_IN_SERVE
is off) and, with MEETUPS_MAIL_CATCHER on, the catcher's SMTP server. Started and stopped by the
app's lifespan."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from meetups.config import Settings
from meetups.db import Database
from meetups.mail.catcher import start_catcher
from meetups.mail.worker import SHUTDOWN_GRACE_SECONDS, MailWorker

log = logging.getLogger("meetups.mail")


@contextlib.asynccontextmanager
async def mail_services(
    *, database: Database, settings: Settings
) -> AsyncIterator[MailWorker | None]:
    """Yields the running worker (None when it runs elsewhere); on exit the worker finishes the
    message in flight (cancelled after SHUTDOWN_GRACE_SECONDS) and the catcher closes."""
    catcher = (
        await start_catcher(database=database, settings=settings) if settings.mail_catcher else None
    )
    worker: MailWorker | None = None
    task: asyncio.Task[None] | None = None
    try:
        if settings.worker_in_serve:
            worker = MailWorker(database=database, settings=settings)
            task = asyncio.create_task(worker.run(), name="meetups mail worker")
        yield worker
    finally:
        if worker is not None and task is not None:
            worker.stop()
            try:
                await asyncio.wait_for(task, SHUTDOWN_GRACE_SECONDS)
            except TimeoutError:
                log.warning("mail worker did not stop in time; cancelled")
            except Exception:
                log.exception("mail worker ended with an error")
        if catcher is not None:
            catcher.close()
            with contextlib.suppress(TimeoutError):
                # Newer Pythons wait here for open connections; a client that hangs must not
                # keep the app from stopping.
                await asyncio.wait_for(catcher.wait_closed(), 5)


def wake_worker(state: object) -> None:
    """After a request committed new mail: let the app's own worker deliver it now instead of at
    its next poll. Harmless when the worker runs in another process (it finds the mail by poll).
    Pass `request.app.state`."""
    worker = getattr(state, "mail_worker", None)
    if isinstance(worker, MailWorker):
        worker.wake()
