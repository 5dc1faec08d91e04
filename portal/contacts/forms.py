"""The contact pages' own form: the confirmation of an erasure."""

from wtforms import BooleanField, SubmitField
from wtforms.validators import DataRequired

from portal.i18n import lazy_gettext as _l
from portal.web.forms import PortalForm


class EraseContactForm(PortalForm):
    """Erasing is for good: the box must be ticked on purpose."""

    confirm = BooleanField(
        _l("I understand that this contact's personal data will be erased for good."),
        validators=[DataRequired(_l("Tick the box to confirm the erasure."))],
    )
    submit = SubmitField(_l("Erase this contact"))
