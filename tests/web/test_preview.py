"""The preview to decide from (issue 12): options by the candidate's day in both zones,
near-duplicates folded, sort by score, the shared timeline hours, the engine's explanation
with suggestion buttons that re-run the search, failed searches that keep the form and save
nothing, and deleting drafts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tests.fixtures.webapp import get_csrf, login
from tests.web.test_requests import _loop_id, _request_form, draft
from web.store.db import Database
from web.store.models import AuditLog, Interviewer, Loop, OfferedOption, SchedulingRequest
from web.ui.preview_views import fold, near_duplicate
from web.ui.timeline import NAME_CHARS


class _Forms(HTMLParser):
    """The suggestion forms of a page: (button text, posted fields) each."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._fields: dict[str, str] | None = None
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and "try" in (a.get("class") or ""):
            self._fields = {}
        elif tag == "input" and self._fields is not None:
            self._fields[a.get("name") or ""] = a.get("value") or ""
        elif tag == "button" and self._fields is not None:
            self._in_button = True

    def handle_data(self, data: str) -> None:
        if self._in_button and self._fields is not None:
            self.forms.append((data.strip(), self._fields))
            self._in_button = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None


def suggestion_forms(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _search(client: Any, db: Database, **extra: str) -> Any:
    form = _request_form(db, **extra)
    return client.post(
        "/requests/new", data={**form, "csrf_token": get_csrf(client, "/requests/new")}
    )


def _suggestion(
    client: Any, db: Database, key: str, value: str, **extra: str
) -> tuple[int, dict[str, str]]:
    """Search the phone screen with ``extra``; the first suggestion whose form posts
    ``key`` = ``value``: (the count its button promises, its fields)."""
    resp = _search(client, db, loop=str(_loop_id(db, "screen")), **extra)
    forms = [f for f in suggestion_forms(resp.get_data(as_text=True)) if f[1].get(key) == value]
    assert forms, resp.get_data(as_text=True)
    label, fields = forms[0]
    count = int(re.search(r": (\d+) option\(s\)$", label).group(1))  # type: ignore[union-attr]
    return count, fields


def _count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(SchedulingRequest)) or 0


# ---------------------------------------------------------------- the options


def test_options_by_candidate_day_in_both_zones(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    days = re.findall(r'<h2 class="day"><time datetime="(\d{4}-\d\d-\d\d)">', page)
    assert days and days == sorted(days) and len(days) == len(set(days))
    assert "<th>Candidate (Asia/Kolkata)</th><th>You (Europe/London)</th><th>Who</th>" in page
    with db.session() as s:
        first = s.scalar(
            select(OfferedOption).where(OfferedOption.request_id == rid, OfferedOption.rank == 1)
        )
        assert first is not None
        slot = first.sessions[0]
        names = {i.key: i.name for i in s.scalars(select(Interviewer))}
    start = datetime.strptime(slot["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    cand = start.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%a %H:%M")
    mine = start.astimezone(ZoneInfo("Europe/London")).strftime("%a %H:%M")
    stamp = slot["start"]
    assert f'<td class="cand-time"><time datetime="{stamp}">{cand}</time>' in page
    assert f'<td class="my-time"><time datetime="{stamp}">{mine}</time>' in page
    assert all(names[k] in page for k in slot["interviewers"])
    # each day heading is the candidate's local date of the options under it
    kolkata = ZoneInfo("Asia/Kolkata")
    assert start.astimezone(kolkata).date().isoformat() in days


def test_near_duplicates_fold_under_their_best(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    with db.session() as s:
        rows = list(s.scalars(select(OfferedOption).where(OfferedOption.request_id == rid)))
        groups = fold(rows, "Asia/Kolkata")
        # every folded option is a near-duplicate of its representative, which scores best
        for g in groups:
            for o in g.similar:
                assert near_duplicate(g.best, o, "Asia/Kolkata") and o.score <= g.best.score
        folded = [g for g in groups if g.similar]
        assert folded, "the fixture's 20 options include look-alikes"
        assert len(groups) < len(rows)
        shown = {len(g.similar) for g in folded}
    summaries = re.findall(r"<summary>\+(\d+) similar</summary>", page)
    assert {int(n) for n in summaries} == shown and len(summaries) == len(folded)
    assert page.count('<section class="option card"') == len(groups)


def _row(ident: int, score: float, start: datetime, seats: list[tuple[str, list[str]]]) -> Any:
    sessions, t = [], start
    for name, people in seats:
        sessions.append(
            {
                "name": name,
                "start": f"{t:%Y-%m-%dT%H:%M:%SZ}",
                "end": f"{t + timedelta(minutes=60):%Y-%m-%dT%H:%M:%SZ}",
                "interviewers": people,
            }
        )
        t += timedelta(minutes=60)
    return OfferedOption(id=ident, rank=ident, score=score, sessions=sessions, start=start, end=t)


def test_near_duplicate_definition() -> None:
    t = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
    base = _row(1, 0.9, t, [("A", ["alice"]), ("B", ["bob"])])
    assert near_duplicate(
        base, _row(2, 0.8, t + timedelta(minutes=30), [("A", ["alice"]), ("B", ["bob"])]), "UTC"
    )
    assert not near_duplicate(
        base, _row(3, 0.8, t + timedelta(minutes=45), [("A", ["alice"]), ("B", ["bob"])]), "UTC"
    )
    # same start, one interviewer swapped: alike; two swapped: not
    assert near_duplicate(base, _row(4, 0.8, t, [("A", ["alice"]), ("B", ["eli"])]), "UTC")
    assert not near_duplicate(base, _row(5, 0.8, t, [("A", ["devi"]), ("B", ["eli"])]), "UTC")
    # a swap at another time is another option
    later = t + timedelta(minutes=15)
    assert not near_duplicate(base, _row(6, 0.8, later, [("A", ["alice"]), ("B", ["eli"])]), "UTC")
    # another candidate-local day never folds, however close
    late = datetime(2027, 3, 3, 23, 50, tzinfo=UTC)
    a = _row(7, 0.9, late, [("A", ["alice"])])
    b = _row(8, 0.8, late + timedelta(minutes=20), [("A", ["alice"])])
    assert not near_duplicate(a, b, "UTC") and near_duplicate(a, b, "Asia/Kolkata")
    groups = fold([_row(9, 0.5, t, [("A", ["alice"])]), _row(10, 0.7, t, [("A", ["bob"])])], "UTC")
    assert [g.best.id for g in groups] == [10] and [o.id for o in groups[0].similar] == [9]


def test_sort_by_score_shows_the_best_first(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    page = signed_in.get(f"/requests/{rid}/preview?sort=score").get_data(as_text=True)
    assert 'aria-current="true" class="current">by score</a>' in page
    for chunk in page.split('<h2 class="day">')[1:]:
        cards = chunk.split("<details")[0] if "<section" not in chunk else chunk
        scores = [
            float(x)
            for x in re.findall(
                r'<section class="option card"[^>]*>\s*<div class="option-head">.*?score ([\d.]+)',
                cards,
                re.S,
            )
        ]
        assert scores == sorted(scores, reverse=True)
    by_time = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    assert 'aria-current="true" class="current">by time</a>' in by_time
    # the same options either way, and a nonsense sort falls back to time
    assert sorted(re.findall(r'name="options" value="(\d+)"', page)) == sorted(
        re.findall(r'name="options" value="(\d+)"', by_time)
    )
    assert signed_in.get(f"/requests/{rid}/preview?sort=%3Cx%3E").status_code == 200


# ---------------------------------------------------------------- the timeline


def test_every_card_shows_the_same_hours_in_my_zone(signed_in: Any, db: Database) -> None:
    with db.session() as s:
        alice = s.scalar(select(Interviewer).where(Interviewer.key == "alice"))
        assert alice is not None
        alice.name = "Alice Okafor-Wellington-Montgomery of the Northern Office"
        s.commit()
    rid = draft(signed_in, db)
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    svgs = re.findall(r"<svg class=\"timeline\".*?</svg>", page, re.S)
    assert len(svgs) > 1
    hours = {re.search(r'data-hours="(-?\d+)-(\d+)"', svg).groups() for svg in svgs}  # type: ignore[union-attr]
    assert len(hours) == 1  # one hour range on every card
    assert all('data-axis-zone="Europe/London"' in svg for svg in svgs)
    assert all('class="tl-legend"' in svg for svg in svgs)
    for label in ("sessions", "busy", "held for other requests", "candidate&#39;s hours"):
        assert label in svgs[0]
    for svg in svgs:
        for title, text in re.findall(
            r'class="tl-name">(?:<title>([^<]*)</title>)?([^<]*)</text>', svg
        ):
            assert len(text) <= NAME_CHARS
            if title:
                assert text.endswith("…") and title.startswith(text[:-1])
    assert "<title>Alice Okafor-Wellington-Montgomery of the Northern Office" in page


# ---------------------------------------------------------------- failed searches


def test_failed_search_keeps_the_form_and_saves_nothing(signed_in: Any, db: Database) -> None:
    resp = _search(
        signed_in,
        db,
        loop=str(_loop_id(db, "screen")),
        date_from="2027-03-06",
        date_to="2027-03-07",
        hours="09:15-18:45",
        note="Bring a laptop",
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "No time fits everyone" in page
    for value in (
        "Priya Sharma",
        "priya@candidate.example",
        "Asia/Kolkata",
        "2027-03-06",
        "2027-03-07",
        "09:15-18:45",
    ):
        assert f'value="{value}"' in page.split('id="request-form"')[1]
    assert "Bring a laptop</textarea>" in page
    assert f'<option selected value="{_loop_id(db, "screen")}">' in page
    assert _count(db) == 0
    assert '<ul class="why">' in page


def test_a_suggestion_button_re_runs_the_search_with_its_change(
    signed_in: Any, db: Database
) -> None:
    count, fields = _suggestion(
        signed_in, db, "tried", "to", date_from="2027-03-06", date_to="2027-03-07"
    )
    assert fields["date_to"] > "2027-03-07" and fields["candidate_name"] == "Priya Sharma"
    again = signed_in.post("/requests/new", data=fields)
    assert again.status_code == 302 and again.headers["Location"].endswith("/preview")
    preview = signed_in.get(again.headers["Location"]).get_data(as_text=True)
    with db.session() as s:
        req = s.scalars(select(SchedulingRequest)).one()
        assert req.date_to.isoformat() == fields["date_to"]
        assert len(req.options) == min(count, 20)
    assert f"With the later end date: {len(req.options)} option(s)." in preview


def test_a_loop_change_applies_to_this_search_only(signed_in: Any, db: Database) -> None:
    count, fields = _suggestion(
        signed_in,
        db,
        "change_parameter",
        "required",
        date_from="2027-03-03",
        date_to="2027-03-03",
        hours="14:00-17:00",
    )
    again = signed_in.post("/requests/new", data=fields)
    page = again.get_data(as_text=True)
    # the count the button promised, shown; nothing saved, the loop as it was
    assert again.status_code == 200
    assert f"With 1 interviewer(s) in Pair: {count} option(s)</h2>" in page
    assert "the loop is unchanged, so these times cannot be offered yet" in page
    assert page.count("<tr><td><time datetime=") == min(count, 5)
    assert "Bob Lindqvist" in page.split('id="tried"')[1]
    assert 'value="14:00-17:00"' in page  # the form as typed
    assert _count(db) == 0
    with db.session() as s:
        loop = s.get(Loop, _loop_id(db, "screen"))
        assert loop is not None and loop.sessions[0].required == 2


def test_a_bad_change_is_refused_by_name(signed_in: Any, db: Database) -> None:
    for extra, named in (
        ({"change_parameter": "granularity"}, "change_parameter &#39;granularity&#39;"),
        (
            {"change_parameter": "required", "change_session": "Nope", "change_value": "1"},
            "session &#39;Nope&#39;",
        ),
        (
            {"change_parameter": "max_gap_minutes", "change_value": "lots"},
            "max_gap_minutes &#39;lots&#39;: not a whole number",
        ),
        ({"change_parameter": "order", "change_value": "fixed"}, "order &#39;fixed&#39;"),
    ):
        resp = _search(signed_in, db, **extra)
        assert resp.status_code == 422 and named in resp.get_data(as_text=True), extra
    assert _count(db) == 0


def test_too_few_options_explained_on_the_preview(signed_in: Any, db: Database) -> None:
    rid = draft(
        signed_in,
        db,
        loop=str(_loop_id(db, "screen")),
        date_from="2027-03-03",
        date_to="2027-03-03",
    )
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    with db.session() as s:
        n = len(s.scalars(select(OfferedOption).where(OfferedOption.request_id == rid)).all())
    assert 0 < n < 5
    assert f"Only {n} option(s) fit: why" in page
    forms = suggestion_forms(page)
    assert forms and all(f[1]["replaces"] == str(rid) for f in forms)
    again = signed_in.post("/requests/new", data=forms[0][1])
    assert again.status_code == 302
    with db.session() as s:
        assert s.get(SchedulingRequest, rid) is None  # the old draft made way for the new one
        assert _count(db) == 1


# ---------------------------------------------------------------- drafts


def test_delete_a_draft(signed_in: Any, db: Database, app: Any) -> None:
    rid = draft(signed_in, db)
    token = get_csrf(signed_in, f"/requests/{rid}")
    assert signed_in.post(f"/requests/{rid}/delete").status_code == 400  # no CSRF token
    other = app.test_client()
    login(other, "zed@example.com")
    zed_token = get_csrf(other, "/requests/new")
    assert other.post(f"/requests/{rid}/delete", data={"csrf_token": zed_token}).status_code == 404
    resp = signed_in.post(f"/requests/{rid}/delete", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/requests")
    with db.session() as s:
        assert s.get(SchedulingRequest, rid) is None
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "request_draft_deleted"))
        assert entry is not None and entry.object_id == str(rid) and "ann@" in entry.actor


def test_a_sent_request_is_not_deleted(signed_in: Any, db: Database) -> None:
    from tests.web.test_requests import send

    rid = draft(signed_in, db)
    send(signed_in, rid)
    token = get_csrf(signed_in, f"/requests/{rid}")
    resp = signed_in.post(
        f"/requests/{rid}/delete", data={"csrf_token": token}, follow_redirects=True
    )
    assert "cannot be deleted; cancel it instead" in resp.get_data(as_text=True)
    with db.session() as s:
        assert s.get(SchedulingRequest, rid) is not None


def test_the_preview_has_a_sticky_send_bar_without_inline_script(
    signed_in: Any, db: Database
) -> None:
    rid = draft(signed_in, db)
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    assert '<div class="sendbar" id="sendbar">' in page
    count = '<span class="ticked-count" id="ticked-count" aria-live="polite" hidden>'
    assert f"{count}5 option(s) ticked</span>" in page
    assert '<button type="submit">Send ticked options</button>' in page
    assert '<script src="/static/sendbar.js" defer></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    css = signed_in.get("/static/app.css").get_data(as_text=True)
    assert re.search(r"\.sendbar \{[^}]*position:sticky", css)


def test_the_why_names_the_request_whose_holds_block(signed_in: Any, db: Database) -> None:
    from tests.web.test_requests import send

    screen = str(_loop_id(db, "screen"))
    rid = draft(signed_in, db, loop=screen, date_from="2027-03-03", date_to="2027-03-03")
    send(signed_in, rid)  # holds every time bob and eli share that day
    resp = _search(
        signed_in,
        db,
        loop=screen,
        date_from="2027-03-03",
        date_to="2027-03-03",
        hours="18:30-20:00",
        candidate_name="Ravi Kumar",
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and _count(db) == 1
    why = page.split('<ul class="why">')[1].split("</ul>")[0]
    assert f"holds of other requests (request #{rid} (Priya Sharma))" in why
