"""The password asked again before a sensitive action (the gate shows it)."""

from wtforms import HiddenField, PasswordField, SubmitField
from wtforms.validators import InputRequired, Length

from portal.i18n import lazy_gettext as _l
from portal.web.forms import PortalForm


class ReauthenticateForm(PortalForm):
    secret = PasswordField(
        _l("Your password"),
        validators=[InputRequired(_l("Type your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password", "autofocus": True},
        description=_l("Or, if you use two-factor sign-in, the code your app shows now."),
    )
    #: Where the kept form goes once the password is given.
    action = HiddenField()
    submit = SubmitField(_l("Confirm"))
