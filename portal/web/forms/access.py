"""The seed's "Add a user" form for a client's contact."""

from sqlalchemy import select
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Branch, User
from portal.network import normalise_network
from portal.validation import apply, normalise_email
from portal.web.forms import NO_CHOICE, PortalForm, strip, text


def branch_choices() -> list[SelectChoice]:
    branches = db.session.scalars(
        select(Branch).where(Branch.active.is_(True)).order_by(Branch.name)
    )
    return [NO_CHOICE] + [SelectChoice(str(branch.id), branch.name) for branch in branches]


class GrantAccessForm(PortalForm):
    code = StringField(
        _l("User code"),
        filters=[strip],
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Use letters, digits, dots, dashes.")),
        ],
        description=_l("Proposed from the client's code; you may change it."),
    )
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(), Length(max=254)],
        render_kw={"type": "email"},
    )
    allowed_network = text(
        _l("Limit access to this IP address (optional)"),
        64,
        description=_l("One address such as 203.0.113.7, or a network such as 203.0.113.0/24."),
    )
    branch_id = SelectField(_l("Limit access to this branch (optional)"))
    submit = SubmitField(_l("Save and send email"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.branch_id.choices = branch_choices()

    def validate_code(self, field):
        if db.session.scalar(select(User.id).where(User.code == field.data)) is not None:
            raise ValidationError(_l("Another user already has this code."))

    def validate_email(self, field):
        apply(field, normalise_email)
        field.data = field.data.lower()
        if db.session.scalar(select(User.id).where(User.email == field.data)) is not None:
            raise ValidationError(_l("Another user already signs in with this email."))

    def validate_allowed_network(self, field):
        apply(field, normalise_network)


class LimitsForm(PortalForm):
    allowed_network = text(
        _l("Limit access to this IP address (optional)"),
        64,
        description=_l("One address such as 203.0.113.7, or a network such as 203.0.113.0/24."),
    )
    branch_id = SelectField(_l("Limit access to this branch (optional)"))
    submit = SubmitField(_l("Save limits"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.branch_id.choices = branch_choices()

    validate_allowed_network = GrantAccessForm.validate_allowed_network


class AccessActionForm(PortalForm):
    """The envelope, disable and enable buttons (CSRF-protected POSTs)."""

    submit = SubmitField(_l("Confirm"))
