"""The forms of a support request that the customer's pages and the desk's share: the
request itself (seed 001's three kinds, a subject, a description, screenshots, the
remote-access ID) and a reply with its files."""

from wtforms import (
    BooleanField,
    MultipleFileField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.i18n import lazy_gettext as _l
from portal.models import RequestKind
from portal.services import attachments
from portal.services.requests import MAX_TEXT, NewRequest
from portal.web.forms import PortalForm, enum_choices, strip


class FilesField(MultipleFileField):
    """Screenshots or PDFs, checked from their content when the form validates: the
    checked files are in ``checked``."""

    def __init__(self, label=None, **kwargs):
        kwargs.setdefault(
            "description",
            _l(
                "Screenshots (PNG, JPEG, GIF, WebP) or PDFs: at most %(count)d files of"
                " %(size)d MB each.",
                count=attachments.MAX_FILES,
                size=attachments.MAX_BYTES // (1024 * 1024),
            ),
        )
        super().__init__(label or _l("Files"), **kwargs)
        self.checked: list[attachments.CheckedFile] = []

    def pre_validate(self, form):
        sent = [file for file in (self.data or []) if getattr(file, "filename", None)]
        if len(sent) > attachments.MAX_FILES:
            raise ValidationError(
                _l("Send at most %(count)d files at once.", count=attachments.MAX_FILES)
            )
        checked, refused = [], []
        for file in sent:
            try:
                checked.append(
                    attachments.check(file.filename, file.read(attachments.MAX_BYTES + 1))
                )
            except attachments.FileRefused as refusal:
                refused.append(str(refusal.message))
        if refused:
            raise ValidationError(" ".join(refused))
        self.checked = checked


class RequestForm(PortalForm):
    kind = SelectField(_l("What do you need?"), validate_choice=True)
    subject = StringField(
        _l("Subject"),
        validators=[DataRequired(), Length(max=200)],
        filters=[strip],
        description=_l("In a few words, e.g. “Invoices do not print since the update”."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[DataRequired(), Length(max=MAX_TEXT)],
        filters=[strip],
        description=_l(
            "What you did, what you expected, what happened instead, and the exact message"
            " if one appeared."
        ),
    )
    blocking = BooleanField(
        _l("It stops my work (a blocking malfunction)"),
        description=_l("The desk is told at once, on a day it handles urgent matters only too."),
    )
    files = FilesField()
    remote_access_id = StringField(
        _l("Remote-access ID (optional)"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9A-Za-z@ #._-]+$", message=_l("Digits, letters and spaces only.")),
        ],
        filters=[strip],
        description=_l("Your AnyDesk number, if the technician may take control of your screen."),
    )
    submit = SubmitField(_l("Send the request"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = enum_choices(RequestKind)  # in the reader's language

    def asked(self) -> NewRequest:
        return NewRequest(
            kind=RequestKind(self.kind.data),
            subject=self.subject.data,
            description=self.description.data,
            remote_access_id=self.remote_access_id.data or None,
            blocking=bool(self.blocking.data),
        )


class ReplyForm(PortalForm):
    body = TextAreaField(
        _l("Your answer"),
        validators=[DataRequired(), Length(max=MAX_TEXT)],
        filters=[strip],
    )
    files = FilesField()
    submit = SubmitField(_l("Send"))
