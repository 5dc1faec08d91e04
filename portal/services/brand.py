"""The tenant's brand: its logo and its accent colour, checked before anything is saved.

A logo is judged by its content, never by its file name or the type a browser claims:
at most 1 MB; a PNG or a JPEG that Pillow reads whole, between 16 × 16 and 2000 × 2000
pixels, re-encoded (same format, no metadata, at most 400 px high); or an SVG of plain
drawing only, parsed with defusedxml (no DTD, no entities), every element and attribute
on an allow-list, links only to its own parts, and written out again from what was
parsed. Anything else is refused with a message saying why.

The logo lies in the storage (``portal.storage``) under a key naming the tenant and a
hash of the content, so a new logo has a new address that browsers may keep forever;
the previous file is deleted once the change has committed.

The accent colour colours the header, the buttons, the links and the mails: it is
refused unless white text on it, and text in it on the page's background, reach the
contrast ratio WCAG 2.1 asks of text (4.5:1).
"""

import base64
import hashlib
import io
import math
import re
import warnings
import xml.etree.ElementTree as ET  # noqa: S405 - writes what defusedxml parsed, parses nothing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as parse_xml
from flask_babel import format_decimal

from portal import storage
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Tenant
from portal.services import audit
from portal.services.actor import Actor
from portal.services.refusal import Refusal

if TYPE_CHECKING:
    from PIL import Image

#: The largest logo accepted, as uploaded.
MAX_LOGO_BYTES = 1024 * 1024
#: The largest and smallest images accepted, in pixels (each side).
MAX_SIDE = 2000
MIN_SIDE = 16
#: What a raster logo is scaled down to fit when larger (the header shows it smaller).
STORED_BOX = (1600, 400)
#: The most elements an SVG logo may have: a logo, not a drawing.
MAX_SVG_ELEMENTS = 5000

#: Portal's own accent, when the tenant chose none.
DEFAULT_ACCENT = "#1f5fbf"
#: What text needs against its background (WCAG 2.1, 1.4.3, level AA).
MIN_CONTRAST = 4.5
#: What the accent colour is read against: white text on it (buttons, the mail's header)
#: and the page's background behind links in it.
WHITE = "#ffffff"
PAGE_BACKGROUND = "#f6f7f9"

HEX_COLOR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
#: A stored logo's file name: the hash of its content, its size for a raster image.
LOGO_NAME = re.compile(
    r"logo-(?P<hash>[0-9a-f]{16})(?:-(?P<width>\d+)x(?P<height>\d+))?\.(?P<ext>png|jpg|svg)"
)
MIMETYPES = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml"}
KIND_NAMES = {"png": "PNG", "jpg": "JPEG", "svg": "SVG"}


class BrandRefused(Refusal):
    """A logo or a colour that is not accepted; ``message`` says why, in the page's
    language."""


# --- The accent colour -------------------------------------------------------------


def relative_luminance(color: str) -> float:
    """A ``#rrggbb`` colour's relative luminance, as WCAG 2.1 defines it (sRGB)."""
    channels = [int(color[index : index + 2], 16) / 255 for index in (1, 3, 5)]
    red, green, blue = (
        value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
        for value in channels
    )
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1's contrast ratio of two ``#rrggbb`` colours, from 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)))[::-1]
    return (lighter + 0.05) / (darker + 0.05)


def accent_contrast(color: str) -> float:
    """The lower of the accent's two contrasts: white text on it, and it on the page."""
    return min(contrast_ratio(color, WHITE), contrast_ratio(color, PAGE_BACKGROUND))


def normalise_color(value: str | None) -> str | None:
    """``#rrggbb`` in lower case from ``#rgb``, ``#RRGGBB`` or without ``#``; None for
    nothing; BrandRefused for anything else."""
    text = (value or "").strip()
    if not text:
        return None
    match = HEX_COLOR.fullmatch(text)
    if match is None:
        raise BrandRefused(
            _("Give a colour as #rrggbb (for example %(example)s).", example=DEFAULT_ACCENT)
        )
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return f"#{digits}"


def check_accent_color(value: str | None) -> str | None:
    """The colour to store (None: Portal's own), or BrandRefused when it is no colour or
    leaves text too little contrast."""
    color = normalise_color(value)
    if color is None:
        return None
    ratio = accent_contrast(color)
    if ratio < MIN_CONTRAST:
        shown = math.floor(ratio * 100) / 100  # never rounded up to what is needed
        raise BrandRefused(
            _(
                "%(color)s is too light: white text on it, or text in it on the page, has a "
                "contrast ratio of %(ratio)s:1, and text needs at least %(needed)s:1. Choose "
                "a darker colour.",
                color=color,
                ratio=format_decimal(shown, format="0.0#"),
                needed=format_decimal(MIN_CONTRAST, format="0.0#"),
            )
        )
    return color


def accent_color(tenant: Tenant | None) -> str:
    """The colour to paint with: the tenant's when it chose one and it still reads as a
    colour, else Portal's."""
    chosen = tenant.accent_color if tenant is not None else None
    if chosen and HEX_COLOR.fullmatch(chosen) and chosen.startswith("#") and len(chosen) == 7:
        return chosen.lower()
    return DEFAULT_ACCENT


# --- The logo ----------------------------------------------------------------------


@dataclass(frozen=True)
class Logo:
    """A logo that passed the checks: the bytes to store and what they are."""

    data: bytes
    #: "png", "jpg" or "svg": the file's extension in the storage.
    ext: str
    width: int | None = None
    height: int | None = None

    @property
    def name(self) -> str:
        digest = hashlib.sha256(self.data).hexdigest()[:16]
        size = f"-{self.width}x{self.height}" if self.width and self.height else ""
        return f"logo-{digest}{size}.{self.ext}"

    def key(self, tenant_id: int) -> str:
        return logo_key(tenant_id, self.name)


def logo_key(tenant_id: int, name: str) -> str:
    return f"tenants/{tenant_id}/{name}"


def megabytes(size: int) -> str:
    return format_decimal(math.ceil(size / 1024 / 102.4) / 10, format="0.#")


def check_logo(data: bytes) -> Logo:
    """The logo to store from an upload's bytes, or BrandRefused saying what is wrong."""
    if len(data) > MAX_LOGO_BYTES:
        raise BrandRefused(
            _("The file is %(size)s MB; a logo may be 1 MB at most.", size=megabytes(len(data)))
        )
    if not data:
        raise BrandRefused(_("The file is empty."))
    if looks_like_xml(data):
        return check_svg(data)
    return check_raster(data)


def not_an_image() -> BrandRefused:
    return BrandRefused(_("The logo must be a PNG, JPEG or SVG image; this file is none of them."))


def check_raster(data: bytes) -> Logo:
    # Pillow costs each web worker some 3 MB: imported when a logo is uploaded.
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        # A decompression bomb warns before it raises; the sizes below refuse it first.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                kind, (width, height) = probe.format, probe.size
                if kind not in ("PNG", "JPEG", "MPO"):
                    raise not_an_image()
                refuse_size(width, height)
                probe.verify()  # the whole file, before anything decodes it
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return encoded(image, "png" if kind == "PNG" else "jpg")
        except BrandRefused:
            raise
        except (UnidentifiedImageError, Image.DecompressionBombWarning):
            raise not_an_image() from None
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            # What Pillow raises for a truncated or corrupt file.
            raise BrandRefused(
                _("This image is damaged or incomplete: it cannot be read whole.")
            ) from None


def refuse_size(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise BrandRefused(
            _(
                "The image is %(width)d × %(height)d pixels; a logo may be %(max)d × %(max)d "
                "at most.",
                width=width,
                height=height,
                max=MAX_SIDE,
            )
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise BrandRefused(
            _(
                "The image is %(width)d × %(height)d pixels; a logo needs %(min)d × %(min)d "
                "at least.",
                width=width,
                height=height,
                min=MIN_SIDE,
            )
        )


def encoded(image: "Image.Image", ext: str) -> Logo:
    """The image written anew in its own format: upright, scaled down to fit the box,
    without its metadata (EXIF, comments, text chunks)."""
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image)
    image.thumbnail(STORED_BOX, Image.Resampling.LANCZOS)
    output = io.BytesIO()
    if ext == "png":
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        image.info = {}  # what save() would otherwise copy: ICC profile, text, EXIF
        image.save(output, format="PNG", optimize=True)
    else:
        image = image.convert("RGB")
        image.info = {}
        image.save(output, format="JPEG", quality=90, optimize=True)
    return Logo(output.getvalue(), ext, image.width, image.height)


def looks_like_xml(data: bytes) -> bool:
    start = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith(b"<")


SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"
#: What drawing editors add about themselves: dropped, as it draws nothing.
EDITOR_NAMESPACES = {
    "http://www.inkscape.org/namespaces/inkscape",
    "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://creativecommons.org/ns#",
    "http://purl.org/dc/elements/1.1/",
    "http://ns.adobe.com/AdobeIllustrator/10.0/",
    "http://ns.adobe.com/Graphs/1.0/",
    "http://ns.adobe.com/SaveForWeb/1.0/",
    "http://ns.adobe.com/Extensibility/1.0/",
}
#: Plain drawing: shapes, text, groups, gradients, clipping, and what describes them.
SVG_ELEMENTS = {
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "defs",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "title",
    "desc",
    "use",
    "style",
}
#: Dropped whole: it describes the file and draws nothing.
METADATA = f"{{{SVG}}}metadata"
SVG_ATTRIBUTES = {
    "id",
    "class",
    "style",
    "version",
    "baseProfile",
    "width",
    "height",
    "viewBox",
    "preserveAspectRatio",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "dx",
    "dy",
    "d",
    "points",
    "pathLength",
    "transform",
    "fill",
    "fill-opacity",
    "fill-rule",
    "clip-rule",
    "clip-path",
    "clipPathUnits",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-opacity",
    "opacity",
    "color",
    "display",
    "visibility",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "letter-spacing",
    "word-spacing",
    "text-anchor",
    "dominant-baseline",
    "alignment-baseline",
    "textLength",
    "lengthAdjust",
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "type",  # of a style element: text/css
    "role",
    "aria-label",
    "aria-hidden",
    "focusable",
    "href",
}
#: The elements that may refer to another part of the drawing by ``href``.
LINKING = {"use", "linearGradient", "radialGradient"}
#: A reference to one of the drawing's own parts: ``#id``, or ``url(#id)`` in a value.
LOCAL_REFERENCE = re.compile(r"#[A-Za-z_][\w.:-]*")
URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
#: What no value of a plain drawing holds: a script's scheme, old CSS expressions, CSS
#: imports and escapes (which could spell either), markup.
FORBIDDEN_IN_VALUES = re.compile(
    r"javascript:|vbscript:|data:|expression\s*\(|@import|\\|<|-moz-binding|behavior\s*:",
    re.IGNORECASE,
)


def svg_refused_element(name: str) -> BrandRefused:
    return BrandRefused(
        _(
            "The SVG holds the element <%(name)s>, which a logo may not hold: only plain "
            "drawing is accepted. Save it again as plain SVG, or as PNG.",
            name=name,
        )
    )


def check_svg(data: bytes) -> Logo:
    try:
        root = parse_xml(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BrandRefused(
            _(
                "The SVG declares a document type or entities, which a logo may not hold. "
                "Save it again as plain SVG, or as PNG."
            )
        ) from None
    except (ParseError, ValueError):
        raise not_an_image() from None
    if root.tag != f"{{{SVG}}}svg":
        raise not_an_image()
    editors = [
        (parent, child)
        for parent in root.iter()
        for child in parent
        if isinstance(child.tag, str)
        and (child.tag.rpartition("}")[0].lstrip("{") in EDITOR_NAMESPACES or child.tag == METADATA)
    ]
    for parent, child in editors:
        parent.remove(child)
    for count, element in enumerate(root.iter(), start=1):
        if count > MAX_SVG_ELEMENTS:
            raise BrandRefused(
                _(
                    "The SVG has more than %(max)d elements: too many for a logo.",
                    max=MAX_SVG_ELEMENTS,
                )
            )
        check_svg_element(element)
    ET.register_namespace("", SVG)
    ET.register_namespace("xlink", XLINK)
    written = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Logo(written, "svg")


def check_svg_element(element: ET.Element) -> None:
    if not isinstance(element.tag, str):  # a comment or processing instruction kept
        raise svg_refused_element("?")
    namespace, _sep, name = element.tag.rpartition("}")
    if namespace.lstrip("{") != SVG or name not in SVG_ELEMENTS:
        raise svg_refused_element(name)
    if name == "style":  # other elements' text is only shown, and written out escaped
        check_svg_value(element.text or "")
    for attribute, value in list(element.attrib.items()):
        namespace, _sep, local = attribute.rpartition("}")
        namespace = namespace.lstrip("{")
        if namespace in EDITOR_NAMESPACES:
            del element.attrib[attribute]
            continue
        if namespace == XML and local in ("space", "lang"):
            continue
        plain = not namespace and local in SVG_ATTRIBUTES and not local.startswith("on")
        if not (plain or (namespace == XLINK and local == "href")):
            shown = {XML: "xml:", XLINK: "xlink:"}.get(namespace, "") + local
            raise BrandRefused(
                _(
                    "The SVG has the attribute “%(name)s”, which a logo may not have: only "
                    "plain drawing is accepted. Save it again as plain SVG, or as PNG.",
                    name=shown,
                )
            )
        if local == "href":
            if name not in LINKING or not LOCAL_REFERENCE.fullmatch(value.strip()):
                raise svg_link_refused(value)
        else:
            check_svg_value(value)


def svg_link_refused(target: str) -> BrandRefused:
    return BrandRefused(
        _(
            "The SVG refers to “%(target)s”: a logo may only refer to its own parts "
            "(#name). Save it again as plain SVG, or as PNG.",
            target=target.strip()[:60],
        )
    )


def check_svg_value(value: str) -> None:
    """An attribute's value or a style: links only to the drawing's own parts, nothing a
    browser would run or fetch."""
    for match in URL.finditer(value):
        if not LOCAL_REFERENCE.fullmatch(match.group(2).strip()):
            raise svg_link_refused(match.group(2))
    forbidden = FORBIDDEN_IN_VALUES.search(value)
    if forbidden:
        raise svg_link_refused(forbidden.group(0))


def describe_logo(key: str | None) -> str | None:
    """A stored logo as the audit log shows it: its kind, and its size for an image."""
    if not key:
        return None
    match = LOGO_NAME.fullmatch(key.rsplit("/", 1)[-1])
    if match is None:
        return key
    kind = KIND_NAMES[match["ext"]]
    if match["width"]:
        return f"{kind} {match['width']} × {match['height']}"
    return kind


def logo_name(tenant: Tenant | None) -> str | None:
    """The file name of the tenant's logo (the last part of its key), or None."""
    if tenant is None or not tenant.logo_key:
        return None
    return tenant.logo_key.rsplit("/", 1)[-1]


def stored_logo(tenant: Tenant, name: str) -> tuple[bytes, str] | None:
    """The tenant's logo and its type when ``name`` is its current name, else None (a
    stale or a foreign name)."""
    if name != logo_name(tenant) or LOGO_NAME.fullmatch(name) is None:
        return None
    try:
        data = storage.storage().read(logo_key(tenant.id, name))
    except (storage.NotStored, storage.UnsafeKey):
        return None
    return data, MIMETYPES[name.rsplit(".", 1)[-1]]


# --- The logo in mails ------------------------------------------------------------

#: How high the logo is shown in a mail's header, and how wide at most (CSS pixels).
MAIL_LOGO_HEIGHT = 48
MAIL_LOGO_MAX_WIDTH = 240
#: The logo as a mail's HTML refers to it: a part of the same message (RFC 2392).
MAIL_LOGO_SOURCE = re.compile(
    r'src="cid:(logo-[0-9a-f]{16}-[0-9]{1,4}x[0-9]{1,4}\.(?:png|jpg))@portal"'
)


@dataclass(frozen=True)
class MailLogo:
    """The tenant's logo as a mail shows it: the Content-ID of the image part that the
    outbox attaches, and the size to show it at."""

    cid: str
    width: int
    height: int


def mail_logo(tenant: Tenant | None) -> MailLogo | None:
    """The tenant's logo for a mail, when it is a PNG or a JPEG: many mail clients show no
    SVG, so a mail names the tenant on its colour instead."""
    name = logo_name(tenant)
    match = LOGO_NAME.fullmatch(name) if name else None
    if match is None or match["ext"] == "svg" or not match["width"]:
        return None
    width, height = int(match["width"]), int(match["height"])
    scale = min(1.0, MAIL_LOGO_HEIGHT / height, MAIL_LOGO_MAX_WIDTH / width)
    return MailLogo(
        cid=f"{name}@portal",
        width=max(1, round(width * scale)),
        height=max(1, round(height * scale)),
    )


def mail_images(tenant: Tenant, html: str) -> list[tuple[str, bytes, str]]:
    """The images a mail's HTML shows (Content-ID, bytes, image subtype), read from the
    storage when the mail is sent. A logo replaced since the mail was queued is sent as
    the tenant's current one; none at all, and the mail shows its text alternative."""
    images = []
    for name in sorted(set(MAIL_LOGO_SOURCE.findall(html))):
        found = stored_logo(tenant, name) or current_mail_logo(tenant)
        if found is not None:
            data, mimetype = found
            images.append((f"{name}@portal", data, mimetype.split("/", 1)[1]))
    return images


def current_mail_logo(tenant: Tenant) -> tuple[bytes, str] | None:
    name = logo_name(tenant)
    if mail_logo(tenant) is None:
        return None
    return stored_logo(tenant, name)


def with_data_images(tenant: Tenant, html: str) -> str:
    """The mail's HTML with its images written in (``data:`` addresses), for a page that
    shows the mail as a mail client would (the development mailbox)."""
    for cid, data, subtype in mail_images(tenant, html):
        encoded_image = base64.b64encode(data).decode("ascii")
        html = html.replace(
            f'src="cid:{cid}"', f'src="data:image/{subtype};base64,{encoded_image}"'
        )
    return html


# --- Changing the brand ------------------------------------------------------------

#: What ``change_brand`` is given for a colour left as it is.
UNCHANGED = object()


def change_logo(tenant: Tenant, logo: Logo | None) -> dict[str, list[str | None]]:
    """Store ``logo`` as the tenant's (None: remove it); the previous file goes once the
    change has committed. Returns the change for the audit log."""
    old_key = tenant.logo_key
    new_key = logo.key(tenant.id) if logo is not None else None
    if new_key == old_key:
        return {}
    if logo is not None:
        storage.save_in(db.session, new_key, logo.data)
    if old_key:
        storage.delete_after_commit(db.session, old_key)
    tenant.logo_key = new_key
    return {"logo": [describe_logo(old_key), describe_logo(new_key)]}


def change_brand(
    tenant: Tenant,
    *,
    logo: Logo | None = None,
    remove_logo: bool = False,
    accent_color: str | None | object = UNCHANGED,
) -> dict[str, list[str | None]]:
    """Apply a new logo (which wins over ``remove_logo``), a removal, and an accent
    colour when one is given (None: Portal's own); checked first, so a refusal writes
    nothing. Returns the changes for the audit log."""
    changes = {}
    if accent_color is not UNCHANGED:
        color = check_accent_color(accent_color)
        if color != tenant.accent_color:
            changes["accent_color"] = [tenant.accent_color, color]
            tenant.accent_color = color
    if logo is not None:
        changes |= change_logo(tenant, logo)
    elif remove_logo:
        changes |= change_logo(tenant, None)
    return changes


def set_logo(tenant: Tenant, logo: Logo, *, actor: Actor) -> bool:
    return _audited(tenant, change_brand(tenant, logo=logo), actor)


def remove_logo(tenant: Tenant, *, actor: Actor) -> bool:
    return _audited(tenant, change_brand(tenant, remove_logo=True), actor)


def set_accent_color(tenant: Tenant, color: str | None, *, actor: Actor) -> bool:
    """Raises BrandRefused, having changed nothing, for a colour that is not accepted."""
    return _audited(tenant, change_brand(tenant, accent_color=color), actor)


def _audited(tenant: Tenant, changes: dict, actor: Actor) -> bool:
    if changes:
        audit.record("tenant.settings_changed", actor=actor, changes=changes)
    return bool(changes)
