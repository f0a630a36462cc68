"""Blueprints per audience: coordinator, candidate, interviewer, health (and demo)."""
