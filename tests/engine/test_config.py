"""The configuration format: every invalid input names source, field and value."""

import tomllib

import pytest

from scheduler.config import parse_config
from scheduler.errors import ConfigError

BASE = """
[[interviewers]]
id = "alice"
email = "alice@example.com"
timezone = "Africa/Lagos"
[interviewers.working_hours]
mon = ["09:00-12:00", "13:00-17:00"]

[[interviewers]]
id = "bob"
email = "bob@example.com"
timezone = "Europe/London"

[[loops]]
id = "onsite"
[[loops.sessions]]
name = "System design"
duration_minutes = 60
interviewers = ["alice", "bob"]
required = 1
"""


def parse(text: str):
    return parse_config(tomllib.loads(text), "team.toml")


def error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return info.value


def test_valid_config_parses_with_defaults():
    config = parse(BASE)
    assert config.settings.granularity_minutes == 15
    assert config.settings.min_notice_hours == 24
    assert config.settings.buffer_after_minutes == 10
    alice = config.interviewer_map()["alice"]
    assert alice.working_hours.on(0) == ((540, 720), (780, 1020))
    assert alice.name == "alice"
    loop = config.loop("onsite")
    assert loop is not None and loop.order == "fixed" and loop.sessions[0].required == 1


def test_required_defaults_to_whole_pool():
    config = parse(BASE.replace("required = 1\n", ""))
    assert config.loops[0].sessions[0].required == 2


def test_loop_overrides_scheduling_defaults():
    text = BASE.replace('id = "onsite"', 'id = "onsite"\ngranularity_minutes = 30')
    assert parse(text).loops[0].settings.granularity_minutes == 30


def test_24_00_may_end_a_range():
    text = BASE.replace('mon = ["09:00-12:00", "13:00-17:00"]', 'sun = ["18:00-24:00"]')
    assert parse(text).interviewer_map()["alice"].working_hours.on(6) == ((1080, 1440),)


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        (('"Africa/Lagos"', '"Mars/Olympus"'), "interviewers[0].timezone", "Mars/Olympus"),
        (
            ('["09:00-12:00", "13:00-17:00"]', '["09:00-12:00", "11:00-17:00"]'),
            "interviewers[0].working_hours.mon",
            None,
        ),
        (('"09:00-12:00", ', '"9am-12:00", '), "interviewers[0].working_hours.mon[0]", "9am-12:00"),
        (('"13:00-17:00"', '"17:00-13:00"'), "interviewers[0].working_hours.mon[1]", "17:00-13:00"),
        (('"13:00-17:00"', '"13:00-24:30"'), "interviewers[0].working_hours.mon[1]", "13:00-24:30"),
        (('["alice", "bob"]', '["alice", "zed"]'), "loops[0].sessions[0].interviewers[1]", "zed"),
        (("required = 1", "required = 3"), "loops[0].sessions[0].required", 3),
        (('["alice", "bob"]', "[]"), "loops[0].sessions[0].interviewers", None),
    ],
)
def test_invalid_values_are_named(change, field, value):
    old, new = change
    err = error(BASE.replace(old, new, 1))
    assert err.source == "team.toml"
    assert err.field == field
    if value is not None:
        assert err.value == value
    assert "team.toml" in str(err) and field in str(err)


def test_unknown_field_is_named():
    err = error(BASE.replace('email = "bob@example.com"', 'emial = "bob@example.com"'))
    assert err.field == "interviewers[1].emial"
    assert "expected one of" in err.hint


def test_duplicate_interviewer_id():
    err = error(BASE.replace('id = "bob"', 'id = "alice"'))
    assert err.field == "interviewers[1].id"


def test_bad_order_and_gaps():
    assert error(BASE.replace('id = "onsite"', 'id = "onsite"\norder = "random"')).field == (
        "loops[0].order"
    )
    text = BASE.replace(
        'id = "onsite"', 'id = "onsite"\nmin_gap_minutes = 30\nmax_gap_minutes = 10'
    )
    assert error(text).field == "loops[0].max_gap_minutes"


def test_bad_granularity():
    assert error("[scheduling]\ngranularity_minutes = 0\n" + BASE).field == (
        "scheduling.granularity_minutes"
    )


def test_session_names_are_unique_within_a_loop():
    second = (
        '\n[[loops.sessions]]\nname = "System design"\nduration_minutes = 30\n'
        'interviewers = ["bob"]\n'
    )
    err = error(BASE + second)
    assert err.field == "loops[0].sessions[1].name" and err.value == "System design"
