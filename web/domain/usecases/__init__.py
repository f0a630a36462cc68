"""Use cases behind the coordinator and interviewer pages; each takes a Session and ``now``."""
