"""The client form: every field of the seed's INFOS tab, validated at the field."""

from functools import partial

from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.extensions import db
from portal.forms import PortalForm
from portal.i18n import lazy_gettext as _l
from portal.models import (
    ADDRESS_FIELDS,
    Branch,
    Client,
    ClientMode,
    ClientStatus,
    ClientType,
)
from portal.validation import (
    apply,
    country_choices,
    currency_choices,
    language_choices,
    normalise_email,
    normalise_phone,
    normalise_postal_code,
    normalise_website,
)

NO_CHOICE = SelectChoice("", "—")


def enum_choices(enum_class) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.label) for member in enum_class]


def strip(value):
    return value.strip() if isinstance(value, str) else value


def text(label, max_length: int, **kwargs) -> StringField:
    """An optional text field, trimmed, at most ``max_length`` characters."""
    return StringField(
        label, validators=[Optional(), Length(max=max_length)], filters=[strip], **kwargs
    )


class CoordinatesForm(PortalForm):
    """A company's coordinates: what staff, and the client's own contacts, may edit."""

    billing_address = text(_l("Address"), 200)
    billing_address2 = text(_l("Address 2"), 200)
    billing_city = text(_l("City"), 100)
    billing_province = text(_l("Province or state"), 100)
    billing_country = SelectField(_l("Country"))
    billing_postal_code = text(_l("Postal code"), 20)
    shipping_same_as_billing = BooleanField(_l("Ship to the billing address"))
    shipping_address = text(_l("Shipping address"), 200)
    shipping_address2 = text(_l("Shipping address 2"), 200)
    shipping_city = text(_l("Shipping city"), 100)
    shipping_province = text(_l("Shipping province or state"), 100)
    shipping_country = SelectField(_l("Shipping country"))
    shipping_postal_code = text(_l("Shipping postal code"), 20)

    phone = text(_l("Phone"), 40, render_kw={"type": "tel", "autocomplete": "tel"})
    mobile = text(_l("Mobile"), 40, render_kw={"type": "tel"})
    fax = text(_l("Fax"), 40, render_kw={"type": "tel"})
    email = text(_l("Email"), 254, render_kw={"type": "email"})
    website = text(_l("Website"), 255, render_kw={"inputmode": "url"})
    submit = SubmitField(_l("Save"))

    #: Fields that are not model attributes as such.
    NOT_ATTRIBUTES = frozenset({"csrf_token", "submit"})

    def __init__(self, *args, client: Client | None, default_country: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.default_country = default_country
        countries = [NO_CHOICE, *country_choices()]
        self.billing_country.choices = countries
        self.shipping_country.choices = countries

    def phone_region(self) -> str:
        return self.billing_country.data or self.default_country

    def validate_email(self, field):
        apply(field, normalise_email)

    def validate_website(self, field):
        apply(field, normalise_website)

    def validate_phone(self, field):
        apply(field, partial(normalise_phone, region=self.phone_region()))

    validate_mobile = validate_phone
    validate_fax = validate_phone

    def validate_billing_postal_code(self, field):
        apply(field, partial(normalise_postal_code, self.billing_country.data))

    def validate_shipping_postal_code(self, field):
        if self.shipping_same_as_billing.data:
            field.data = None
            return
        apply(field, partial(normalise_postal_code, self.shipping_country.data))

    def values(self) -> dict:
        """The validated values, as model attributes."""
        fields = {
            name: field.data or None if isinstance(field.data, str) else field.data
            for name, field in self._fields.items()
            if name not in self.NOT_ATTRIBUTES
        }
        if fields["shipping_same_as_billing"]:
            for name in ADDRESS_FIELDS:
                fields[f"shipping_{name}"] = None
        return fields


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


class ConfirmForm(PortalForm):
    """A button that must be pressed on purpose (archive, remove); CSRF-protected."""

    submit = SubmitField(_l("Confirm"))


class AssignForm(PortalForm):
    user_id = SelectField(_l("Staff member"), validators=[DataRequired()])
    submit = SubmitField(_l("Assign"))
