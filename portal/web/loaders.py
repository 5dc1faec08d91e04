"""Loaders that several blueprints share: the object a URL names, or 404.

The tenancy hook scopes every query, so a client out of the user's sight is simply not
found: the answer is the same 404 as for an id that does not exist.
"""

from dataclasses import dataclass
from urllib.parse import quote

from flask import Response, abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import Client, RequestAttachment, RequestMessage, SupportRequest
from portal.storage import NotStored, storage


def get_client(client_id: int) -> Client:
    """The client if this user may see it (scoping is automatic), else 404."""
    return db.get_or_404(Client, client_id)


def get_request(request_id: int) -> SupportRequest:
    """The support request if this user may see it, with its conversation (for a
    client's user, the hook leaves the internal notes and their files out)."""
    return db.session.scalar(
        select(SupportRequest)
        .where(SupportRequest.id == request_id)
        .options(
            joinedload(SupportRequest.client),
            joinedload(SupportRequest.contact),
            joinedload(SupportRequest.assignee),
        )
    ) or abort(404)


@dataclass(frozen=True)
class Conversation:
    """What this user may read of a request's conversation (the hook leaves internal
    notes out for a client's user): the messages, oldest first, with their authors, and
    the files, by message (``None``: sent with the request itself)."""

    messages: list[RequestMessage]
    files: dict[int | None, list[RequestAttachment]]

    def files_of(self, message: RequestMessage | None) -> list[RequestAttachment]:
        return self.files.get(message.id if message is not None else None, [])


def conversation(request: SupportRequest) -> Conversation:
    """Two statements, whatever the length of the conversation."""
    messages = db.session.scalars(
        select(RequestMessage)
        .where(RequestMessage.request_id == request.id)
        .options(joinedload(RequestMessage.author))
        .order_by(RequestMessage.created_at, RequestMessage.id)
    ).all()
    files: dict[int | None, list[RequestAttachment]] = {}
    for attachment in db.session.scalars(
        select(RequestAttachment)
        .where(RequestAttachment.request_id == request.id)
        .order_by(RequestAttachment.id)
    ):
        files.setdefault(attachment.message_id, []).append(attachment)
    return Conversation(list(messages), files)


def attachment_response(request: SupportRequest, attachment_id: int) -> Response:
    """A file of ``request`` that this user may read, served so that no browser runs
    it: its checked type, ``nosniff``, a sandboxing CSP, and a download unless it is an
    image (images were re-encoded when they arrived)."""
    attachment = db.session.scalar(
        select(RequestAttachment).where(
            RequestAttachment.id == attachment_id, RequestAttachment.request_id == request.id
        )
    ) or abort(404)
    try:
        data = storage().read(attachment.storage_key)
    except NotStored:
        abort(404)
    disposition = "inline" if attachment.is_image else "attachment"
    response = Response(data, mimetype=attachment.content_type)
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{quote(attachment.filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
