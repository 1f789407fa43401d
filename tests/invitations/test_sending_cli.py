"""`meetups invite EVENT_SLUG`: queues invitations for everyone not invited yet, for scripting."""

import asyncio
import os
from typing import Any

from typer.testing import CliRunner, Result

from meetups.cli import app
from meetups.invitations.models import InviteeStatus
from tests import factories
from tests.conftest import TEST_SECRET
from tests.invitations.organizer_helpers import SLUG, add_guest, outbox, statuses, suppress


async def _invite(settings: Any, *arguments: str) -> Result:
    """Runs the command as a shell would, on the test's database (in a thread: the command runs
    its own event loop)."""
    environment = {key: None for key in os.environ if key.startswith("MEETUPS_")}
    environment.update(
        {
            "MEETUPS_DATABASE_URL": settings.resolved_database_url,
            "MEETUPS_SECRET_KEY": TEST_SECRET,
            "MEETUPS_VAR_DIR": str(settings.var_dir),
            "MEETUPS_BASE_URL": "http://testserver",
        }
    )
    runner = CliRunner()
    return await asyncio.to_thread(
        runner.invoke, app, ["invite", *arguments], env=environment, catch_exceptions=False
    )


async def test_invite_queues_everyone_not_invited_and_names_who_was_skipped(
    session: Any, settings: Any
) -> None:
    event = await factories.make_event(session)
    await add_guest(session, event, "Anna Müller")
    await add_guest(session, event, "Jonas Schmidt")
    await add_guest(session, event, "Lea Schneider", settings=settings)
    await add_guest(session, event, "Udo Unsubscribed", email="udo@example.org")
    await suppress(session, "udo@example.org")
    await session.commit()

    result = await _invite(settings, SLUG)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2 invitations queued for 'Bloggertreffen Montabaur'."
    assert lines[1] == (
        "Skipped Udo Unsubscribed <udo@example.org>: suppressed "
        "(Unsubscribed with the link in one of our e-mails)."
    )
    assert "meetups worker" in result.output
    assert await statuses(session, event) == {
        "Anna Müller": InviteeStatus.invited.value,
        "Jonas Schmidt": InviteeStatus.invited.value,
        "Lea Schneider": InviteeStatus.invited.value,
        "Udo Unsubscribed": InviteeStatus.not_invited.value,
    }
    assert len(await outbox(session, kind="invitation")) == 2

    again = await _invite(settings, SLUG)

    assert again.exit_code == 0
    assert again.output.startswith("0 invitations queued for 'Bloggertreffen Montabaur'.\n")
    assert "Skipped Udo Unsubscribed" in again.output
    assert len(await outbox(session, kind="invitation")) == 2


async def test_invite_when_everyone_is_invited_is_no_error(session: Any, settings: Any) -> None:
    event = await factories.make_event(session)
    await add_guest(session, event, "Lea Schneider", settings=settings)
    await session.commit()

    result = await _invite(settings, SLUG)

    assert result.exit_code == 0
    assert result.output == "Everyone on the guest list has had an invitation already.\n"
    assert await outbox(session) == []


async def test_invite_refuses_unknown_and_closed_events(session: Any, settings: Any) -> None:
    await factories.make_event(session, slug="entwurf", status="draft")
    await session.commit()

    unknown = await _invite(settings, "no-such-event")
    odd = await _invite(settings, "../../etc/passwd")
    draft = await _invite(settings, "entwurf")

    assert unknown.exit_code == 1
    assert "There is no such event." in unknown.output
    assert odd.exit_code == 1
    assert draft.exit_code == 1
    assert "Publish it before you send invitations." in draft.output
    assert await outbox(session) == []
