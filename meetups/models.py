"""Imports every area's tables, so that SQLModel.metadata is complete (Alembic, tests)."""

from meetups.accounts.models import ApiToken, LoginFailure, LoginSession, Organizer, PasswordReset
from meetups.calendar.models import CalendarFeed
from meetups.checkin.models import CheckIn
from meetups.contacts.models import Contact, ContactTag, Tag
from meetups.coverage.models import CoverageLink
from meetups.events.models import Event
from meetups.feedback.models import (
    FeedbackAnswer,
    FeedbackAnswered,
    FeedbackOption,
    FeedbackQuestion,
    FeedbackRequest,
    FeedbackResponse,
    FeedbackSettings,
)
from meetups.invitations.models import Invitee, SentReminder, Suppression
from meetups.mail.models import CaughtMail, OutboxMessage, WorkerHeartbeat
from meetups.privacy.models import PrivacyRecord
from meetups.travel.models import (
    Claim,
    ClaimDecision,
    ClaimItem,
    PayoutAccount,
    Receipt,
    ReceiptContent,
    TravelBudget,
)

__all__ = [
    "ApiToken",
    "CalendarFeed",
    "CaughtMail",
    "CheckIn",
    "Claim",
    "ClaimDecision",
    "ClaimItem",
    "Contact",
    "ContactTag",
    "CoverageLink",
    "Event",
    "FeedbackAnswer",
    "FeedbackAnswered",
    "FeedbackOption",
    "FeedbackQuestion",
    "FeedbackRequest",
    "FeedbackResponse",
    "FeedbackSettings",
    "Invitee",
    "LoginFailure",
    "LoginSession",
    "Organizer",
    "OutboxMessage",
    "PasswordReset",
    "PayoutAccount",
    "PrivacyRecord",
    "Receipt",
    "ReceiptContent",
    "SentReminder",
    "Suppression",
    "Tag",
    "TravelBudget",
    "WorkerHeartbeat",
]
