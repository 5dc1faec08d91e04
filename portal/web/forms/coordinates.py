"""A company's coordinates, edited by staff (the client form) and by the client's own contacts."""

from functools import partial

from wtforms import BooleanField, SelectField, SubmitField

from portal.i18n import lazy_gettext as _l
from portal.models import (
    ADDRESS_FIELDS,
    Client,
)
from portal.validation import (
    apply,
    country_choices,
    normalise_email,
    normalise_phone,
    normalise_postal_code,
    normalise_website,
)
from portal.web.forms import NO_CHOICE, PortalForm, text


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
