from wtforms import HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length

from portal.i18n import lazy_gettext as _l
from portal.services.passkeys import MAX_RESPONSE, NAME_LENGTH
from portal.services.users import MIN_PASSWORD_LENGTH
from portal.web.forms import PortalForm
from portal.web.languages import locale_choices


class LoginForm(PortalForm):
    login = StringField(
        _l("User code or email"),
        validators=[InputRequired(), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Sign in"))


class LogoutForm(PortalForm):
    submit = SubmitField(_l("Sign out"))


class ChangePasswordForm(PortalForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[
            InputRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            InputRequired(),
            EqualTo("new_password", message=_l("The two passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class SetPasswordForm(PortalForm):
    password = PasswordField(
        _l("Choose a password"),
        validators=[InputRequired(), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
        description=_l(
            "At least %(min)d characters; not your user code or email.", min=MIN_PASSWORD_LENGTH
        ),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            InputRequired(),
            EqualTo("password", message=_l("The two passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save my password"))


class RenewLinkForm(PortalForm):
    submit = SubmitField(_l("Send me a new link"))


class ForgotPasswordForm(PortalForm):
    login = StringField(
        _l("User code or email"),
        validators=[InputRequired(), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    submit = SubmitField(_l("Send me a link"))


class ChangeEmailForm(PortalForm):
    email = StringField(
        _l("New email address"),
        validators=[InputRequired(), Length(max=254)],
        render_kw={"type": "email", "autocomplete": "email"},
    )
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Send the confirmation link"))


class LanguageForm(PortalForm):
    """The language switch: a signed-in user's preference, a visitor's choice."""

    locale = SelectField(_l("Language"), validate_choice=True)
    next = HiddenField()
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, signed_in: bool, **kwargs):
        super().__init__(*args, **kwargs)
        default = [("", _l("The language of my company"))] if signed_in else []
        self.locale.choices = default + locale_choices()


class SecondFactorForm(PortalForm):
    code = StringField(
        _l("Code"),
        validators=[InputRequired(_l("Type the code.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"},
        description=_l(
            "The 6 digits your authenticator app shows now, or one of your recovery codes."
        ),
    )
    submit = SubmitField(_l("Sign in"))


class TotpSetupForm(PortalForm):
    code = StringField(
        _l("Code shown by the app"),
        validators=[InputRequired(_l("Type the code.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Turn on"))


class PasswordCheckForm(PortalForm):
    """An action on one's second factor asks for the password again."""

    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Confirm"))


class PasskeyForm(PortalForm):
    """A new passkey: its name, then what the browser answered when it made it."""

    name = StringField(
        _l("Name of this passkey"),
        validators=[InputRequired(_l("Give this passkey a name.")), Length(max=NAME_LENGTH)],
        description=_l("The device it is on, to tell your passkeys apart: “Work laptop”, “Phone”."),
        render_kw={"autocomplete": "off"},
    )
    response = HiddenField(validators=[Length(max=MAX_RESPONSE)])
    submit = SubmitField(_l("Create the passkey"))


class PasskeyNameForm(PortalForm):
    name = StringField(
        _l("Name of this passkey"),
        validators=[InputRequired(_l("Give this passkey a name.")), Length(max=NAME_LENGTH)],
    )
    submit = SubmitField(_l("Save"))


class PasskeyRemoveForm(PortalForm):
    submit = SubmitField(_l("Remove this passkey"))


class PasskeyAnswerForm(PortalForm):
    """What the browser's passkey answered, to sign in."""

    response = HiddenField(validators=[Length(max=MAX_RESPONSE)])
    submit = SubmitField(_l("Sign in with a passkey"))
