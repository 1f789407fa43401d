"""Imports every area's tables, so that SQLModel.metadata is complete (Alembic, tests)."""

from meetups.accounts.models import LoginFailure, LoginSession, Organizer
from meetups.calendar.models import CalendarFeed
from meetups.checkin.models import CheckIn
from meetups.contacts.models import Contact, ContactTag, Tag
from meetups.events.models import Event
from meetups.invitations.models import Invitee, SentReminder, Suppression
from meetups.mail.models import CaughtMail, OutboxMessage

__all__ = [
    "CalendarFeed", "CaughtMail", "CheckIn", "Contact", "ContactTag", "Event", "Invitee",
    "LoginFailure", "LoginSession", "Organizer", "OutboxMessage", "SentReminder", "Suppression",
    "Tag",
]
