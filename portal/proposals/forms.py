"""The staff's decision on a proposal made by a client's contact."""

from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from portal.i18n import lazy_gettext as _l
from portal.web.forms import PortalForm, strip


class AcceptForm(PortalForm):
    submit = SubmitField(_l("Accept and apply"))


class RejectForm(PortalForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[Length(max=500)],
        filters=[strip],
        description=_l("Optional; the client sees it."),
    )
    submit = SubmitField(_l("Reject"))
