"""Domain: requests, offers, holds, booking, calendar sync, jobs, importer. Never imports flask."""
