"""`panelslot slots --explain`: the why and the suggestions, each applied through the CLI."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from web.cli import main

CONFIG = """
[scheduling]
granularity_minutes = 30
min_notice_hours = 0
buffer_after_minutes = 0

[[interviewers]]
id = "alice"
email = "alice@example.com"
timezone = "Europe/London"
calendars = ["alice.ics"]
[interviewers.working_hours]
tue = ["09:00-12:00"]
thu = ["09:00-11:00"]

[[interviewers]]
id = "bob"
email = "bob@example.com"
timezone = "Europe/London"
[interviewers.working_hours]
tue = ["07:00-09:00", "11:00-13:00"]

[[loops]]
id = "pair"
order = "fixed"
max_gap_minutes = 15
[[loops.sessions]]
name = "Tech"
duration_minutes = 60
interviewers = ["alice", "bob"]
required = 2
[[loops.sessions]]
name = "Chat"
duration_minutes = 60
interviewers = ["bob"]

[[loops]]
id = "solo"
[[loops.sessions]]
name = "Screen"
duration_minutes = 60
interviewers = ["bob"]

[[loops]]
id = "thu"
[[loops.sessions]]
name = "Deep dive"
duration_minutes = 60
interviewers = ["alice"]
"""

ALICE_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:a1
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/London:20270302T100000
DTEND;TZID=Europe/London:20270302T103000
SUMMARY:Busy
END:VEVENT
END:VCALENDAR
"""

BASE = ["--loop", "pair", "--from", "2027-03-01", "--to", "2027-03-02"]
TZ = ["--candidate-tz", "Europe/London", "--candidate-hours", "09:00-17:00"]
NOW = ["--now", "2027-02-01T00:00:00Z"]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "team.toml").write_text(CONFIG)
    (tmp_path / "alice.ics").write_text(ALICE_ICS)
    return tmp_path


def slots(config: Path, *extra: str, dates=BASE, tz=TZ) -> dict:
    args = ["slots", str(config), *dates, *tz, *NOW, "--json", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def applied(workdir: Path, item: dict, dates=BASE, tz=TZ) -> int:
    """The number of options ``--limit 0`` gives with the suggestion applied."""
    dates, tz, text = list(dates), list(tz), CONFIG
    if item["parameter"] == "to":
        dates[dates.index("--to") + 1] = item["value"]
    elif item["parameter"] == "candidate_hours":
        tz[tz.index("--candidate-hours") + 1] = item["value"]
    elif item["parameter"] == "max_gap_minutes":
        text = text.replace("max_gap_minutes = 15", f"max_gap_minutes = {item['value']}")
    elif item["parameter"] == "order":
        text = text.replace('order = "fixed"', f'order = "{item["value"]}"')
    else:
        pattern = rf'(name = "{item["session"]}"\n(?:[^\n]*\n)*?required = )\d+'
        text = re.sub(pattern, rf"\g<1>{item['value']}", text)
        assert text != CONFIG
    changed = workdir / "changed.toml"
    changed.write_text(text)
    return len(slots(changed, "--limit", "0", dates=dates, tz=tz)["options"])


SOLO = ["--loop", "solo", "--from", "2027-03-01", "--to", "2027-03-02"]
LATE = ["--candidate-tz", "Europe/London", "--candidate-hours", "13:00-17:00"]
WEDNESDAY = ["--loop", "thu", "--from", "2027-03-03", "--to", "2027-03-03"]


@pytest.mark.parametrize(
    ("dates", "tz", "expected"),
    [
        (BASE, TZ, [("required", "Tech", 1, 2)]),
        (SOLO, LATE, [("candidate_hours", None, "12:00-17:00", 1)]),
        (WEDNESDAY, TZ, [("to", None, "2027-03-04", 3)]),
    ],
)
def test_json_gains_why_and_verified_suggestions(workdir, dates, tz, expected):
    out = slots(workdir / "team.toml", "--explain", dates=dates, tz=tz)
    assert out["options"] == [] and out["why"]
    for reason in out["why"]:
        assert set(reason) == {"session", "constraint", "detail"}
    got = [(s["parameter"], s["session"], s["value"], s["options"]) for s in out["suggestions"]]
    assert got == expected
    for item in out["suggestions"]:
        assert set(item) == {"parameter", "session", "value", "options"}
        assert item["options"] == applied(workdir, item, dates, tz) > 0


def test_without_explain_the_json_is_unchanged(workdir):
    assert slots(workdir / "team.toml") == {"options": []}


def test_enough_options_explain_nothing(workdir):
    dates = ["--loop", "thu", "--from", "2027-03-01", "--to", "2027-03-02"]
    out = slots(workdir / "team.toml", "--explain", "--limit", "0", dates=dates)
    assert out["options"] and out["why"] == [] and out["suggestions"] == []
    few = slots(workdir / "team.toml", "--explain", dates=dates)  # 20 asked, fewer found
    assert len(few["options"]) < 20 and few["suggestions"]


def test_table_prints_the_explanation_after_the_options(workdir):
    args = ["slots", str(workdir / "team.toml"), *BASE, *TZ, *NOW, "--explain"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    table, _, rest = result.output.partition("Why only 0 option(s):")
    assert 'Loop "pair"' in table and "Tech:" in rest
    assert "What would work" in rest and 'required = 1 in session "Tech": 2 option(s)' in rest
