"""The client form: every field of the seed's INFOS tab, validated at the field."""

from sqlalchemy import select
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    Branch,
    Client,
    ClientMode,
    ClientStatus,
    ClientType,
)
from portal.validation import (
    currency_choices,
    language_choices,
)
from portal.web.forms import NO_CHOICE, PortalForm, enum_choices, strip, text
from portal.web.forms.coordinates import CoordinatesForm


class ClientForm(CoordinatesForm):
    """Every field of the seed's INFOS tab, for staff."""

    code = StringField(
        _l("Code"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=20),
            Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Use letters, digits, dots, dashes.")),
        ],
        description=_l("Leave empty for the next free number."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    mode = SelectField(_l("Mode"), choices=enum_choices(ClientMode))
    status = SelectField(_l("Status"), choices=enum_choices(ClientStatus))
    type = SelectField(_l("Type"), choices=enum_choices(ClientType))
    language = SelectField(_l("Language"))
    currency = SelectField(_l("Currency"))
    bill_to = text(
        _l("Bill to (client code)"),
        20,
        description=_l("The code of another client that receives the invoices."),
    )
    reference = text(_l("Client's own reference number"), 60)
    business_number = text(_l("Business number (N.E.Q.)"), 40)
    branch_id = SelectField(_l("Home branch"))

    NOT_ATTRIBUTES = CoordinatesForm.NOT_ATTRIBUTES | {"bill_to", "branch_id"}

    def __init__(self, *args, client: Client | None, default_country: str, **kwargs):
        super().__init__(*args, client=client, default_country=default_country, **kwargs)
        self.bill_to_client: Client | None = None
        self.language.choices = language_choices()
        self.currency.choices = currency_choices()
        branches = db.session.scalars(select(Branch).order_by(Branch.name)).all()
        self.branch_id.choices = [NO_CHOICE] + [
            SelectChoice(str(branch.id), branch.name)
            for branch in branches
            if branch.active or (client is not None and client.branch_id == branch.id)
        ]

    def validate_code(self, field):
        if not field.data:
            return
        taken = db.session.scalar(select(Client.id).where(Client.code == field.data))
        if taken is not None and (self.client is None or taken != self.client.id):
            raise ValidationError(_l("Another client already has this code."))

    def validate_bill_to(self, field):
        if not field.data:
            return
        # Scoped like every query: a client of another tenant is simply not found.
        bill_to = db.session.scalar(select(Client).where(Client.code == field.data.strip()))
        if bill_to is None:
            raise ValidationError(_l("No client has this code."))
        if self.client is not None and bill_to.id == self.client.id:
            raise ValidationError(_l("A client cannot be billed to itself."))
        self.bill_to_client = bill_to

    def values(self) -> dict:
        fields = super().values()
        fields["mode"] = ClientMode(fields["mode"])
        fields["status"] = ClientStatus(fields["status"])
        fields["type"] = ClientType(fields["type"])
        fields["bill_to_id"] = self.bill_to_client.id if self.bill_to_client else None
        fields["branch_id"] = int(self.branch_id.data) if self.branch_id.data else None
        return fields


class AssignForm(PortalForm):
    user_id = SelectField(_l("Staff member"), validators=[DataRequired()])
    submit = SubmitField(_l("Assign"))
