"""Flask-WTF forms (every one carries a CSRF token)."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.meta import DefaultMeta
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from integrations.urls import link_problem
from web.domain.zones import HoursError, canonical_zone, parse_range, parse_week_text, zone_ok
from web.domain.zonesearch import search_zones

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KEY_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def _email(form: Any, field: Any) -> None:
    if field.data and not EMAIL_RE.match(field.data.strip()):
        raise ValidationError(f"{field.data!r} is not an e-mail address")


def valid_zone(form: Any, field: Any) -> None:
    if field.data and not zone_ok(field.data.strip()):
        found = search_zones(field.data, _now())
        if found.ambiguous and found.kind != "prefix":
            names = ", ".join(m.zone for m in found.matches[:6])
            raise ValidationError(f"{field.data!r} could mean {names}: choose one")
        raise ValidationError(
            f"{field.data!r} is not a known time zone: use an IANA name like Europe/Berlin"
        )


def _now() -> Any:
    from web.ui.helpers import now

    return now()


def zone_text(value: Any) -> Any:
    """What a zone field's user typed, read as the zone it names: 'Kolkata',
    'Asia/Calcutta' -> 'Asia/Kolkata'; anything unsure is left for ``_zone`` to refuse."""
    if not isinstance(value, str) or not value.strip():
        return value
    name = canonical_zone(value)
    if zone_ok(name):
        return name
    found = search_zones(value, _now())
    return found.exact.zone if found.exact is not None else value


MAX_SESSIONS = 20  # rows of a loop form; 16,000 posted rows are refused, not built
FIRST_YEAR, LAST_YEAR = 2000, 2200  # dates outside are typos (year 1, 9999), not plans
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
LINE_BREAKS = re.compile(r"[\r\n\t]+")


def one_line(value: Any) -> Any:
    """A single-line field as typed, minus line breaks (they broke every mail) and NULs."""
    if not isinstance(value, str):
        return value
    return CONTROL.sub("", LINE_BREAKS.sub(" ", value))


def no_nul(value: Any) -> Any:
    """Free text keeps its line breaks, not NUL or other control characters."""
    return CONTROL.sub("", value) if isinstance(value, str) else value


def _filters_for(field_class: type) -> list[Any]:
    if issubclass(field_class, PasswordField):
        return [no_nul]
    if issubclass(field_class, TextAreaField):
        return [no_nul]
    if issubclass(field_class, StringField):
        return [one_line]
    return []


class CleanInputMeta(DefaultMeta):
    """Every text field of every form is cleaned of control characters as it is read."""

    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        extra = _filters_for(unbound_field.field_class)
        if extra:  # the unbound field is shared by every instance: never changed here
            own = unbound_field.kwargs.get("filters", ())
            options = {**options, "filters": [*extra, *own]}  # cleaned first
        return super().bind_field(form, unbound_field, options)


class PanelForm(FlaskForm):
    """The base of every form: CSRF (Flask-WTF) and clean text input."""

    class Meta(CleanInputMeta, FlaskForm.Meta):
        pass


def sane_date(form: Any, field: Any) -> None:
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(f"give a date between {FIRST_YEAR} and {LAST_YEAR}")


def web_link(form: Any, field: Any) -> None:
    """A link people will click: https only (http for local demos), with a host."""
    problem = link_problem(field.data.strip()) if field.data else None
    if problem is not None:
        raise ValidationError(problem)


class ActionForm(FlaskForm):
    """A button-only form (cancel, resend, deactivate): just the CSRF token."""


class LoginForm(PanelForm):
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class InterviewerForm(PanelForm):
    key = StringField(
        "Id",
        validators=[
            DataRequired(),
            Length(max=100),
            Regexp(KEY_RE, message="letters, digits, _ . -"),
        ],
        description="Short id used in config files, e.g. alice",
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254), _email])
    timezone = StringField(
        "Time zone",
        validators=[DataRequired(), valid_zone],
        filters=[zone_text],
        description="A city or IANA name, e.g. Kolkata or Asia/Kolkata",
    )
    working_hours = StringField(
        "Working hours",
        validators=[DataRequired()],
        description='Local to the zone, e.g. "mon-fri 09:00-12:00, 13:00-17:00; sat 10:00-12:00"',
    )
    max_interviews_per_day = IntegerField(
        "Max interviews per day", validators=[Optional(), NumberRange(min=0, max=50)]
    )
    max_interviews_per_week = IntegerField(
        "Max interviews per week",
        validators=[
            Optional(),
            NumberRange(
                min=1, max=100, message="a whole number from 1 to 100, or empty for no weekly cap"
            ),
        ],
        description="Per ISO week in their zone, from Monday 00:00; empty = no cap",
    )

    def validate_working_hours(self, field: Any) -> None:
        try:
            self.parsed_hours = parse_week_text(field.data or "")
        except HoursError as exc:
            raise ValidationError(f"{exc.value!r}: {exc.hint}") from None


class CalendarForm(PanelForm):
    kind = SelectField("Kind", choices=[SelectChoice("ics", "ICS feed (URL)")], default="ics")
    label = StringField("Label", validators=[Optional(), Length(max=200)])
    url = StringField("URL", validators=[DataRequired(), Length(max=2000)])

    def validate_url(self, field: Any) -> None:
        url = (field.data or "").strip()
        if "@" in url.split("/")[2 if "://" in url else 0]:
            field.data = ""  # never echo credentials back into the page
            raise ValidationError("put no credentials in the URL")
        if not url.lower().startswith(("http://", "https://", "webcal://")):
            # a web form never names a file on the server (issue 10: /etc/passwd was read back)
            raise ValidationError("give an http(s) or webcal URL of the calendar feed")


class SessionSubForm(Form):
    Meta = CleanInputMeta

    name = StringField("Session", validators=[Optional(), Length(max=200)])
    duration_minutes = IntegerField(
        "Minutes", validators=[Optional(), NumberRange(min=5, max=600)], default=60
    )
    required = IntegerField(
        "Required", validators=[Optional(), NumberRange(min=1, max=20)], default=1
    )
    pool = SelectMultipleField(
        "Pool", coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )


class LoopForm(PanelForm):
    key = StringField(
        "Id",
        validators=[
            DataRequired(),
            Length(max=100),
            Regexp(KEY_RE, message="letters, digits, _ . -"),
        ],
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    order = SelectField(
        "Order",
        choices=[SelectChoice("fixed", "As written"), SelectChoice("any", "Any order")],
        default="fixed",
    )
    min_gap_minutes = IntegerField("Min gap (min)", default=0, validators=[NumberRange(0, 1440)])
    max_gap_minutes = IntegerField("Max gap (min)", default=15, validators=[NumberRange(0, 1440)])
    granularity_minutes = IntegerField(
        "Start grid (min)", default=15, validators=[NumberRange(5, 120)]
    )
    min_notice_hours = FloatField(
        "Min notice (h)", default=24, validators=[NumberRange(0, 24 * 60)]
    )
    buffer_before_minutes = IntegerField(
        "Buffer before (min)", default=0, validators=[NumberRange(0, 240)]
    )
    buffer_after_minutes = IntegerField(
        "Buffer after (min)", default=10, validators=[NumberRange(0, 240)]
    )
    video_url_template = StringField(
        "Video link template", validators=[Optional(), Length(max=500), web_link]
    )
    video = SelectField(
        "Video link",
        choices=[
            SelectChoice("template", "The link template above"),
            SelectChoice(
                "google_meet", "Google Meet (organiser's Google Calendar; else the template)"
            ),
            SelectChoice(
                "teams", "Microsoft Teams (organiser's Microsoft 365 calendar; else the template)"
            ),
        ],
        default="template",
    )
    show_interviewer_names = BooleanField("Show interviewer names to the candidate", default=True)
    hide_candidate_names = BooleanField(
        "Hide the candidate's name on interviewers' own pages", default=False
    )
    live_fallback = BooleanField(
        "When the offered times fall outside the candidate's hours in their own zone, "
        "offer live times in their zone",
        default=True,
    )
    offer_from_ranges = BooleanField(
        "When a candidate gives their own times, offer what fits inside them at once "
        "(else you send them in one click)",
        default=True,
    )
    auto_repair = BooleanField(
        "When an interviewer drops out of a booked session, replace them from the pool",
        default=True,
    )
    repair_min_hours_before = FloatField(
        "Replace automatically only more than (h) before",
        default=48,
        validators=[NumberRange(0, 24 * 60)],
    )
    max_auto_repairs = IntegerField(
        "Automatic replacements per booking at most", default=3, validators=[NumberRange(0, 50)]
    )
    sessions = FieldList(FormField(SessionSubForm), min_entries=1, max_entries=MAX_SESSIONS)

    def validate_max_gap_minutes(self, field: Any) -> None:
        if (
            field.data is not None
            and self.min_gap_minutes.data is not None
            and field.data < self.min_gap_minutes.data
        ):
            raise ValidationError("must be at least the min gap")

    def filled_sessions(self) -> list[SessionSubForm]:
        return [s.form for s in self.sessions if (s.form.name.data or "").strip()]

    def validate_sessions(self, field: Any) -> None:
        filled = self.filled_sessions()
        if not filled:
            raise ValidationError("add at least one session (give it a name)")
        names = [s.name.data.strip() for s in filled]
        if len(set(names)) != len(names):
            raise ValidationError("two sessions have the same name")
        for s in filled:
            if not s.duration_minutes.data:
                raise ValidationError(f"session {s.name.data!r}: give its length in minutes")
            if not s.pool.data:
                raise ValidationError(
                    f"session {s.name.data!r}: its pool is empty; tick interviewers"
                )
            req = s.required.data or 1
            if req > len(s.pool.data):
                have = len(s.pool.data)
                raise ValidationError(
                    f"session {s.name.data!r}: {req} required but only {have} in the pool"
                )


class RequestForm(PanelForm):
    candidate_name = StringField("Candidate name", validators=[DataRequired(), Length(max=200)])
    candidate_email = StringField(
        "Candidate e-mail", validators=[DataRequired(), Length(max=254), _email]
    )
    candidate_tz = StringField(
        "Candidate time zone",
        validators=[Optional(), valid_zone],
        filters=[zone_text],
        description="Optional; the candidate's page detects it. Used for their comfortable hours.",
    )
    loop = SelectField("Loop", coerce=int, validators=[DataRequired()])
    date_from = DateField("From", validators=[DataRequired(), sane_date])
    date_to = DateField("To", validators=[DataRequired(), sane_date])
    hours = StringField(
        "Candidate hours",
        default="08:00-20:00",
        validators=[DataRequired()],
        description="The candidate's comfortable local hours",
    )
    note = TextAreaField("Note to the candidate", validators=[Optional(), Length(max=2000)])

    def validate_hours(self, field: Any) -> None:
        try:
            self.parsed_hours = parse_range(field.data or "", "hours")
        except HoursError as exc:
            raise ValidationError(exc.hint) from None

    def validate_date_to(self, field: Any) -> None:
        if self.date_from.data and field.data:
            if field.data < self.date_from.data:
                raise ValidationError("the end date is before the start date")
            if (field.data - self.date_from.data).days > 60:
                raise ValidationError("search at most 60 days at a time")


class OfferForm(PanelForm):
    options = SelectMultipleField(
        "Options", coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    live = BooleanField("Let the candidate choose from live availability in their own zone")

    def validate_options(self, field: Any) -> None:
        if not field.data and not self.live.data:
            raise ValidationError("choose at least one option to offer")


class AccountForm(PanelForm):
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    timezone = StringField(
        "Your time zone",
        validators=[DataRequired(), valid_zone],
        filters=[zone_text],
        description="Booked times are shown in this zone and the candidate's",
    )
    current_password = PasswordField("Current password", validators=[Optional(), Length(max=200)])
    new_password = PasswordField(
        "New password",
        validators=[Optional(), Length(min=8, max=200)],
        description="Leave empty to keep the current one",
    )

    def validate_current_password(self, field: Any) -> None:
        if self.new_password.data and not field.data:
            raise ValidationError("give your current password to set a new one")
