"""The technicians' forms: the intervention of seed 002, and the sales
administration's purchase, adjustment, NPI flag and linked companies."""

from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.i18n import lazy_gettext as _l
from portal.services.credit import MAX_CREDIT_MINUTES, MAX_MINUTES
from portal.web.forms import PortalForm, strip, text


class InterventionForm(PortalForm):
    """Seed 002's form: summary, advice, duration (or the stopwatch), review, Normal or Free."""

    summary = TextAreaField(
        _l("Summary"),
        validators=[DataRequired(), Length(max=4000)],
        filters=[strip],
        description=_l("What was done; sent to the client."),
    )
    advice = TextAreaField(
        _l("Our advice"),
        validators=[Optional(), Length(max=4000)],
        filters=[strip],
        description=_l("Optional: backups, folder organisation, and so on."),
    )
    minutes = IntegerField(
        _l("Duration (min)"),
        validators=[
            InputRequired(_l("Give the duration in minutes.")),
            NumberRange(1, MAX_MINUTES, _l("Between 1 and %(max)d minutes.", max=MAX_MINUTES)),
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_MINUTES},
    )
    client_id = SelectField(_l("Company served"), coerce=int, validate_choice=True)
    review = BooleanField(_l("Invite to leave a review"))
    override_reason = TextAreaField(
        _l("Reason for overriding the credit policy"),
        validators=[Optional(), Length(max=500)],
        filters=[strip],
    )
    #: The support request the intervention answers, when recorded from one.
    request_id = HiddenField(validators=[Optional()])
    normal = SubmitField(_l("Normal"))
    free = SubmitField(_l("Free"))

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        self.client_id.choices = [
            (client.id, f"{client.code} · {client.name}") for client in clients
        ]
        if self.client_id.data is None and clients:
            self.client_id.data = clients[0].id


class PurchaseForm(PortalForm):
    minutes = IntegerField(
        _l("Minutes bought"),
        validators=[InputRequired(), NumberRange(1, MAX_CREDIT_MINUTES)],
        render_kw={"inputmode": "numeric"},
    )
    amount = DecimalField(
        _l("Amount paid"), places=2, validators=[Optional(), NumberRange(0, 10_000_000)]
    )
    reference = text(_l("Reference"), 60, description=_l("Invoice or order number."))
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    submit = SubmitField(_l("Record the purchase"))


class AdjustmentForm(PortalForm):
    delta = IntegerField(
        _l("Correction (min)"),
        validators=[
            InputRequired(),
            NumberRange(-MAX_CREDIT_MINUTES, MAX_CREDIT_MINUTES),
        ],
        description=_l("Positive to give minutes back, negative to take them."),
    )
    reason = StringField(
        _l("Reason"), validators=[DataRequired(), Length(max=500)], filters=[strip]
    )
    submit = SubmitField(_l("Record the correction"))

    def validate_delta(self, field):
        if field.data == 0:
            raise ValidationError(_l("A correction of 0 minutes changes nothing."))


class AlertThresholdForm(PortalForm):
    minutes = IntegerField(
        _l("Alert the customer below (min)"),
        validators=[
            Optional(),
            NumberRange(
                0, MAX_CREDIT_MINUTES, _l("Between 0 and %(max)d minutes.", max=MAX_CREDIT_MINUTES)
            ),
        ],
        render_kw={"inputmode": "numeric"},
    )
    submit = SubmitField(_l("Save"))


class NpiForm(PortalForm):
    reason = StringField(
        _l("Reason"), validators=[DataRequired(), Length(max=500)], filters=[strip]
    )
    submit = SubmitField(_l("Save"))


class OpenAccountForm(PortalForm):
    customer_id = StringField(
        _l("Customer ID"),
        validators=[DataRequired(), Length(max=20)],
        filters=[strip],
        description=_l("The number the customer quotes when they call."),
    )
    submit = SubmitField(_l("Open the account"))


class LinkForm(PortalForm):
    code = StringField(
        _l("Client code"), validators=[DataRequired(), Length(max=20)], filters=[strip]
    )
    submit = SubmitField(_l("Link"))
