"""The chat's message form, which the chat's pages and the home page's panel share."""

from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from portal.i18n import lazy_gettext as _l
from portal.services import chat
from portal.web.forms import PortalForm


class ChatMessageForm(PortalForm):
    body = TextAreaField(
        _l("Message"),
        validators=[InputRequired(_l("Write a message first.")), Length(max=chat.MAX_BODY)],
        render_kw={"rows": 3, "maxlength": chat.MAX_BODY},
        description=_l(
            "**bold**, *italic*, `code`, lists with - or 1., links; @nickname tells a "
            "colleague. Enter sends, Shift+Enter starts a new line."
        ),
    )
    #: Where the form was sent from: the home page's panel returns there.
    back = HiddenField()
    submit = SubmitField(_l("Send"))
