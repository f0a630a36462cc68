"""Commands: db upgrade/downgrade, import (idempotent), export, create-user, demo."""

from __future__ import annotations

import contextlib
import re
import sys
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from scheduler.config import parse_config
from tests.fixtures.webapp import NOW
from tests.loopback import listening_socket, port_of, socket_activated
from web.cli import main
from web.store import migrate
from web.store.db import Database
from web.store.models import Coordinator, Interviewer, Loop, OutboxMail, SchedulingRequest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def test_db_upgrade_and_downgrade_on_a_fresh_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANELSLOT_DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    runner = CliRunner()
    res = runner.invoke(main, ["db", "current"])
    assert res.exit_code == 0 and res.output.startswith("base")
    res = runner.invoke(main, ["db", "upgrade"])
    assert res.exit_code == 0, res.output
    assert f"database at revision {migrate.head_revision()}" in res.output
    res = runner.invoke(main, ["db", "downgrade", "base"])
    assert res.exit_code == 0 and "database at revision base" in res.output


def test_commands_refuse_an_unmigrated_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANELSLOT_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    res = CliRunner().invoke(main, ["import", str(EXAMPLE)])
    assert res.exit_code == 2
    assert "run `panelslot db upgrade` first" in res.output
    assert "Traceback" not in res.output


def test_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANELSLOT_SERVER_PORT", "http")
    res = CliRunner().invoke(main, ["db", "current"])
    assert res.exit_code == 2
    assert res.output.strip() == (
        "panelslot: environment PANELSLOT_SERVER_PORT: server.port = 'http': "
        "expected a whole number"
    )


def test_import_is_idempotent(runner: CliRunner, database_url: str) -> None:
    res = runner.invoke(main, ["import", str(EXAMPLE)])
    assert res.exit_code == 0, res.output
    assert "created  interviewer alice" in res.output and "created  loop onsite" in res.output
    db = Database(database_url)
    with db.session() as s:
        first = (
            s.scalar(select(func.count()).select_from(Interviewer)),
            s.scalar(select(func.count()).select_from(Loop)),
        )
        alice = s.scalar(select(Interviewer).where(Interviewer.key == "alice"))
        assert alice is not None and alice.timezone == "Africa/Lagos"
        assert alice.working_hours["mon"] == ["09:00-12:00", "13:00-17:00"]
        assert alice.calendars[0].url == str(ROOT / "examples/calendars/alice.ics")
    res = runner.invoke(main, ["import", str(EXAMPLE)])
    assert res.exit_code == 0
    assert res.output.strip().endswith("0 created, 0 updated, 8 unchanged")
    with db.session() as s:
        assert first == (
            s.scalar(select(func.count()).select_from(Interviewer)),
            s.scalar(select(func.count()).select_from(Loop)),
        )
    db.dispose()


def test_import_updates_changed_values(
    runner: CliRunner, database_url: str, tmp_path: Path
) -> None:
    runner.invoke(main, ["import", str(EXAMPLE)])
    text = EXAMPLE.read_text().replace('timezone = "Africa/Lagos"', 'timezone = "Africa/Accra"')
    changed = tmp_path / "changed.toml"
    changed.write_text(text)
    res = runner.invoke(main, ["import", str(changed)])
    assert "updated  interviewer alice" in res.output


def test_import_errors_name_file_field_value(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        EXAMPLE.read_text().replace('timezone = "Africa/Lagos"', 'timezone = "Africa/Atlantis"')
    )
    res = runner.invoke(main, ["import", str(bad)])
    assert res.exit_code == 2
    assert (
        str(bad) in res.output
        and "interviewers[0].timezone" in res.output
        and "Africa/Atlantis" in res.output
    )
    assert "Traceback" not in res.output
    res = runner.invoke(main, ["import", str(tmp_path / "missing.toml")])
    assert res.exit_code == 2 and "no such file" in res.output
    broken = tmp_path / "broken.toml"
    broken.write_text("[[interviewers]\n")
    res = runner.invoke(main, ["import", str(broken)])
    assert res.exit_code == 2 and "not valid TOML" in res.output


def test_export_round_trips(runner: CliRunner, tmp_path: Path) -> None:
    runner.invoke(main, ["import", str(EXAMPLE)])
    out = tmp_path / "export.toml"
    res = runner.invoke(main, ["export", "-o", str(out)])
    assert res.exit_code == 0
    exported = parse_config(tomllib.loads(out.read_text()), str(out))
    original = parse_config(tomllib.loads(EXAMPLE.read_text()), str(EXAMPLE))
    assert {
        i.id: (i.timezone, i.working_hours, i.max_interviews_per_day) for i in exported.interviewers
    } == {
        i.id: (i.timezone, i.working_hours, i.max_interviews_per_day) for i in original.interviewers
    }

    def norm(c: Any) -> dict[str, Any]:
        return {
            lp.id: (
                lp.order,
                lp.min_gap_minutes,
                lp.max_gap_minutes,
                lp.settings,
                [(s.name, s.duration_minutes, sorted(s.pool), s.required) for s in lp.sessions],
            )
            for lp in c.loops
        }

    assert norm(exported) == norm(original)


def test_export_from_the_ui(signed_in: Any) -> None:
    resp = signed_in.get("/export.toml")
    assert resp.status_code == 200 and resp.mimetype == "application/toml"
    assert "attachment" in resp.headers["Content-Disposition"]
    cfg = parse_config(tomllib.loads(resp.get_data(as_text=True)), "export")
    assert {i.id for i in cfg.interviewers} == {"alice", "bob", "devi", "eli"}
    assert {lp.id for lp in cfg.loops} == {"onsite", "screen"}


def test_create_user(runner: CliRunner, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEW_PW", "a long enough password")
    res = runner.invoke(
        main,
        ["create-user", "kim@example.com", "--password-env", "NEW_PW", "--timezone", "Asia/Tokyo"],
    )
    assert res.exit_code == 0 and "created coordinator kim@example.com" in res.output
    db = Database(database_url)
    with db.session() as s:
        row = s.scalar(select(Coordinator).where(Coordinator.email == "kim@example.com"))
        assert (
            row is not None
            and row.timezone == "Asia/Tokyo"
            and "a long enough" not in row.password_hash
        )
    res = runner.invoke(main, ["create-user", "kim@example.com", "--password-env", "NEW_PW"])
    assert res.exit_code == 1 and "an account exists" in res.output
    res = runner.invoke(
        main, ["create-user", "kim@example.com", "--password-env", "NEW_PW", "--update"]
    )
    assert res.exit_code == 0
    db.dispose()


def test_create_user_prompts_and_checks(runner: CliRunner) -> None:
    res = runner.invoke(
        main, ["create-user", "lee@example.com"], input="secret-pass-1\nsecret-pass-1\n"
    )
    assert res.exit_code == 0, res.output
    assert (
        runner.invoke(main, ["create-user", "not-an-email", "--password-env", "X"]).exit_code == 2
    )
    res = runner.invoke(main, ["create-user", "a@example.com", "--password-env", "UNSET_VAR_XYZ"])
    assert res.exit_code == 2 and "UNSET_VAR_XYZ" in res.output
    res = runner.invoke(main, ["create-user", "b@example.com"], input="short\nshort\n")
    assert res.exit_code == 2 and "at least 8 characters" in res.output
    res = runner.invoke(
        main, ["create-user", "c@example.com", "--timezone", "Nowhere/Land", "--password-env", "X"]
    )
    assert res.exit_code == 2 and "not a known time zone" in res.output


def test_demo_sets_up_a_working_company(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PANELSLOT_CONFIG", raising=False)
    folder = tmp_path / "demo"
    res = CliRunner().invoke(main, ["demo", "--dir", str(folder), "--port", "8765", "--no-serve"])
    assert res.exit_code == 0, res.output
    password = re.search(r"password\s+(\S+)", res.output).group(1)  # type: ignore[union-attr]
    link = re.search(r"candidate\s+http://127.0.0.1:8765(/c/\S+)", res.output).group(1)  # type: ignore[union-attr]
    assert "demo@panelslot.example" in res.output
    assert list((folder / "outbox").glob("*.eml"))
    db = Database(f"sqlite:///{folder / 'panelslot-demo.sqlite3'}")
    with db.session() as s:
        zones = set(s.scalars(select(Interviewer.timezone)))
        assert s.scalar(select(func.count()).select_from(Interviewer)) == 6 and len(zones) >= 5
        assert s.scalar(select(func.count()).select_from(Loop)) == 2
        req = s.scalar(select(SchedulingRequest))
        assert req is not None and req.status == "sent" and len(req.options) >= 1
        assert s.scalar(select(OutboxMail.status)) == "sent"
    db.dispose()

    # the printed credentials and link work in the app built on that folder
    from web.ui.app import create_app

    secret_token_app = create_app(
        {"server.mode": "demo", "database.url": f"sqlite:///{folder / 'panelslot-demo.sqlite3'}"}
    )
    client = secret_token_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    resp = client.post(
        "/login",
        data={"email": "demo@panelslot.example", "password": password, "csrf_token": token},
    )
    assert resp.status_code == 302
    assert "Priya Sharma" in client.get("/requests").get_data(as_text=True)
    assert client.get("/demo/outbox").status_code == 200
    # the link was signed with the demo's own key: a different key refuses it politely
    assert client.get(link).status_code == 400


LINK_TOKEN = "eyJyIjoxLCJuIjoiWk00M3pDX0pia2N4Z1lOa25haVF5dyJ9.awtX1g.2C-oMd8VR1u0QLtb4B61XN1HB9M"


def test_serve_and_worker_processes(database_url: str, tmp_path: Path) -> None:
    """`panelslot serve` (gunicorn) and `panelslot worker` as real processes on one database."""
    import json
    import os
    import subprocess
    import time
    import urllib.error
    import urllib.request

    listener = listening_socket()  # handed to gunicorn by socket activation
    port = port_of(listener)
    env = {
        **os.environ,
        "PANELSLOT_DATABASE_URL": database_url,
        "PANELSLOT_SECRET_KEY": "a-real-secret-for-the-serve-test-0123456789",
        "PANELSLOT_SERVER_PUBLIC_URL": "https://panelslot.test/",
        "PANELSLOT_MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PANELSLOT_SERVER_WORKER_POLL_SECONDS": "0.5",
    }
    env.pop("PANELSLOT_CONFIG", None)
    cli = [sys.executable, "-c", "from web.cli import main; main()"]
    serve_args = ["serve", "--port", str(port), "--workers", "2"]
    serve = socket_activated([*cli, *serve_args], [listener], env)
    with listener:
        procs = [
            subprocess.Popen(
                argv,
                env=run_env,
                pass_fds=fds,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for argv, run_env, fds in (
                (serve.argv, serve.env, serve.pass_fds),
                ([*cli, "worker"], env, ()),
            )
        ]

    def health() -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    try:
        deadline = time.monotonic() + 30
        status, body = 0, {}
        while time.monotonic() < deadline:
            try:
                status, body = health()
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        assert status == 200 and body["database"] == "ok" and body["worker"] == "ok", body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as resp:
            assert resp.status == 200 and b"Sign in" in resp.read()
        secret_link = f"http://127.0.0.1:{port}/c/{LINK_TOKEN}?tz=Asia%2FKolkata"
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(secret_link, timeout=5).read()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
    served = procs[0].stdout.read().decode() if procs[0].stdout else ""
    assert "GET /c/[hidden]?[hidden]" in served  # the access log line, token redacted
    assert LINK_TOKEN not in served


def test_serve_refuses_without_secret(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANELSLOT_DATABASE_URL", database_url)
    monkeypatch.delenv("PANELSLOT_SECRET_KEY", raising=False)
    monkeypatch.delenv("PANELSLOT_CONFIG", raising=False)
    res = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert res.exit_code == 2
    assert "set PANELSLOT_SECRET_KEY" in res.output and "Traceback" not in res.output


def test_demo_outbox_page_shows_delivered_mail(
    database_url: str, company: dict[str, int], tmp_path: Path
) -> None:
    from tests.fixtures.webapp import login
    from web.domain.worker import Worker, build_mailer
    from web.ui.app import create_app

    app = create_app(
        {
            "server.mode": "demo",
            "database.url": database_url,
            "mail.sender": "file",
            "mail.outbox_dir": str(tmp_path / "outbox"),
        }
    )
    db = app.extensions["panelslot.db"]
    with db.session() as s:
        s.add(
            OutboxMail(
                to_addr="x@candidate.example",
                subject="Hello demo",
                text_body="Body text",
                next_attempt_at=NOW,
                created_at=NOW,
            )
        )
        s.add(
            OutboxMail(
                to_addr="y@candidate.example",
                subject="Still waiting",
                text_body="later",
                next_attempt_at=NOW + timedelta(days=1),
                created_at=NOW,
            )
        )
    settings = app.extensions["panelslot.settings"]
    Worker(settings, db, build_mailer(settings), clock=lambda: NOW).deliver()
    client = app.test_client()
    assert login(client).status_code == 302
    page = client.get("/demo/outbox").get_data(as_text=True)
    assert "Hello demo" in page and "Body text" in page and "x@candidate.example" in page
    assert "Waiting or failed" in page and "Still waiting" in page
    db.dispose()


def test_settings_command_shows_origins_and_hides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANELSLOT_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("PANELSLOT_SECRET_KEY", "very-secret-value-1234567890")
    monkeypatch.setenv("PANELSLOT_SERVER_PORT", "9100")
    res = CliRunner().invoke(main, ["settings"])
    assert res.exit_code == 0
    lines = {line.split()[0]: line for line in res.output.splitlines() if not line.startswith(" ")}
    assert (
        "9100" in lines["server.port"]
        and "environment PANELSLOT_SERVER_PORT" in lines["server.port"]
    )
    assert f"{EXAMPLE} [mail]" in lines["mail.sender"]
    assert "<set>" in lines["security.secret_key"]
    assert "very-secret" not in res.output
