"""The outside world: calendars (ICS feeds, CalDAV, Google) and mail."""
