"""What a client's contact may change of its own card, and propose for its colleagues."""

from functools import partial

from wtforms import BooleanField, SelectField, SubmitField, TextAreaField
from wtforms.validators import Length

from portal.i18n import lazy_gettext as _l
from portal.services.proposals import PROPOSED_FIELDS
from portal.validation import apply, normalise_phone
from portal.web.forms import NO_CHOICE, PortalForm, strip, text
from portal.web.forms.contact import ContactForm
from portal.web.languages import locale_choices

#: Fields of the contact card the contact keeps current itself.
OWN_CARD_FIELDS = ("title", "department", "phone", "mobile", "fax", "location")


class OwnCardForm(PortalForm):
    title = text(_l("Title"), 120)
    department = text(_l("Department"), 120)
    phone = text(_l("Phone"), 40, render_kw={"type": "tel"})
    mobile = text(_l("Mobile"), 40, render_kw={"type": "tel"})
    fax = text(_l("Fax"), 40, render_kw={"type": "tel"})
    location = text(_l("Location"), 120, description=_l("Site, building or office."))
    recap_mails = BooleanField(
        _l("Send me the recap of each support intervention"),
        description=_l("With the time credit balance; every mail has a link to stop them."),
    )
    locale = SelectField(
        _l("Language of the portal"), description=_l("Empty: the language of your company.")
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, phone_region: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.phone_region = phone_region
        self.locale.choices = [NO_CHOICE, *locale_choices()]

    def validate_phone(self, field):
        apply(field, partial(normalise_phone, region=self.phone_region))

    validate_mobile = validate_phone
    validate_fax = validate_phone

    def card_values(self) -> dict:
        values = {name: getattr(self, name).data or None for name in OWN_CARD_FIELDS}
        return {**values, "recap_mails": self.recap_mails.data}


class ColleagueForm(ContactForm):
    """A new colleague proposed by a client's contact; staff decide."""

    type = None
    fax = None
    note = TextAreaField(
        _l("Message"),
        validators=[Length(max=500)],
        filters=[strip],
        description=_l("Optional: anything the team should know."),
    )
    submit = SubmitField(_l("Send the proposal"))

    def values(self) -> dict:
        return {name: getattr(self, name).data or None for name in PROPOSED_FIELDS}

    def has_left(self) -> bool:
        return False


class CorrectionForm(ColleagueForm):
    """A correction of a colleague's card, or the news that the colleague has left."""

    departed = BooleanField(_l("This person has left the company"))

    def has_left(self) -> bool:
        return self.departed.data
