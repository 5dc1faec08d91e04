"""The contact card (the seed's small window): name required, the rest optional."""

from functools import partial

from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from portal.i18n import lazy_gettext as _l
from portal.validation import apply, normalise_email, normalise_phone
from portal.web.forms import PortalForm, strip, text

#: The editable fields of a contact, in the seed's order.
CONTACT_FIELDS = (
    "name",
    "title",
    "department",
    "type",
    "email",
    "phone",
    "mobile",
    "fax",
    "location",
)


class ContactForm(PortalForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    title = text(_l("Title"), 120)
    department = text(_l("Department"), 120)
    type = text(_l("Type"), 60, description=_l("For example Operations or Accounting."))
    email = text(_l("Email"), 254, render_kw={"type": "email"})
    phone = text(_l("Phone"), 40, render_kw={"type": "tel"})
    mobile = text(_l("Mobile"), 40, render_kw={"type": "tel"})
    fax = text(_l("Fax"), 40, render_kw={"type": "tel"})
    location = text(_l("Location"), 120, description=_l("Site, building or office."))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, phone_region: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.phone_region = phone_region

    def validate_email(self, field):
        apply(field, normalise_email)

    def validate_phone(self, field):
        apply(field, partial(normalise_phone, region=self.phone_region))

    validate_mobile = validate_phone
    validate_fax = validate_phone

    def values(self) -> dict:
        return {name: getattr(self, name).data or None for name in CONTACT_FIELDS}
