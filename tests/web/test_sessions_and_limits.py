"""Sessions end everywhere on logout and on a new password; sign-in limits hold under races."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from tests.fixtures.webapp import PASSWORD, get_csrf, login
from web.store.db import Database
from web.store.models import SigninAttempt


def _cookie(client: Any) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return str(cookie.value)


def _with_cookie(app: Any, value: str) -> Any:
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_logout_ends_every_session_of_the_user(app: Any, company: dict[str, int]) -> None:
    first, second = app.test_client(), app.test_client()
    assert login(first).status_code == 302 and login(second).status_code == 302
    copied = _cookie(first)
    token = get_csrf(first, "/requests")
    assert first.post("/logout", data={"csrf_token": token}).status_code == 302
    assert _with_cookie(app, copied).get("/requests").status_code == 302  # the copy is dead
    assert second.get("/requests").status_code == 302  # and so is the other browser


def test_a_new_password_signs_out_other_browsers_only(app: Any, company: dict[str, int]) -> None:
    here, elsewhere = app.test_client(), app.test_client()
    login(here), login(elsewhere)
    token = get_csrf(here, "/account")
    form = {
        "csrf_token": token,
        "name": "Ann",
        "timezone": "Europe/London",
        "current_password": PASSWORD,
        "new_password": "another-Long-password-42",
        "confirm_password": "another-Long-password-42",
    }
    resp = here.post("/account", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert here.get("/requests").status_code == 200
    assert elsewhere.get("/requests").status_code == 302


def test_parallel_wrong_passwords_pass_the_limit_at_most_limit_times(
    app: Any, db: Database, company: dict[str, int]
) -> None:
    statuses: list[int] = []
    clients = [app.test_client() for _ in range(20)]
    tokens = [get_csrf(c, "/login") for c in clients]
    start = threading.Barrier(len(clients))

    def attempt(client: Any, token: str) -> None:
        start.wait()
        data = {"email": "ann@example.com", "password": "wrong-guess", "csrf_token": token}
        statuses.append(client.post("/login", data=data).status_code)

    threads = [
        threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    limit = app.extensions["panelslot.settings"].security.signin_max_failures
    assert statuses.count(401) <= limit and statuses.count(429) >= len(clients) - limit
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SigninAttempt)) == len(clients)


def test_a_lockout_from_one_address_does_not_lock_out_another(
    app: Any, company: dict[str, int]
) -> None:
    attacker = app.test_client()
    for _ in range(8):
        token = get_csrf(attacker, "/login")
        attacker.post(
            "/login",
            data={"email": "ann@example.com", "password": "nope", "csrf_token": token},
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
    owner = app.test_client()
    assert login(owner).status_code == 302  # from 127.0.0.1: still signs in
