"""Every file of the shared real-world corpus (../shared/corpus/ics) through the reader.

The corpus is not copied here (its files carry their projects' licenses). Files
outside ``malformed/`` must read without error; files in ``malformed/`` are
classified below, each one deliberately:

* REJECTED: busy time cannot be known reliably, so the reader raises a
  CalendarError naming the file and the line;
* REPAIRED: the defect cannot change busy time (encoding, byte-order mark,
  line endings, letter case, several VCALENDARs in one stream, which RFC 5545
  3.4 allows), so the file is read and the repair is reported as a warning.

A new file in ``malformed/`` fails ``test_every_malformed_file_is_classified``
until it is added to one of the two tables.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integrations.errors import CalendarError
from integrations.ics import ICSRead, read_ics_file
from scheduler.model import Interval

CORPUS = Path(
    os.environ.get("PANELSLOT_ICS_CORPUS")
    or Path(__file__).resolve().parents[3] / "shared" / "corpus" / "ics"
)
EVERYTHING = Interval(datetime(1990, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"ICS corpus not found at {CORPUS}")

# file -> (line, words in the message)
REJECTED = {
    "end_before_start.ics": (32, "DTEND is before DTSTART"),
    "exchange2010_unfolded_multiline_description.ics": (26, "not a NAME:value line"),
    "glow_version1_long_unfolded_lines.ics": (5, "VERSION:1.0 is not iCalendar 2.0"),
    "google_rrule_with_garbage_prefix.ics": (50, "RRULE cannot be read"),
    "libical_fuzzed_binary_garbage.ics": (2, "control character"),
    "ms_custom_tzid_bad_dtstamp_negative_duration.ics": (40, "DURATION cannot be read"),
    "outlook2003_vfreebusy_seven_digit_dates.ics": (5, "2006717T080000Z"),
    "podio_tab_folds_text_after_end.ics": (36, "text after END:VCALENDAR"),
    "radicale_missing_end_vevent.ics": (15, "truncated"),
    "radicale_vevent_without_dtstart.ics": (17, "VEVENT without DTSTART"),
}
# file -> (busy intervals in EVERYTHING, words in a warning or None)
REPAIRED = {
    "apple_holiday_mixed_line_endings.ics": (0, "mixed line endings"),
    "bloc_jp_damaged_utf8.ics": (1, "not UTF-8"),
    "csv_convertor_cp1252_byte.ics": (39, "not UTF-8"),
    "lowercase_component_names_long_lines.ics": (1, None),
    "mozilla_52_concatenated_vcalendars.ics": (52, None),
    "sunbird_latin1_folded_before_colon.ics": (6, "not UTF-8"),
    "sunbird_utf8_bom_folded_before_colon.ics": (6, None),
    "windows_calendar_utf16le_bom.ics": (10, "UTF-16"),
}


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.ics"))


def readable_files() -> list[str]:
    return [f for f in corpus_files() if not f.startswith("malformed/")]


def z(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def read(name: str, timezone: str = "Europe/Berlin", email: str | None = None) -> ICSRead:
    return read_ics_file(CORPUS / name, timezone=timezone, window=EVERYTHING, email=email)


@pytest.mark.parametrize("name", readable_files())
def test_readable_file(name: str) -> None:
    result = read(name)
    assert result.events_read >= len(result.busy)
    for interval in result.busy:
        assert interval.start.tzinfo is UTC and interval.end.tzinfo is UTC
        assert interval.start < interval.end
        assert interval.overlaps(EVERYTHING)


def test_every_malformed_file_is_classified() -> None:
    names = {Path(f).name for f in corpus_files() if f.startswith("malformed/")}
    assert names, "no malformed/ files found"
    assert not set(REJECTED) & set(REPAIRED)
    assert names == set(REJECTED) | set(REPAIRED)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_malformed_file(name: str) -> None:
    path = CORPUS / "malformed" / name
    if not path.exists():
        pytest.skip(f"{name} not in this corpus")
    line, words = REJECTED[name]
    with pytest.raises(CalendarError) as err:
        read(f"malformed/{name}")
    assert err.value.source == str(path)
    assert str(err.value).startswith(f"{path}, line {line}: ")
    assert words in err.value.message
    assert "Traceback" not in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("name", sorted(REPAIRED))
def test_repaired_malformed_file(name: str) -> None:
    if not (CORPUS / "malformed" / name).exists():
        pytest.skip(f"{name} not in this corpus")
    count, words = REPAIRED[name]
    result = read(f"malformed/{name}")
    assert len(result.busy) == count
    if words is not None:
        assert any(words in w for w in result.warnings), result.warnings


# ---- known facts of particular files --------------------------------------------------


def test_thunderbird_cancelled_occurrence_is_absent() -> None:
    result = read("recurrence/thunderbird_cancelled_occurrence.ics")
    # daily 22:00-23:00 Berlin (CET) from 28 Jan 2020, COUNT=3; the 29th is CANCELLED
    assert list(result.busy) == [
        Interval(z(2020, 1, 28, 21), z(2020, 1, 28, 22)),
        Interval(z(2020, 1, 30, 21), z(2020, 1, 30, 22)),
    ]
    assert result.events_read == 3


def test_transparent_yearly_allday_is_free() -> None:
    result = read("caldav-servers/nextcloud_app_yearly_allday_transparent.ics")
    assert result.busy == () and result.events_read > 0


def test_exchange_windows_tzids() -> None:
    result = read("outlook/exchange2010_eight_windows_tzids.ics")
    # the two OPAQUE events; both recurring series are TRANSPARENT (BUSYSTATUS FREE)
    assert list(result.busy) == [
        Interval(z(2020, 9, 10, 7), z(2020, 9, 10, 7, 30)),  # 09:00 W. Europe (CEST)
        Interval(z(2020, 9, 15, 15, 30), z(2020, 9, 15, 16, 30)),  # 08:30 Pacific (PDT)
    ]
    assert result.unknown_tzids == ()


def test_owa_display_name_tzids() -> None:
    result = read("outlook/owa_display_name_tzids_no_vtimezone.ics")
    busy = set(result.busy)
    assert Interval(z(2020, 10, 28, 2, 30), z(2020, 10, 28, 4)) in busy  # 13:30 Sydney AEDT
    assert Interval(z(2020, 10, 28, 17, 30), z(2020, 10, 28, 19)) in busy  # 13:30 EDT
    assert Interval(z(2020, 11, 2, 18, 30), z(2020, 11, 2, 20)) in busy  # 13:30 EST
    assert result.unknown_tzids == ()


def test_google_x_wr_timezone_keeps_utc_instants() -> None:
    result = read("google/x_wr_timezone_utc_events_no_vtimezone.ics")
    assert list(result.busy) == [
        Interval(z(2021, 12, 22, 17), z(2021, 12, 22, 18)),  # "noon to 1PM" New York
        Interval(z(2021, 12, 23, 2), z(2021, 12, 23, 3)),  # "9PM to 10PM" New York
    ]


def test_apple_cancelled_status_is_free() -> None:
    result = read("apple/macos11_status_variants.ics")
    assert len(result.busy) == 3 and result.events_read == 4
    assert not any(iv.start.date() == z(2022, 7, 6).date() for iv in result.busy)


def test_sabredav_exdates_written_in_utc() -> None:
    starts = [iv.start for iv in read("caldav-servers/sabredav_weekly_exdates_in_utc.ics").busy]
    # Mondays 00:30 Berlin from 4 March 2019, COUNT=8, 11 and 25 March excluded
    assert starts == [
        z(2019, 3, 3, 23, 30),
        z(2019, 3, 17, 23, 30),
        z(2019, 3, 31, 22, 30),  # CEST from 31 March
        z(2019, 4, 7, 22, 30),
        z(2019, 4, 14, 22, 30),
        z(2019, 4, 21, 22, 30),
    ]


def test_zimbra_vfreebusy_periods() -> None:
    assert len(read("caldav-servers/zimbra_vfreebusy.ics").busy) == 29


def test_brisbane_daily_with_exdates() -> None:
    busy = read("apple/ical2_daily_exdate_brisbane_history.ics").busy
    assert len(busy) == 5
    assert {iv.duration for iv in busy} == {busy[0].duration}
    assert all(iv.start.minute == busy[0].start.minute for iv in busy)


def test_escaped_comma_tzid_uses_the_files_vtimezone() -> None:
    """TZID "(UTC+07:00) Bangkok\\, Hanoi\\, Jakarta" in the VTIMEZONE, unescaped in
    DTSTART: 09:00-12:00 +07:00, whatever the interviewer's zone."""
    berlin = read("outlook/exchange2010_escaped_comma_tzid_bangkok.ics", timezone="Europe/Berlin")
    tokyo = read("outlook/exchange2010_escaped_comma_tzid_bangkok.ics", timezone="Asia/Tokyo")
    assert berlin.busy == tokyo.busy == (Interval(z(2019, 4, 30, 2), z(2019, 4, 30, 5)),)
    assert berlin.unknown_tzids == ()
