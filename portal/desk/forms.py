"""The desk's forms on a support request: triage, a reply or an internal note, a
refusal, an improvement's answer, and a request opened for a caller."""

from wtforms import BooleanField, DecimalField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.i18n import lazy_gettext as _l
from portal.models import Priority, RequestState
from portal.services.requests import MAX_TEXT
from portal.web.forms import NO_CHOICE, PortalForm, enum_choices, strip
from portal.web.forms.requests import FilesField, RequestForm


class AcknowledgeForm(PortalForm):
    priority = SelectField(
        _l("Priority"),
        default="",
        validate_choice=True,
        description=_l("A malfunction needs one: the customer is mailed it with its delay."),
    )
    assignee_id = SelectField(_l("In charge"), coerce=str, default="", validate_choice=True)
    submit = SubmitField(_l("Acknowledge"))

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = [NO_CHOICE, *((str(user.id), user.name) for user in staff)]
        self.priority.choices = [NO_CHOICE, *enum_choices(Priority)]  # in the reader's language


class AssignForm(PortalForm):
    assignee_id = SelectField(_l("In charge"), coerce=str, default="", validate_choice=True)
    submit = SubmitField(_l("Assign"))

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = [NO_CHOICE, *((str(user.id), user.name) for user in staff)]


class MoveForm(PortalForm):
    new_state = SelectField(_l("New state"), validate_choice=True)
    submit = SubmitField(_l("Change the state"))

    def __init__(self, *args, states=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.new_state.choices = [(state.value, state.label) for state in states]


class DeskReplyForm(PortalForm):
    body = TextAreaField(
        _l("Message"), validators=[DataRequired(), Length(max=MAX_TEXT)], filters=[strip]
    )
    internal = BooleanField(
        _l("Internal note: staff only, never shown or mailed to the customer"),
    )
    files = FilesField()
    submit = SubmitField(_l("Send"))


class TurnDownForm(PortalForm):
    outcome = SelectField(_l("Outcome"), validate_choice=True)
    reason = TextAreaField(
        _l("Reason, as the customer will read it"),
        validators=[DataRequired(), Length(max=2000)],
        filters=[strip],
    )
    duplicate_of = StringField(
        _l("Reference of the request it repeats"),
        validators=[Optional(), Length(max=20)],
        filters=[strip],
        description=_l("For a duplicate, e.g. R-2026-00042."),
    )
    submit = SubmitField(_l("Close the request"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = [
            (state.value, state.label) for state in (RequestState.REFUSED, RequestState.DUPLICATE)
        ]


class QuoteForm(PortalForm):
    days = DecimalField(
        _l("Person-days"),
        places=2,
        validators=[InputRequired(), NumberRange(min=0.25, max=9999)],
    )
    submit = SubmitField(_l("Send the quote"))


class DeskRequestForm(RequestForm):
    """A request the desk opens for a caller: who called, among the client's contacts."""

    contact_id = SelectField(_l("Who called"), coerce=str, default="", validate_choice=True)

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.contact_id.choices = [NO_CHOICE, *((str(c.id), c.name) for c in contacts)]
        self.kind.label.text = _l("Kind of request")
        self.submit.label.text = _l("Open the request")
