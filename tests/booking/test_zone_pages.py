"""Times on the candidate's pages read right in any zone: every session in a
<time datetime="...Z"> (UTC), UTC offsets per day across a clock change, "(+1 day)",
zone names as people say them, and the zone picker (city, country, abbreviation)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.fixtures.booking import form_of, request_row, send_request
from tests.fixtures.zones import send_across_us_clock_change
from web.domain import services
from web.domain.zones import all_zones
from web.store.db import Database
from web.store.models import OutboxMail

TIME_RE = re.compile(
    r'<span class="range" data-end="([^"]*)"(?: data-dated)?><time datetime="([^"]*)">'
)
PLAIN_TIME = re.compile(r"<time( [^>]*)?>")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _html(resp: Any) -> str:
    return str(resp.get_data(as_text=True))


def _instants(html: str) -> list[tuple[datetime, datetime]]:
    pairs = [(start, end) for end, start in TIME_RE.findall(html)]
    assert pairs, "no <time> element on the page"
    # every <time> is exactly <time datetime="YYYY-MM-DDTHH:MM:SSZ">, and each is a range's
    assert [m.group(1) for m in PLAIN_TIME.finditer(html)] == [f' datetime="{s}"' for s, _ in pairs]
    for start, end in pairs:
        assert STAMP.match(start) and STAMP.match(end), (start, end)
    return [
        (
            datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            datetime.strptime(e, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
        )
        for s, e in pairs
    ]


def _options(db: Database, sent: Any) -> list[Any]:
    req = request_row(db, sent.request_id)
    return [services.stored_option(o) for o in req.options if o.id in sent.option_ids]


def _expected(options: list[Any]) -> set[tuple[datetime, datetime]]:
    out = set()
    for opt in options:
        out.add((opt.start, opt.end))
        out.update((s.start, s.end) for s in opt.sessions)
    return out


def test_offer_page_times_are_utc_instants_of_the_options(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db, tz="Asia/Kolkata")
    html = _html(client.get(sent.url + "?tz=America/Los_Angeles"))
    assert set(_instants(html)) == _expected(_options(db, sent))
    for opt in _options(db, sent):
        la = opt.start.astimezone(ZoneInfo("America/Los_Angeles"))
        stamp = opt.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert f'<time datetime="{stamp}"' in html and f"{la:%H:%M}–" in html


def test_booked_and_reschedule_pages_carry_utc_times(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db)
    form = form_of(_html(client.get(sent.url)))
    client.post(sent.url + "/book", data={**form, "option": str(sent.option_ids[0])})
    booked = _html(client.get(sent.url + "?tz=Europe/Zurich"))
    req = request_row(db, sent.request_id)
    opt = services.stored_option(next(o for o in req.options if o.id == sent.option_ids[0]))
    assert sorted(_instants(booked)) == sorted((s.start, s.end) for s in opt.sessions)
    assert "Central European Time (Zurich)" in booked
    again = _html(client.get(sent.url + "/reschedule?tz=Asia/Kolkata"))
    others = [o for o in _options(db, sent) if o.start != opt.start]
    assert set(_instants(again)) <= _expected(others) | _expected([opt])
    assert set(_instants(again)) & _expected(others)


def test_offsets_per_day_when_the_days_span_a_us_clock_change(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_across_us_clock_change(db)
    starts = [o.start for o in _options(db, sent)]
    la = ZoneInfo("America/Los_Angeles")
    assert {s.astimezone(la).utcoffset() for s in starts} == {
        timedelta(hours=-8),
        timedelta(hours=-7),
    }, "the engine should offer days on both sides of 14 March"
    html = _html(client.get(sent.url))
    assert 'Times shown in <strong id="zone-name">America/Los_Angeles</strong>' in html
    assert "Pacific Time (Los Angeles)" in html
    legends = re.findall(
        r'<legend><span class="date" data-date="([\d-]+)">[^<]*</span>'
        r'(?: <span class="day-offset">([^<]*)</span>)?</legend>',
        html,
    )
    assert legends
    for day, offsets in legends:
        d = date.fromisoformat(day)
        want = " / ".join(
            dict.fromkeys(
                f"UTC-0{-int(s.astimezone(la).utcoffset().total_seconds()) // 3600}:00"
                for s in sorted(starts)
                if s.astimezone(la).date() == d
            )
        )
        assert offsets == want, day
    assert any(o == "UTC-08:00" for _, o in legends) and any(o == "UTC-07:00" for _, o in legends)
    # one day before the change alone: one offset, in the header as before
    html = _html(client.get(send_request(db, tz="America/Los_Angeles").url))
    assert "America/Los_Angeles, UTC-08:00</strong>" in html and "day-offset" not in html


def _zone_where_it_crosses_midnight(opt: Any) -> str:
    for zone in all_zones():
        z = ZoneInfo(zone)
        if opt.start.astimezone(z).date() != (opt.end - timedelta(seconds=1)).astimezone(z).date():
            return zone
    raise AssertionError("no zone puts this option across midnight")


def test_a_session_ending_on_the_next_local_day_says_so(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db)
    opt = _options(db, sent)[0]
    zone = _zone_where_it_crosses_midnight(opt)
    html = _html(client.get(sent.url, query_string={"tz": zone}))
    local = opt.start.astimezone(ZoneInfo(zone))
    end = opt.end.astimezone(ZoneInfo(zone))
    assert re.search(
        re.escape(f"{local:%H:%M}–{end:%H:%M}</time></span></span>") + r'<span class="next-day"> '
        r"\(\+1 day\)</span>",
        html,
    ), zone


def test_the_zone_field_takes_cities_countries_and_aliases(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db, tz="Europe/London")
    for typed, label in [
        ("Kolkata", "Asia/Kolkata, UTC+05:30"),
        ("Asia/Calcutta", "Asia/Kolkata, UTC+05:30"),
        ("los angeles", "America/Los_Angeles, UTC-08:00"),
        ("Nigeria", "Africa/Lagos, UTC+01:00"),
        ("São Paulo", "America/Sao_Paulo, UTC-03:00"),
    ]:
        html = _html(client.get(sent.url, query_string={"tz": typed}))
        assert f'<strong id="zone-name">{label}</strong>' in html, typed
        assert 'value="' + label.split(",")[0] + '"' in html  # the forms carry the zone
    html = _html(client.get(sent.url, query_string={"tz": "IST"}))
    assert "could mean several time zones" in html
    assert 'id="zone-name">Europe/London, UTC+00:00' in html  # not guessed
    for zone in ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"):
        assert f'data-zone="{zone}"' in html
    assert "India Standard Time (Kolkata)" in html


def test_booking_with_an_alias_stores_the_canonical_zone(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db)
    form = form_of(_html(client.get(sent.url)))
    resp = client.post(
        sent.url + "/book",
        data={**form, "option": str(sent.option_ids[0]), "tz": "Asia/Calcutta"},
    )
    assert resp.status_code == 303 and "tz=Asia/Kolkata" in resp.headers["Location"]
    assert request_row(db, sent.request_id).bookings[0].candidate_tz == "Asia/Kolkata"
    with db.session() as s:
        mails = s.scalars(select(OutboxMail).where(OutboxMail.to_addr == "priya@example.org")).all()
        invites = [m.text_body for m in mails if m.kind == "invite"]
    assert invites and all("Asia/Kolkata" in t and "Calcutta" not in t for t in invites)


def test_zone_suggestions_and_the_page_of_choices(client: Any, company: Any) -> None:
    data = client.get("/zones/suggest", query_string={"q": "Bengaluru"}).get_json()
    assert data["exact"] == "Asia/Kolkata"
    assert data["matches"][0]["name"] == "India Standard Time (Kolkata)"
    assert data["matches"][0]["local"] == "14:30"  # NOW is 09:00 UTC
    data = client.get("/zones/suggest", query_string={"q": "CST"}).get_json()
    assert data["exact"] is None and len(data["matches"]) > 2
    resp = client.get("/zones/find", query_string={"q": "Zurich", "next": "/c/x?tz=UTC&a=1"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/c/x?a=1&tz=Europe%2FZurich"
    resp = client.get("/zones/find", query_string={"q": "IST", "next": "/c/x"})
    html = _html(resp)
    assert resp.status_code == 200 and 'href="/c/x?tz=Asia%2FKolkata"' in html
    for evil in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/%09/evil.example",
    ):
        resp = client.get("/zones/find", query_string={"q": "Zurich", "next": evil})
        assert resp.status_code == 200 and "evil" not in _html(resp)
    assert "No time zone matches" in _html(client.get("/zones/find?q=Qqqxz"))


def test_without_script_the_date_order_follows_accept_language(
    client: Any, db: Database, company: Any
) -> None:
    sent = send_request(db)
    local = _options(db, sent)[0].start.astimezone(ZoneInfo("Asia/Kolkata"))
    us = _html(client.get(sent.url, headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert f"{local:%A}, {local:%B} {local.day}, {local.year}</span>" in us
    for lang in ("en-GB", "de-DE,de;q=0.9", None):
        headers = {"Accept-Language": lang} if lang else {}
        page = _html(client.get(sent.url, headers=headers))
        assert f"{local:%A %d %B %Y}</span>" in page, lang
