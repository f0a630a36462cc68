"""Settings: one schema, TOML file, PANELSLOT_* variables, secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from web.store.settings import SCHEMA, SettingsError, check_secret_key, load_settings
from web.ui.app import create_app


def test_every_option_has_default_type_and_help() -> None:
    for opt in SCHEMA:
        assert opt.help and isinstance(opt.default, opt.type), opt.key


def test_defaults_without_file_or_environment() -> None:
    st = load_settings(environ={})
    assert st.server.port == 8000
    assert st.origins["server.port"] == "default"
    assert st.database_url.startswith("sqlite:///")


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "panelslot.toml"
    cfg.write_text('[server]\nport = 9000\nworkers = 3\n[database]\nurl = "postgresql://u@h/db"\n')
    env = {"PANELSLOT_CONFIG": str(cfg), "PANELSLOT_SERVER_WORKERS": "5"}
    st = load_settings({"server.host": "0.0.0.0"}, environ=env)
    assert st.server.port == 9000 and st.origins["server.port"] == f"{cfg} [server]"
    assert (
        st.server.workers == 5
        and st.origins["server.workers"] == "environment PANELSLOT_SERVER_WORKERS"
    )
    assert st.server.host == "0.0.0.0" and st.origins["server.host"] == "overrides"
    assert st.database_url == "postgresql+psycopg://u@h/db"


def test_engine_sections_in_the_same_file_are_ignored(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[scheduling]\ngranularity_minutes = 15\n[server]\nport = 8100\n")
    assert load_settings(environ={"PANELSLOT_CONFIG": str(cfg)}).server.port == 8100


def test_error_names_the_environment_variable() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(environ={"PANELSLOT_SERVER_PORT": "eighty"})
    assert (
        str(err.value)
        == "environment PANELSLOT_SERVER_PORT: server.port = 'eighty': expected a whole number"
    )


def test_error_names_the_file_and_unknown_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[mail]\nsmtp_hots = 'x'\n")
    with pytest.raises(
        SettingsError, match=r"c.toml \[mail\]: mail.smtp_hots = 'x': unknown setting"
    ):
        load_settings(environ={"PANELSLOT_CONFIG": str(cfg)})


def test_bad_choice_and_bad_bool(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="expected one of smtp, file, none"):
        load_settings(environ={"PANELSLOT_MAIL_SENDER": "pigeon"})
    with pytest.raises(SettingsError, match="expected true or false"):
        load_settings(environ={"PANELSLOT_DATABASE_ECHO": "maybe"})


def test_secret_in_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[security]\nsecret_key = "hunter2hunter2hunter2"\n')
    with pytest.raises(SettingsError) as err:
        load_settings(environ={"PANELSLOT_CONFIG": str(cfg)})
    assert "PANELSLOT_SECRET_KEY" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_missing_config_file_is_one_line() -> None:
    with pytest.raises(SettingsError, match="PANELSLOT_CONFIG: file = '/nope.toml': no such file"):
        load_settings(environ={"PANELSLOT_CONFIG": "/nope.toml"})


@pytest.mark.parametrize("key", ["", "change-me", "short"])
def test_production_refuses_missing_or_default_secret(key: str) -> None:
    st = load_settings(environ={"PANELSLOT_SECRET_KEY": key} if key else {})
    with pytest.raises(SettingsError, match="set PANELSLOT_SECRET_KEY"):
        check_secret_key(st)
    with pytest.raises(SettingsError):
        create_app(settings=st)


def test_demo_and_testing_run_without_secret() -> None:
    for mode in ("demo", "testing"):
        check_secret_key(load_settings(environ={"PANELSLOT_SERVER_MODE": mode}))


def test_production_accepts_a_real_secret(tmp_path: Path) -> None:
    st = load_settings(
        {"database.url": f"sqlite:///{tmp_path / 'x.sqlite3'}"},
        environ={"PANELSLOT_SECRET_KEY": "k" * 40},
    )
    app = create_app(settings=st)
    assert app.config["SECRET_KEY"] == "k" * 40
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_describe_hides_secrets() -> None:
    st = load_settings(environ={"PANELSLOT_SECRET_KEY": "s3cr3t-value-long-enough"})
    rows = dict((k, v) for k, v, _ in st.describe())
    assert rows["security.secret_key"] == "<set>"
