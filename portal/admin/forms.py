"""The administrator's forms: the access list's buttons, staff users, the tenant's
settings, its branches and its roles."""

from datetime import date
from functools import partial

from flask import flash, g
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.mail.requests import DEFAULT_DELAYS
from portal.models import Branch, Priority, Role, SystemRole, User
from portal.permissions import STAFF_PERMISSIONS
from portal.services import authority, brand, hours
from portal.validation import apply, normalise_email, normalise_phone, normalise_website
from portal.web.forms import MultiCheckboxField, PortalForm, strip, text
from portal.web.forms.access import GrantAccessForm, branch_choices
from portal.web.languages import locale_choices

#: The most days an invitation link may stay valid: a link in a mailbox is a key.
MAX_INVITATION_DAYS = 30
#: The deepest debt a tenant may allow before the credit policy refuses (a week's work).
MAX_THRESHOLD_MINUTES = 5 * 8 * 60


class UserActionForm(PortalForm):
    """The disable and enable buttons of a row (CSRF-protected POSTs)."""

    submit = SubmitField(_l("Confirm"))


def action_confirmed() -> bool:
    """Whether a row's button came with a valid form; if not, the user is told why."""
    if UserActionForm().validate_on_submit():
        return True
    flash(_("The form has expired; please try again."), "error")
    return False


def minutes_field(label, description) -> IntegerField:
    """A required number of minutes from 0 to ``MAX_THRESHOLD_MINUTES``."""
    return IntegerField(
        label,
        validators=[
            InputRequired(_l("Give a number of minutes.")),
            NumberRange(
                0,
                MAX_THRESHOLD_MINUTES,
                _l("Between 0 and %(max)d minutes.", max=MAX_THRESHOLD_MINUTES),
            ),
        ],
        render_kw={"inputmode": "numeric"},
        description=description,
    )


class SettingsForm(PortalForm):
    """What a business decides about its portal and its support desk."""

    #: The form's fields that are the tenant's columns of the same name.
    FIELDS = (
        "name",
        "support_sender_name",
        "support_sender_email",
        "support_phone",
        "review_url",
        "credit_threshold_minutes",
        "credit_alert_minutes",
        "invitation_days",
        "audit_address_days",
        "default_locale",
        "day_rate",
        "delay_flash",
        "delay_high",
        "delay_normal",
        "delay_low",
    )

    name = StringField(
        _l("Display name"),
        validators=[DataRequired(), Length(max=120)],
        filters=[strip],
        description=_l("Shown in the page header and signing every mail."),
    )
    support_sender_name = text(
        _l("Support sender name"),
        120,
        description=_l("The recap mails come from this name; the display name when empty."),
    )
    support_sender_email = text(
        _l("Support sender address"),
        254,
        render_kw={"type": "email"},
        description=_l("Customers reply to this address; the server's sender when empty."),
    )
    support_phone = text(
        _l("Support phone"),
        40,
        render_kw={"type": "tel"},
        description=_l("Signs the recap mails under the technician's name."),
    )
    review_url = text(
        _l("Review page"),
        255,
        render_kw={"inputmode": "url"},
        description=_l("Where “Invite to leave a review” sends the customer."),
    )
    credit_threshold_minutes = minutes_field(
        _l("Debt allowed before refusal (min)"),
        _l("Beyond this negative balance, technicians need an override."),
    )
    credit_alert_minutes = minutes_field(
        _l("Low-credit alert below (min)"),
        _l(
            "Customers are mailed when their balance falls below this;"
            " each account may set its own."
        ),
    )
    day_rate = DecimalField(
        _l("Day rate of specific development"),
        places=2,
        validators=[InputRequired(_l("Give an amount.")), NumberRange(0, 100_000)],
        render_kw={"inputmode": "decimal"},
        description=_l("Per person-day, in the business's currency: quotes for improvements."),
    )
    delay_flash = text(_l("Expected delay of a flash malfunction"), 200)
    delay_high = text(_l("Expected delay of a high-priority malfunction"), 200)
    delay_normal = text(_l("Expected delay of a normal-priority malfunction"), 200)
    delay_low = text(_l("Expected delay of a low-priority malfunction"), 200)
    invitation_days = IntegerField(
        _l("Invitation lifetime (days)"),
        validators=[
            InputRequired(_l("Give a number of days.")),
            NumberRange(
                1, MAX_INVITATION_DAYS, _l("Between 1 and %(max)d days.", max=MAX_INVITATION_DAYS)
            ),
        ],
        render_kw={"inputmode": "numeric"},
    )
    audit_address_days = IntegerField(
        _l("Keep the audit log's network addresses (days)"),
        validators=[
            InputRequired(_l("Give a number of days.")),
            NumberRange(1, 3650, _l("Between 1 and %(max)d days.", max=3650)),
        ],
        render_kw={"inputmode": "numeric"},
        description=_l(
            "After this, the outbox worker erases the addresses from the audit log (hourly); "
            "the events stay. Keep them as long as you need them to investigate, no longer."
        ),
    )
    default_locale = SelectField(_l("Default language"), validate_choice=True)
    logo = FileField(
        _l("New logo"),
        render_kw={"accept": "image/png,image/jpeg,image/svg+xml"},
        description=_l(
            "PNG, JPEG or SVG, 1 MB at most, from 16 × 16 to 2000 × 2000 pixels. Shown in "
            "the page header, on the sign-in page and the printed statement, and in the "
            "mails (PNG or JPEG)."
        ),
    )
    remove_logo = BooleanField(_l("Remove the logo"))
    accent_picker = StringField(_l("Accent colour"), render_kw={"type": "color"})
    # No Optional(): its check runs when the text is empty too, to read the colour picked.
    accent_color = StringField(
        _l("Accent colour as #rrggbb"),
        validators=[Length(max=20)],
        filters=[strip],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
        description=_l(
            "Colours the header's band, the buttons, the links and the mails. Typed here, it "
            "wins over the colour picked; empty, Portal's blue. White text on it must stay "
            "readable (a contrast ratio of 4.5:1)."
        ),
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the languages the portal speaks, not every language a client may have.
        self.default_locale.choices = locale_choices()
        # Empty, a delay is seed 001's, which the field shows as its placeholder.
        for priority in Priority:
            delay = self[f"delay_{priority.value}"]
            delay.render_kw = {"placeholder": str(DEFAULT_DELAYS[priority])}
        if not self.accent_picker.data:  # a colour input always shows one
            self.accent_picker.data = brand.accent_color(kwargs.get("obj"))
        #: What the brand's fields ask for, once they are valid.
        self.checked_logo: brand.Logo | None = None
        self.chosen_accent: str | None = self.accent_color.object_data

    def validate_logo(self, field):
        if not field.data:
            return
        try:
            self.checked_logo = brand.check_logo(field.data.read())
        except brand.BrandRefused as refusal:
            raise ValidationError(refusal.message) from None

    def validate_accent_color(self, field):
        """The colour typed when it differs from the current one, else the one picked
        when it does; either must leave text enough contrast."""
        current = field.object_data or None
        typed = field.data or None
        picked = self.accent_picker.data or None
        if (typed or "").lower() != (current or ""):
            wanted = typed
        elif picked and picked.lower() != (current or brand.DEFAULT_ACCENT):
            wanted = picked
        else:
            wanted = current
        try:
            self.chosen_accent = brand.check_accent_color(wanted)
        except brand.BrandRefused as refusal:
            raise ValidationError(refusal.message) from None

    def brand_values(self) -> dict:
        """The brand's changes for ``settings.update_settings``."""
        return {
            "logo": self.checked_logo,
            "remove_logo": bool(self.remove_logo.data),
            "accent_color": self.chosen_accent,
        }

    def validate_support_sender_email(self, field):
        apply(field, normalise_email)

    def validate_review_url(self, field):
        apply(field, normalise_website)

    def values(self) -> dict:
        return {name: self[name].data or None for name in self.FIELDS} | {
            "name": self.name.data,
            "credit_threshold_minutes": self.credit_threshold_minutes.data,
            "credit_alert_minutes": self.credit_alert_minutes.data,
            "day_rate": self.day_rate.data,
            "invitation_days": self.invitation_days.data,
            "audit_address_days": self.audit_address_days.data,
        }


class DayForm(PortalForm):
    """One day of the desk's week: closed when both times are empty."""

    class Meta:
        csrf = False  # a part of HoursForm, whose token covers it

    opens = TimeField(_l("Opens"), validators=[Optional()])
    closes = TimeField(_l("Closes"), validators=[Optional()])
    reduced = BooleanField(_l("Urgent matters only"))

    def validate(self, extra_validators=None) -> bool:
        # Here, not in a field's check: an empty time stops its own field's checks.
        valid = super().validate(extra_validators)
        if not valid:
            return False
        opens, closes = self.opens.data, self.closes.data
        if (opens is None) != (closes is None):
            self.closes.errors = [_("Give both times, or neither for a closed day.")]
        elif closes is not None and closes <= opens:
            self.closes.errors = [_("The desk must close after it opens.")]
        return not self.closes.errors

    def day(self) -> hours.Day | None:
        if self.opens.data is None:
            return None
        return hours.Day(self.opens.data, self.closes.data, bool(self.reduced.data))


#: Most holidays a tenant lists.
MAX_HOLIDAYS = 60


class HoursForm(PortalForm):
    """The desk's week (seed 001's by default) and its holidays."""

    week = FieldList(FormField(DayForm), min_entries=7, max_entries=7)
    holidays = TextAreaField(
        _l("Holidays"),
        validators=[Optional(), Length(max=MAX_HOLIDAYS * 12)],
        filters=[strip],
        description=_l("One date a line, as 2026-12-25: the desk is closed on these days."),
    )
    submit = SubmitField(_l("Save"))

    @property
    def dates(self) -> list[date]:
        """The holidays, once the form is valid."""
        return sorted({date.fromisoformat(line) for line in (self.holidays.data or "").split()})

    def validate_holidays(self, field):
        days, wrong = [], []
        for line in (field.data or "").split():
            try:
                days.append(date.fromisoformat(line))
            except ValueError:
                wrong.append(line)
        if wrong:
            raise ValidationError(
                _l("Not a date as 2026-12-25: %(values)s", values=", ".join(wrong[:5]))
            )
        if len(set(days)) > MAX_HOLIDAYS:
            raise ValidationError(_l("At most %(max)d holidays.", max=MAX_HOLIDAYS))

    def chosen_week(self) -> list[hours.Day | None]:
        return [entry.form.day() for entry in self.week]


class BranchForm(PortalForm):
    """A branch's name, unique in the tenant."""

    name = StringField(
        _l("Branch name"),
        validators=[DataRequired(), Length(max=120)],
        filters=[strip],
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, branch: Branch | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.branch = branch

    def validate_name(self, field):
        taken = db.session.scalar(select(Branch.id).where(Branch.name == field.data))
        if taken is not None and (self.branch is None or taken != self.branch.id):
            raise ValidationError(_l("Another branch already has this name."))


class RoleForm(PortalForm):
    """A role's name and the staff permissions it grants, ticked from the catalogue."""

    name = StringField(
        _l("Role name"),
        validators=[DataRequired(), Length(max=80)],
        filters=[strip],
    )
    permissions = MultiCheckboxField(_l("Permissions"), validate_choice=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, role: Role | None = None, granted_by: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.role = role
        self.granted_by = granted_by
        self.permissions.choices = [
            SelectChoice(name, str(explanation)) for name, explanation in STAFF_PERMISSIONS.items()
        ]

    def validate_name(self, field):
        taken = db.session.scalar(select(Role.id).where(Role.name == field.data))
        if taken is not None and (self.role is None or taken != self.role.id):
            raise ValidationError(_l("Another role already has this name."))

    def validate_permissions(self, field):
        """Nobody hands out a power they do not have (nor edits a role that grants
        one: the view does not offer this form for it)."""
        try:
            authority.check_grant(self.granted_by, field.data or ())
        except authority.Refused as refusal:
            raise ValidationError(str(refusal)) from None

    def granted(self) -> set[str]:
        return set(self.permissions.data or ())


class StaffForm(PortalForm):
    """A staff user: who they are, their role, and the limits of what they see."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)], filters=[strip])
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(), Length(max=254)],
        render_kw={"type": "email"},
    )
    role_id = SelectField(_l("Role"), coerce=int, validate_choice=True)
    initials = StringField(
        _l("Initials"),
        filters=[strip, lambda value: value.upper() if value else value],
        validators=[
            Optional(),
            Regexp(r"^[A-Z0-9]{1,8}$", message=_l("Up to 8 letters or digits, such as HRY.")),
        ],
        description=_l("Shown in the support history, as in “by HRY”."),
    )
    phone = text(
        _l("Phone"),
        40,
        render_kw={"type": "tel"},
        description=_l("Signs the recap mails of their interventions."),
    )
    allowed_network = GrantAccessForm.allowed_network
    branch_id = SelectField(_l("Limit access to this branch (optional)"), default="")
    submit = SubmitField(_l("Save and send email"))

    def __init__(self, *args, user: User | None = None, granted_by: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        roles = db.session.scalars(
            select(Role).where(Role.system.is_distinct_from(SystemRole.CLIENT)).order_by(Role.name)
        ).all()
        # Nobody gives a role with more power than their own (nor edits a user who holds one).
        self.role_id.choices = [
            (role.id, role.name)
            for role in roles
            if not authority.lacking(granted_by, role.permissions)
        ]
        self.branch_id.choices = branch_choices()
        self.branch_id.data = str(self.branch_id.data or "")  # the id as its option's value
        if user is not None:
            del self.email  # the user changes their address themselves, with a confirmation
            self.submit.label.text = _l("Save")

    def validate_email(self, field):
        apply(field, normalise_email)
        field.data = field.data.lower()
        if db.session.scalar(select(User.id).where(User.email == field.data)) is not None:
            raise ValidationError(_l("Another user already signs in with this email."))

    validate_allowed_network = GrantAccessForm.validate_allowed_network

    def validate_phone(self, field):
        apply(field, partial(normalise_phone, region=g.tenant.default_country))

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "role_id": self.role_id.data,
            "initials": self.initials.data or None,
            "phone": self.phone.data or None,
            "allowed_network": self.allowed_network.data or None,
            "branch_id": int(self.branch_id.data) if self.branch_id.data else None,
        }


class TwoFactorRolesForm(PortalForm):
    required = MultiCheckboxField(
        _l("Roles whose users must sign in with a second factor"),
        coerce=int,
        validate_choice=True,
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, roles: list[Role], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.required.choices = [SelectChoice(role.id, role.name) for role in roles]
        if not self.is_submitted():
            self.required.data = [role.id for role in roles if role.two_factor_required]
