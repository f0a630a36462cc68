"""Blueprints per audience: the coordinator (shell, interviewers, loops, requests, booking),
the candidate, the interviewer (own page, Google, Microsoft 365), health (and demo)."""
