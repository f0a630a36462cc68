"""Domain: requests, offers and holds, booking, calendar sync, jobs and the importer. Never imports flask."""
