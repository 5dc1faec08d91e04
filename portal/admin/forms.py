"""The access list's buttons."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class UserActionForm(FlaskForm):
    """The disable and enable buttons of a row (CSRF-protected POSTs)."""

    submit = SubmitField(_l("Confirm"))
