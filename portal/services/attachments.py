"""Files sent with a support request: screenshots and PDFs (seed 001 asks for "les
copies d'écran nécessaires"). Each is checked from its content, never its name or the
browser's word: an image must open whole in Pillow and is re-encoded (what a viewer
runs is then our encoder's output, without metadata); a PDF must start as one. Files
lie in the upload storage (``portal.storage``) and follow the transaction."""

import io
import secrets
import unicodedata
from dataclasses import dataclass

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import RequestAttachment, SupportRequest
from portal.services.refusal import Refusal
from portal.storage import save_in

#: Largest file, in bytes.
MAX_BYTES = 10 * 1024 * 1024
#: Most files at once (with a request or a message).
MAX_FILES = 5
#: Largest image, in pixels on a side (a screenshot of a wide screen fits).
MAX_SIDE = 8000
#: Image formats kept as they are (re-encoded) and their types.
IMAGE_TYPES = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg")}
#: Images in other formats a browser sends (GIF, WebP, BMP) become PNG.
CONVERTED = {"GIF", "WEBP", "BMP"}


class FileRefused(Refusal):
    """The file cannot be attached; the message says why, for the field."""


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks, as it will be stored."""

    filename: str
    content_type: str
    extension: str
    data: bytes


def clean_filename(name: str | None, extension: str) -> str:
    """A name fit to show and to offer in a download: no path, no control character,
    at most 100 characters, ending with the extension of what it really is."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{(stem or 'file')[:100]}.{extension}"


def check(name: str | None, data: bytes) -> CheckedFile:
    """``data`` as it will be stored, or ``FileRefused`` saying why not."""
    if not data:
        raise FileRefused(_l("%(name)s is empty.", name=name or "?"))
    if len(data) > MAX_BYTES:
        raise FileRefused(
            _l(
                "%(name)s is larger than %(max)d MB.",
                name=name or "?",
                max=MAX_BYTES // (1024 * 1024),
            )
        )
    if data.startswith(b"%PDF-"):
        return CheckedFile(clean_filename(name, "pdf"), "application/pdf", "pdf", data)
    return _checked_image(name, data)


def _checked_image(name: str | None, data: bytes) -> CheckedFile:
    refused = FileRefused(
        _l("%(name)s is neither an image (PNG, JPEG, GIF, WebP) nor a PDF.", name=name or "?")
    )
    # Pillow costs each web worker some 3 MB: imported by the few requests that send
    # an image.
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise refused from None
    if kind not in IMAGE_TYPES and kind not in CONVERTED:
        raise refused
    if width > MAX_SIDE or height > MAX_SIDE:
        raise FileRefused(
            _l("%(name)s is larger than %(max)d pixels on a side.", name=name or "?", max=MAX_SIDE)
        )
    output_kind = kind if kind in IMAGE_TYPES else "PNG"
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if output_kind == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            buffer = io.BytesIO()
            image.save(buffer, format=output_kind)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise refused from None
    content_type, extension = IMAGE_TYPES[output_kind]
    return CheckedFile(clean_filename(name, extension), content_type, extension, buffer.getvalue())


def attach(
    request: SupportRequest, files: list[CheckedFile], *, message_id: int | None, internal: bool
) -> list[RequestAttachment]:
    """Store ``files`` with ``request`` (or one of its messages); gone again if the
    transaction rolls back."""
    attached = []
    for checked in files:
        key = (
            f"tenants/{request.tenant_id}/requests/{request.id}/"
            f"{secrets.token_hex(12)}.{checked.extension}"
        )
        save_in(db.session, key, checked.data)
        attachment = RequestAttachment(
            request_id=request.id,
            message_id=message_id,
            client_id=request.client_id,
            internal=internal,
            storage_key=key,
            filename=checked.filename,
            content_type=checked.content_type,
            size=len(checked.data),
        )
        db.session.add(attachment)
        attached.append(attachment)
    return attached
