"""The base of every form of the portal, the one rule it applies to every text field, and
the small fields and forms that several blueprints share.

Single-line text (a name, a code, an address, a reason typed in an input) never holds a
line break or another control character. Stored, a line break in a name becomes a new
header line in a mail that quotes it, a new record in a log or a file, and text that
looks different from what was checked. A browser strips line breaks from what is typed
in an input, so only a forged request or a script sends one: it is refused with a
field message, and nothing is stored.

Multi-line text (a textarea) keeps its line breaks and tabs, which is what it is for,
and refuses every other control character (escape, NUL, DEL, the C1 controls): nobody
types them, they only garble the pages and mails that show the text, and refusing them
rather than stripping them keeps what is stored exactly what the user saw.

A password is exempt: it is only hashed, never stored, shown or mailed, and refusing a
character now would lock out whoever chose one before.
"""

import unicodedata

from flask_wtf import FlaskForm
from wtforms import (
    PasswordField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, StopValidation
from wtforms.widgets import Select

from portal.i18n import lazy_gettext as _l

#: Control characters (C0, DEL, C1), and the line and paragraph separators of Unicode,
#: which text tools treat as line breaks.
CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
#: What multi-line text may hold of them.
LINE_BREAKS_AND_TABS = frozenset("\t\r\n")

SINGLE_LINE_MESSAGE = _l("This field must be on one line, without control characters.")
MULTI_LINE_MESSAGE = _l(
    "This field may hold line breaks and tabs, but no other control characters."
)


def has_control_characters(value: str, *, multi_line: bool = False) -> bool:
    """Whether ``value`` holds a character that text of its kind must not hold."""
    allowed = LINE_BREAKS_AND_TABS if multi_line else frozenset()
    return any(
        unicodedata.category(character) in CONTROL_CATEGORIES and character not in allowed
        for character in value
    )


def single_line(form, field) -> None:
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise StopValidation(SINGLE_LINE_MESSAGE)


def multi_line(form, field) -> None:
    if isinstance(field.data, str) and has_control_characters(field.data, multi_line=True):
        raise StopValidation(MULTI_LINE_MESSAGE)


def character_rule(field):
    """The validator of the characters ``field`` may hold, or None for a field that holds
    no text (a number, a date, a choice) or a password."""
    if isinstance(field, TextAreaField):
        return multi_line
    if isinstance(field, StringField) and not isinstance(field, PasswordField):
        return single_line
    return None


class PortalForm(FlaskForm):
    """Every form of the portal derives from this one (a test checks it), so that a new
    field gets the character rule without anyone remembering it."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            rule = character_rule(field)
            if rule is not None:
                # First, so that no other check (a database lookup, a parser) sees the
                # value; a new list, as the declared one is shared by every instance.
                field.validators = [rule, *field.validators]
            return field

        def render_field(self, field, render_kw):
            # Hidden inputs and submit buttons render without an id: nothing refers to
            # them by id, and a page showing several forms (a contact card with its
            # access panel) would otherwise repeat ``csrf_token`` and ``submit``.
            if getattr(field.widget, "input_type", None) in {"hidden", "submit"}:
                render_kw = {"id": False, **render_kw}
            # HTML allows ``required`` on a one-line list only when its first option is
            # an empty placeholder: a list without one always has a value chosen, so the
            # attribute says nothing there (the server's check stays).
            if field.flags.required and not placeholder_first(field):
                render_kw = {"required": False, **render_kw}
            return super().render_field(field, render_kw)


def placeholder_first(field) -> bool:
    """Whether ``field``, if it is a one-line list, begins with an empty option (True for
    any other field)."""
    widget = field.widget
    if not isinstance(widget, Select) or widget.multiple or field.has_groups():
        return True
    first = next(iter(field.iter_choices()), None)
    return first is None or first[0] in ("", None)


NO_CHOICE = SelectChoice("", "—")


def enum_choices(enum_class) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.label) for member in enum_class]


def strip(value):
    return value.strip() if isinstance(value, str) else value


def text(label, max_length: int, **kwargs) -> StringField:
    """An optional text field, trimmed, at most ``max_length`` characters."""
    return StringField(
        label, validators=[Optional(), Length(max=max_length)], filters=[strip], **kwargs
    )


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of labelled checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ConfirmForm(PortalForm):
    """A button that must be pressed on purpose (archive, remove); CSRF-protected."""

    submit = SubmitField(_l("Confirm"))
