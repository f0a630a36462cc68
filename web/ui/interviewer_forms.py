"""The forms of the interviewer's own page (calendars, zone and hours); credentials typed
here are never echoed back into the page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from web.domain.zones import HoursError, parse_week_text
from web.ui.forms import PanelForm, valid_zone, zone_text


def _no_userinfo(form: Any, field: Any) -> None:
    url = (field.data or "").strip()
    if "@" in (urlsplit(url).netloc if "://" in url else ""):
        field.data = ""  # never echo credentials back into the page
        raise ValidationError("put no user name or password in the URL")


def _http_url(form: Any, field: Any) -> None:
    url = (field.data or "").strip()
    if not url.lower().startswith(("http://", "https://", "webcal://")):
        raise ValidationError("give an http(s):// or webcal:// address")


class ICSForm(PanelForm):
    label = StringField("Name", validators=[Optional(), Length(max=200)])
    url = StringField(
        "ICS feed URL",
        validators=[DataRequired(), Length(max=2000), _no_userinfo, _http_url],
        description="The published/secret address of your calendar (Outlook 'publish', "
        "Google 'secret address in iCal format', ...)",
    )


class CalDAVForm(PanelForm):
    label = StringField("Name", validators=[Optional(), Length(max=200)])
    url = StringField(
        "CalDAV URL",
        validators=[DataRequired(), Length(max=2000), _no_userinfo, _http_url],
        description="Server or principal address, e.g. https://cloud.example.com/remote.php/dav",
    )
    username = StringField("User name", validators=[DataRequired(), Length(max=200)])
    password = PasswordField(
        "Password or app password", validators=[DataRequired(), Length(max=500)]
    )
    calendars = StringField(
        "Which calendars count",
        validators=[Optional(), Length(max=4000)],
        description="Empty: every calendar of the account; or calendar URLs, comma-separated",
    )


class HoursForm(PanelForm):
    timezone = StringField(
        "Time zone", validators=[DataRequired(), valid_zone], filters=[zone_text]
    )
    working_hours = StringField(
        "Working hours",
        validators=[DataRequired()],
        description='In your zone, e.g. "mon-fri 09:00-12:00, 13:00-17:00"',
    )

    def validate_working_hours(self, field: Any) -> None:
        try:
            self.parsed_hours = parse_week_text(field.data or "")
        except HoursError as exc:
            raise ValidationError(f"{exc.value!r}: {exc.hint}") from None


class PasswordForm(PanelForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("New password", validators=[DataRequired(), Length(max=500)])


class CalendarsForm(PanelForm):
    calendars = StringField(
        "Which calendars count",
        validators=[Optional(), Length(max=4000)],
        description="Empty: the primary calendar; or calendar ids, comma-separated",
    )
