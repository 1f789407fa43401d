"""Work the mail worker does on every tick before it delivers: "make due" functions.

Another area registers an async function that queues whatever has become due (reminders, say):

    @scheduled
    async def queue_due_reminders(*, database: Database, settings: Settings, now: datetime) -> None:
        ...

and adds its module to HOOK_MODULES, so that the worker imports it (and so registers the hook)
however it was started. A hook opens its own write session and commits what it queued; it must
be idempotent (it runs every few seconds, in every worker process). A failing hook is logged and
does not stop delivery.
"""

import importlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, TypeVar

from meetups.config import Settings
from meetups.db import Database

# Modules whose import registers hooks (e.g. "meetups.invitations.reminders").
HOOK_MODULES: tuple[str, ...] = (
    "meetups.invitations.reminders",
    "meetups.feedback.requests",
    "meetups.privacy.retention",
)


class SchedulerHook(Protocol):
    def __call__(
        self, *, database: Database, settings: Settings, now: datetime
    ) -> Awaitable[None]: ...


_hooks: list[SchedulerHook] = []
Hook = TypeVar("Hook", bound=Callable[..., Awaitable[None]])


def scheduled(hook: Hook) -> Hook:
    """Registers `hook` to run on every tick of every worker."""
    if hook not in _hooks:
        _hooks.append(hook)  # type: ignore[arg-type]
    return hook


def registered_hooks() -> list[SchedulerHook]:
    for module in HOOK_MODULES:
        importlib.import_module(module)
    return list(_hooks)
