"""Calendars: the event as an iCalendar file (invitations, updates, cancellations), links that
open it in web calendars, and the organizers' subscription feed."""
