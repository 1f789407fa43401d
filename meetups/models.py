"""Imports every area's tables, so that SQLModel.metadata is complete (Alembic, tests)."""

from meetups.accounts.models import LoginFailure, LoginSession, Organizer
from meetups.contacts.models import Contact, ContactTag, Tag
from meetups.events.models import Event
from meetups.invitations.models import Invitee

__all__ = ["Contact", "ContactTag", "Event", "Invitee", "LoginFailure", "LoginSession", "Organizer", "Tag"]
