"""The chat's forms: a message, a channel, a direct conversation, one's chat profile."""

from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.i18n import lazy_gettext as _l
from portal.services import chat
from portal.web.forms import MultiCheckboxField, PortalForm, strip


class EditMessageForm(PortalForm):
    body = TextAreaField(
        _l("Message"),
        validators=[InputRequired(_l("Write a message first.")), Length(max=chat.MAX_BODY)],
        render_kw={"rows": 4, "maxlength": chat.MAX_BODY},
    )
    submit = SubmitField(_l("Save"))


class ColorFields:
    """A colour from the palette, or typed (#rrggbb), which wins when given."""

    color = RadioField(_l("Colour"), default=chat.PALETTE[0][0], validate_choice=False)
    custom_color = StringField(
        _l("Other colour, as #rrggbb"),
        validators=[Optional(), Length(max=20)],
        filters=[strip],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
        description=_l("Any colour dark enough to see on white (3:1)."),
    )

    def set_palette(self):
        self.color.choices = [SelectChoice(value, label) for value, label in chat.PALETTE]
        if self.color.data and self.color.data not in dict(chat.PALETTE):
            # The channel's own colour, typed once, stays offered.
            self.color.choices.append(SelectChoice(self.color.data, self.color.data))

    def wanted_color(self) -> str:
        return self.custom_color.data or self.color.data or ""

    def color_refused(self, message) -> None:
        """Say why the colour was refused, at the field that gave it."""
        field = self.custom_color if self.custom_color.data else self.color
        field.errors = [*field.errors, message]


def member_choices(people: list[chat.Person], me: int) -> list[SelectChoice]:
    return [
        SelectChoice(person.id, f"{person.name} (@{person.handle})")
        for person in people
        if person.id != me
    ]


class ChannelForm(ColorFields, PortalForm):
    name = StringField(
        _l("Name"),
        validators=[InputRequired(_l("Give the channel a name.")), Length(max=80)],
        filters=[strip],
    )
    description = StringField(
        _l("Description"), validators=[Optional(), Length(max=300)], filters=[strip]
    )
    members = MultiCheckboxField(_l("Members"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Save"))

    def __init__(self, people: list[chat.Person], me: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.members.choices = member_choices(people, me)
        self.set_palette()


class EveryoneForm(ColorFields, PortalForm):
    """The "Everyone" channel: only its colour changes."""

    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_palette()


class DirectForm(PortalForm):
    members = MultiCheckboxField(
        _l("Talk with"),
        coerce=int,
        validate_choice=False,
        validators=[InputRequired(_l("Choose at least one colleague to talk with."))],
    )
    submit = SubmitField(_l("Open the conversation"))

    def __init__(self, people: list[chat.Person], me: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.members.choices = member_choices(people, me)


class ProfileForm(PortalForm):
    nickname = StringField(
        _l("Nickname"),
        validators=[Optional(), Length(max=30)],
        filters=[strip],
        render_kw={"spellcheck": "false", "autocomplete": "nickname"},
        description=_l("Colleagues mention you with @ and this name. Empty: from your name."),
    )
    picture = FileField(
        _l("New picture"),
        render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"},
        description=_l(
            "PNG, JPEG, GIF or WebP, 2 MB at most, 32 to 4000 pixels a side; cropped square."
        ),
    )
    remove_picture = BooleanField(_l("Remove the picture"))
    order = RadioField(
        _l("Reading order"),
        default="oldest",
        validate_choice=True,
        choices=[SelectChoice("oldest", "")],
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order.choices = [
            SelectChoice("oldest", _l("Newest message at the bottom")),
            SelectChoice("newest", _l("Newest message on top")),
        ]

    def validate_nickname(self, field):
        try:
            field.data = chat.check_nickname(field.data)
        except chat.ChatRefused as refusal:
            raise ValidationError(refusal.message) from None
