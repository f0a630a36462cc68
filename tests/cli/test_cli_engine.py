"""`panelslot slots` and `panelslot busy`: contracts, output and error exits."""

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from web.cli import main

ROOT = Path(__file__).resolve().parents[2]

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

[[loops]]
id = "screen"
[[loops.sessions]]
name = "Screen"
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


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "team.toml").write_text(CONFIG)
    (tmp_path / "alice.ics").write_text(ALICE_ICS)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def slots(workdir: Path, *extra: str, dates: tuple[str, str] = ("2027-03-02", "2027-03-02")):
    return run(
        "slots",
        str(workdir / "team.toml"),
        "--loop",
        "screen",
        "--from",
        dates[0],
        "--to",
        dates[1],
        "--candidate-tz",
        "Europe/London",
        "--now",
        "2027-03-01T00:00:00Z",
        *extra,
    )


def test_slots_json_contract(workdir):
    result = slots(workdir, "--json", "--limit", "0")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["options"]
    starts = sorted(o["sessions"][0]["start"] for o in data["options"])
    # 09:00-12:00 London (GMT), busy 10:00-10:30: 09:00 fits; 10:30 and 11:00 fit
    assert starts == ["2027-03-02T09:00:00Z", "2027-03-02T10:30:00Z", "2027-03-02T11:00:00Z"]
    option = data["options"][0]
    assert list(option) == ["score", "sessions"]
    assert list(option["sessions"][0]) == ["name", "start", "end", "interviewers"]
    assert option["sessions"][0]["interviewers"] == ["alice"]
    assert isinstance(option["score"], float) and 0 <= option["score"] <= 1


def test_slots_table_shows_candidate_and_interviewer_local_times(workdir):
    result = run(
        "slots",
        str(workdir / "team.toml"),
        "--loop",
        "screen",
        "--from",
        "2027-03-02",
        "--to",
        "2027-03-02",
        "--candidate-tz",
        "Asia/Kolkata",
        "--candidate-hours",
        "13:00-20:00",
        "--now",
        "2027-03-01T00:00:00Z",
    )
    assert result.exit_code == 0, result.output
    assert "14:30-15:30 IST" in result.output  # 09:00 GMT
    assert "alice 09:00-10:00 GMT" in result.output


def test_candidate_hours_limit_options(workdir):
    result = slots(workdir, "--json", "--candidate-hours", "10:00-12:00")
    starts = [o["sessions"][0]["start"] for o in json.loads(result.output)["options"]]
    assert sorted(starts) == ["2027-03-02T10:30:00Z", "2027-03-02T11:00:00Z"]


def assert_clean_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    for needle in needles:
        assert needle in result.output


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        (
            '"Europe/London"',
            '"Europe/Lndon"',
            ("team.toml", "interviewers[0].timezone", "Europe/Lndon"),
        ),
        (
            '["09:00-12:00"]',
            '["09:00-12:00", "11:00-13:00"]',
            ("interviewers[0].working_hours.tue",),
        ),
        ('["09:00-12:00"]', '["9-12"]', ("interviewers[0].working_hours.tue[0]", "9-12")),
        (
            'interviewers = ["alice"]',
            'interviewers = ["bob"]',
            ("loops[0].sessions[0].interviewers[0]", "bob"),
        ),
        (
            'interviewers = ["alice"]',
            'interviewers = ["alice"]\nrequired = 2',
            ("loops[0].sessions[0].required", "2"),
        ),
        (
            '["alice.ics"]',
            '["missing.ics"]',
            ("interviewers[0].calendars[0]", "missing.ics", "not found"),
        ),
        ("[scheduling]", "[scheduling", ("team.toml", "TOML")),
    ],
)
def test_invalid_config_is_one_line_exit_2(workdir, old, new, needles):
    path = workdir / "team.toml"
    path.write_text(CONFIG.replace(old, new, 1))
    assert_clean_error(slots(workdir), *needles)


def test_unknown_loop(workdir):
    result = run(
        "slots",
        str(workdir / "team.toml"),
        "--loop",
        "onsite",
        "--from",
        "2027-03-02",
        "--to",
        "2027-03-02",
        "--candidate-tz",
        "UTC",
    )
    assert_clean_error(result, "onsite", "screen")


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--candidate-tz", "Mars/Base"),
        ("--from", "2027-13-01"),
        ("--candidate-hours", "20:00-08:00"),
        ("--now", "yesterday"),
    ],
)
def test_bad_arguments(workdir, flag, value):
    args = {
        "--candidate-tz": "UTC",
        "--from": "2027-03-02",
        "--candidate-hours": "08:00-20:00",
        "--now": "2027-03-01T00:00:00Z",
    } | {flag: value}
    result = run(
        "slots",
        str(workdir / "team.toml"),
        "--loop",
        "screen",
        "--to",
        "2027-03-03",
        *[part for pair in args.items() for part in pair],
    )
    assert_clean_error(result, value)


def test_missing_config_file(tmp_path):
    result = run(
        "slots",
        str(tmp_path / "nope.toml"),
        "--loop",
        "x",
        "--from",
        "2027-03-02",
        "--to",
        "2027-03-02",
        "--candidate-tz",
        "UTC",
    )
    assert_clean_error(result, "nope.toml", "not found")


def test_malformed_calendar_names_file_and_line(workdir):
    (workdir / "alice.ics").write_text(ALICE_ICS.replace("END:VEVENT\n", "", 1))
    result = slots(workdir)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "alice.ics" in result.output and "line" in result.output


def test_busy_json_is_merged_sorted_and_clipped(tmp_path):
    ics = tmp_path / "cal.ics"
    ics.write_text(
        textwrap.dedent("""\
        BEGIN:VCALENDAR
        VERSION:2.0
        PRODID:-//test//EN
        BEGIN:VEVENT
        UID:b
        DTSTAMP:20270101T000000Z
        DTSTART:20270302T100000Z
        DTEND:20270302T110000Z
        END:VEVENT
        BEGIN:VEVENT
        UID:a
        DTSTAMP:20270101T000000Z
        DTSTART:20270302T103000Z
        DTEND:20270302T120000Z
        END:VEVENT
        BEGIN:VEVENT
        UID:c
        DTSTAMP:20270101T000000Z
        DTSTART:20270301T220000Z
        DTEND:20270302T010000Z
        END:VEVENT
        BEGIN:VEVENT
        UID:d
        DTSTAMP:20270101T000000Z
        DTSTART:20270302T130000Z
        DTEND:20270302T140000Z
        TRANSP:TRANSPARENT
        END:VEVENT
        END:VCALENDAR
        """)
    )
    result = run(
        "busy",
        str(ics),
        "--timezone",
        "UTC",
        "--from",
        "2027-03-02",
        "--to",
        "2027-03-02",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "busy": [
            {"start": "2027-03-02T00:00:00Z", "end": "2027-03-02T01:00:00Z"},
            {"start": "2027-03-02T10:00:00Z", "end": "2027-03-02T12:00:00Z"},
        ]
    }
    table = run(
        "busy", str(ics), "--timezone", "Asia/Tokyo", "--from", "2027-03-02", "--to", "2027-03-02"
    )
    assert table.exit_code == 0 and "busy interval" in table.output


def test_busy_declined_event_is_free(tmp_path):
    ics = tmp_path / "cal.ics"
    ics.write_text(
        ALICE_ICS.replace("SUMMARY:Busy", "ATTENDEE;PARTSTAT=DECLINED:mailto:Me@Example.com")
    )
    args = [
        "busy",
        str(ics),
        "--timezone",
        "Europe/London",
        "--from",
        "2027-03-02",
        "--to",
        "2027-03-02",
        "--json",
    ]
    assert json.loads(run(*args).output)["busy"]
    assert json.loads(run(*args, "--email", "me@example.com").output) == {"busy": []}


def test_example_config_plans_both_loops():
    for loop in ("onsite", "screen"):
        result = run(
            "slots",
            str(ROOT / "config.example.toml"),
            "--loop",
            loop,
            "--from",
            "2027-03-01",
            "--to",
            "2027-03-05",
            "--candidate-tz",
            "Asia/Kolkata",
            "--now",
            "2027-02-26T00:00:00Z",
            "--json",
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["options"], loop


def test_console_script_help():
    exe = shutil.which("panelslot")
    if exe is None:
        pytest.skip("panelslot console script not installed (pip install -e .)")
    import subprocess

    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    assert "slots" in out and "busy" in out


@pytest.fixture
def ics_url():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            body = ALICE_ICS.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alice.ics"
    server.shutdown()
    server.server_close()


def test_calendars_may_be_urls(workdir, ics_url):
    (workdir / "team.toml").write_text(CONFIG.replace('["alice.ics"]', f'["{ics_url}"]'))
    (workdir / "alice.ics").unlink()
    data = json.loads(slots(workdir, "--json", "--limit", "0").output)
    starts = sorted(o["sessions"][0]["start"] for o in data["options"])
    assert starts == ["2027-03-02T09:00:00Z", "2027-03-02T10:30:00Z", "2027-03-02T11:00:00Z"]
    busy = run(
        "busy",
        ics_url,
        "--timezone",
        "Europe/London",
        "--from",
        "2027-03-02",
        "--to",
        "2027-03-02",
        "--json",
    )
    assert json.loads(busy.output) == {
        "busy": [{"start": "2027-03-02T10:00:00Z", "end": "2027-03-02T10:30:00Z"}]
    }
