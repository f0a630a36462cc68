"""Sign-in: hashed passwords, CSRF on every form, rate limiting, sign-out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.fixtures.webapp import PASSWORD, get_csrf, login
from web.store.db import Database
from web.store.models import AuditLog, Coordinator


def test_pages_need_sign_in(client: Any, company: dict[str, int]) -> None:
    for url in ("/requests", "/interviewers", "/loops", "/requests/new", "/export.toml", "/audit"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"], url


def test_sign_in_and_out(client: Any, company: dict[str, int], db: Database) -> None:
    resp = login(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/requests")
    page = client.get("/requests").get_data(as_text=True)
    assert "Scheduling requests" in page
    token = get_csrf(client, "/requests")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/requests").status_code == 302
    with db.session() as s:
        assert s.scalar(select(AuditLog.action).where(AuditLog.action == "signin")) == "signin"


def test_password_is_hashed(db: Database, company: dict[str, int]) -> None:
    with db.session() as s:
        row = s.scalar(select(Coordinator).where(Coordinator.email == "ann@example.com"))
        assert row is not None and PASSWORD not in row.password_hash
        assert row.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_wrong_password(client: Any, company: dict[str, int]) -> None:
    resp = login(client, password="not it")
    assert resp.status_code == 401
    assert "Wrong e-mail or password." in resp.get_data(as_text=True)
    assert client.get("/requests").status_code == 302


def test_unknown_email_same_message(client: Any, company: dict[str, int]) -> None:
    resp = login(client, email="nobody@example.com")
    assert resp.status_code == 401 and "Wrong e-mail or password." in resp.get_data(as_text=True)


def test_case_insensitive_email(client: Any, company: dict[str, int]) -> None:
    assert login(client, email="ANN@example.com").status_code == 302


def test_csrf_missing_on_sign_in(client: Any, company: dict[str, int]) -> None:
    resp = client.post("/login", data={"email": "ann@example.com", "password": PASSWORD})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "security token" in body and "Traceback" not in body


def test_csrf_missing_on_workspace_forms(signed_in: Any) -> None:
    for url in (
        "/logout",
        "/interviewers/new",
        "/loops/new",
        "/requests/new",
        "/interviewers/1/active",
    ):
        resp = signed_in.post(url, data={"name": "x"})
        assert resp.status_code == 400, url
        assert "security token" in resp.get_data(as_text=True)


def test_rate_limited_after_repeated_failures(client: Any, company: dict[str, int]) -> None:
    for _ in range(5):
        assert login(client, password="wrong").status_code == 401
    resp = login(client)  # right password, but locked for the window
    assert resp.status_code == 429
    assert "Too many failed sign-ins" in resp.get_data(as_text=True)


def test_other_account_not_limited(client: Any, company: dict[str, int]) -> None:
    for _ in range(5):
        login(client, password="wrong")
    assert login(client, email="zed@example.com").status_code == 302


def test_next_is_kept_but_never_offsite(client: Any, company: dict[str, int]) -> None:
    token = get_csrf(client, "/login")
    data = {"email": "ann@example.com", "password": PASSWORD, "csrf_token": token}
    resp = client.post("/login?next=/loops", data=data)
    assert resp.headers["Location"].endswith("/loops")
    client.post("/logout", data={"csrf_token": get_csrf(client, "/loops")})
    token = get_csrf(client, "/login")
    data["csrf_token"] = token
    resp = client.post("/login?next=//evil.example/x", data=data)
    assert resp.headers["Location"].endswith("/requests")


def test_deactivated_account_cannot_sign_in(
    client: Any, company: dict[str, int], db: Database
) -> None:
    with db.session() as s:
        s.get(Coordinator, company["ann"]).active = False  # type: ignore[union-attr]
    assert login(client).status_code == 401


def test_404_and_405_are_pages_not_tracebacks(client: Any, company: dict[str, int]) -> None:
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and "There is nothing at this address." in resp.get_data(
        as_text=True
    )
    assert client.get("/logout").status_code == 405


def test_account_zone_and_password(signed_in: Any, db: Database, app: Any) -> None:
    page = signed_in.get("/account").get_data(as_text=True)
    assert 'value="Europe/London"' in page
    token = get_csrf(signed_in, "/account")
    resp = signed_in.post(
        "/account", data={"csrf_token": token, "name": "Ann", "timezone": "Asia/Tokyo"}
    )
    assert resp.status_code == 302
    with db.session() as s:
        row = s.scalar(select(Coordinator).where(Coordinator.email == "ann@example.com"))
        assert row is not None and row.timezone == "Asia/Tokyo"
    bad = signed_in.post("/account", data={"csrf_token": token, "timezone": "Moon/Base"})
    assert bad.status_code == 400 and "is not a known time zone" in bad.get_data(as_text=True)
    wrong = signed_in.post(
        "/account",
        data={
            "csrf_token": token,
            "timezone": "UTC",
            "current_password": "nope",
            "new_password": "another-password",
        },
    )
    assert "The current password is wrong." in wrong.get_data(as_text=True)
    ok = signed_in.post(
        "/account",
        data={
            "csrf_token": token,
            "timezone": "UTC",
            "current_password": PASSWORD,
            "new_password": "another-password",
        },
    )
    assert ok.status_code == 302
    fresh = app.test_client()
    assert login(fresh).status_code == 401
    assert login(fresh, password="another-password").status_code == 302
