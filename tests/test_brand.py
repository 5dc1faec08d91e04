"""The tenant's brand (issue 19, item 5): a logo checked from its content, stored behind
the storage interface and served as an image that can do nothing else; an accent colour
that keeps text readable; both in the header, the sign-in page, the printed statement
and the mails."""

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from portal import storage
from portal.extensions import db
from portal.mail import outbox
from portal.models import AuditEvent, OutboxMail, Tenant
from portal.services import brand
from portal.services.actor import Actor
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import csrf_token, login
from tests.test_cli import DEMO_PASSWORD, run
from tests.test_credit import record, signed_in
from tests.test_mail_layout import parsed, recap_world

SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'


# --- Images made for the tests ------------------------------------------------------


def png(width: int = 300, height: int = 100, *, text: dict | None = None) -> bytes:
    image = Image.new("RGBA", (width, height), (31, 95, 191, 255))
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    output = io.BytesIO()
    image.save(output, format="PNG", pnginfo=info)
    return output.getvalue()


def jpeg_with_exif(width: int = 640, height: int = 480) -> bytes:
    image = Image.new("RGB", (width, height), (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Industries"  # Make
    exif[0x013B] = "Jane Photographer"  # Artist
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return output.getvalue()


def svg(body: str, *, attributes: str = "", prolog: str = "") -> bytes:
    return (
        f'{prolog}<svg {SVG_NS} xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="0 0 120 40" {attributes}>{body}</svg>'
    ).encode()


PLAIN_SVG = svg(
    '<title>Alpha</title><defs><linearGradient id="g"><stop offset="0" stop-color="#1f5fbf"/>'
    '</linearGradient></defs><rect width="120" height="40" fill="url(#g)"/>'
    '<text x="8" y="26" font-size="20" fill="#fff">Alpha &amp; Co</text><use href="#g"/>',
    attributes='xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
    'inkscape:version="1.3"',
    prolog="<?xml version='1.0'?><!-- made by hand -->",
)


# --- Helpers --------------------------------------------------------------------------


def settings_url(world) -> str:
    return f"/{world.a.slug}/admin/settings"


class FormValues(HTMLParser):
    """The values a browser would send for a page's form, as it stands."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "input" and name and attributes.get("type") not in SKIPPED_INPUTS:
            self.values[name] = attributes.get("value") or ""
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select and "selected" in attributes:
            self.values[self.select] = attributes.get("value") or ""


SKIPPED_INPUTS = {"file", "checkbox", "submit", "color"}


def save_settings(browser, world, *, logo=None, **fields):
    """Post the settings form as a browser does (multipart), its other fields as they
    stand, with ``logo`` as (bytes, file name, type the browser claims)."""
    url = settings_url(world)
    form = FormValues()
    form.feed(browser.get(url).get_data(as_text=True))
    data = {**form.values, **fields}
    if logo is not None:
        content, filename, mimetype = logo
        data["logo"] = (io.BytesIO(content), filename, mimetype)
    return browser.post(url, data=data, content_type="multipart/form-data")


def tenant_row(world) -> Tenant:
    db.session.expire_all()
    return db.session.get(Tenant, world.a.tenant_id)


def stored_files(app) -> list[Path]:
    """The logos in the storage (the fixture's support requests keep their files too)."""
    root = Path(app.config["UPLOADS_DIR"])
    if not root.exists():
        return []
    return sorted(
        path for path in root.rglob("*") if path.is_file() and "requests" not in path.parts
    )


def settings_events(world) -> list[AuditEvent]:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "tenant.settings_changed")
            .order_by(AuditEvent.id)
        ).all()


def logo_src(html: str) -> str | None:
    found = re.search(r'<img class="brand-logo" src="([^"]+)" alt="([^"]*)">', html)
    return found.group(1) if found else None


def error_of(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert found, f"no message for {field}"
    return found.group(1)


@pytest.fixture
def admin(app, world):
    return signed_in(app, world, world.a.admin_email)


# --- The storage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "../outside",
        "tenants/../../outside",
        "/etc/passwd",
        "tenants//logo.png",
        "tenants/./logo.png",
        ".hidden",
        "tenants\\logo.png",
        "C:/logo.png",
        "logo.png\x00.txt",
        "",
        "a/" * 11 + "b",
    ],
)
def test_the_storage_refuses_a_key_that_is_no_plain_relative_path(tmp_path, key):
    store = storage.LocalStorage(tmp_path / "uploads")
    for operation in (
        lambda: store.save(key, b"x"),
        lambda: store.read(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(storage.UnsafeKey):
            operation()
    assert list(tmp_path.rglob("*")) == []


def test_the_storage_keeps_reads_and_deletes_files_under_its_root(tmp_path):
    store = storage.LocalStorage(tmp_path / "uploads")
    with pytest.raises(storage.NotStored):
        store.read("tenants/1/logo.png")
    store.save("tenants/1/logo.png", b"first")
    store.save("tenants/1/logo.png", b"second")
    assert store.read("tenants/1/logo.png") == b"second"
    assert store.exists("tenants/1/logo.png")
    assert [p.name for p in (tmp_path / "uploads" / "tenants" / "1").iterdir()] == ["logo.png"]
    store.delete("tenants/1/logo.png")
    store.delete("tenants/1/logo.png")  # nothing there: no error
    assert not store.exists("tenants/1/logo.png")


def test_a_symbolic_link_inside_the_storage_does_not_lead_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "uploads"
    root.mkdir()
    (root / "tenants").symlink_to(outside)
    store = storage.LocalStorage(root)
    with pytest.raises(storage.UnsafeKey):
        store.save("tenants/logo.png", b"x")
    assert list(outside.iterdir()) == []


def test_the_application_stores_under_uploads_dir_and_creates_nothing_before(app):
    root = Path(app.config["UPLOADS_DIR"])
    assert isinstance(storage.storage(), storage.LocalStorage)
    assert storage.storage().root == root
    assert not root.exists(), "create_app has no side effect on the disk"


def test_files_follow_the_transaction(app, world):
    with app.test_request_context(), bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        actor = Actor(tenant, user=None, address="192.0.2.1")
        first = brand.check_logo(png(200, 100))
        brand.set_logo(tenant, first, actor=actor)
        db.session.rollback()  # the request failed: its file goes with it
        assert stored_files(app) == []
        tenant = db.session.get(Tenant, world.a.tenant_id)
        brand.set_logo(tenant, first, actor=actor)
        db.session.commit()
        second = brand.check_logo(png(300, 100))
        brand.set_logo(tenant, second, actor=actor)
        # The previous logo stays until the change has committed.
        assert [p.name for p in stored_files(app)] == sorted([first.name, second.name])
        db.session.commit()
        assert [p.name for p in stored_files(app)] == [second.name]


# --- The accent colour ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "ratio"),
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        ("#777777", "#ffffff", 4.48),  # WebAIM's checker: 4.48:1
        ("#1f5fbf", "#ffffff", 6.09),
        ("#ffffff", "#1f5fbf", 6.09),
    ],
)
def test_the_contrast_ratio_is_wcags(first, second, ratio):
    assert round(brand.contrast_ratio(first, second), 2) == ratio


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("#0A6B4F", "#0a6b4f"), ("#06C", "#0066cc"), (" 1a4d8f ", "#1a4d8f"), ("", None)],
)
def test_the_admin_sets_the_accent_colour_written_as_people_write_it(
    app, world, admin, typed, stored
):
    response = save_settings(admin, world, accent_color=typed)
    assert response.status_code == 302
    assert tenant_row(world).accent_color == stored


def test_the_colour_picked_counts_when_none_is_typed(app, world, admin):
    assert save_settings(admin, world, accent_picker="#0a6b4f").status_code == 302
    assert tenant_row(world).accent_color == "#0a6b4f"
    page = admin.get(settings_url(world)).get_data(as_text=True)
    assert 'type="color" value="#0a6b4f"' in page
    (event,) = settings_events(world)
    assert event.details["changes"] == {"accent_color": [None, "#0a6b4f"]}
    audit = admin.get(f"/{world.a.slug}/admin/audit").get_data(as_text=True)
    assert "Accent colour" in audit


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "#d35400",
            "#d35400 is too light: white text on it, or text in it on the page, has a "
            "contrast ratio of 3.88:1, and text needs at least 4.5:1. Choose a darker colour.",
        ),
        ("#FFF", "#ffffff is too light"),
        ("red", "Give a colour as #rrggbb (for example #1f5fbf)."),
        ("#12345g", "Give a colour as #rrggbb"),
    ],
)
def test_a_colour_that_leaves_text_unreadable_is_refused_and_nothing_is_saved(
    app, world, admin, typed, message
):
    response = save_settings(admin, world, accent_color=typed, name="Renamed Services")
    assert response.status_code == 400
    assert error_of(response.get_data(as_text=True), "accent_color").startswith(message)
    tenant = tenant_row(world)
    assert (tenant.accent_color, tenant.name) == (None, "Alpha Services")
    assert settings_events(world) == []


def test_the_theme_style_sheet_carries_the_colour_and_every_page_links_it(app, world, admin):
    anonymous = app.test_client()
    login_page = anonymous.get(f"/{world.a.slug}/login").get_data(as_text=True)
    assert "/brand/theme.css" not in login_page, "Portal's own colour needs no style sheet"
    save_settings(admin, world, accent_color="#0a6b4f")
    link = f'<link rel="stylesheet" href="/{world.a.slug}/brand/theme.css?v=0a6b4f">'
    for page in (f"/{world.a.slug}/login", f"/{world.a.slug}/password/forgot"):
        assert link in anonymous.get(page).get_data(as_text=True), page
    assert link in admin.get(f"/{world.a.slug}/").get_data(as_text=True)
    css = anonymous.get(f"/{world.a.slug}/brand/theme.css?v=0a6b4f")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert css.get_data(as_text=True) == ":root { --accent: #0a6b4f; }\n"
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # At an older address, the current colour, checked again each time.
    stale = anonymous.get(f"/{world.a.slug}/brand/theme.css?v=1f5fbf")
    assert "#0a6b4f" in stale.get_data(as_text=True)
    assert stale.headers["Cache-Control"] == "no-cache"
    other = anonymous.get(f"/{world.b.slug}/brand/theme.css").get_data(as_text=True)
    assert other == f":root {{ --accent: {brand.DEFAULT_ACCENT}; }}\n"


def test_the_style_sheet_paints_with_the_accent_variable():
    css = (Path(__file__).resolve().parent.parent / "static" / "portal.css").read_text()
    assert "--accent: #1f5fbf" in css
    for rule in ("a { color: var(--accent); }", ".button.primary { background: var(--accent);"):
        assert rule in css
    assert "border-top: 4px solid var(--accent)" in css


# --- The logo -----------------------------------------------------------------------


def test_a_png_logo_is_re_encoded_without_its_metadata_and_shown_everywhere(app, world, admin):
    upload = png(1200, 600, text={"Author": "Jane Secret", "Comment": "internal"})
    response = save_settings(admin, world, logo=(upload, "our logo.png", "image/png"))
    assert response.status_code == 302
    key = tenant_row(world).logo_key
    assert re.fullmatch(rf"tenants/{world.a.tenant_id}/logo-[0-9a-f]{{16}}-800x400\.png", key)
    (path,) = stored_files(app)
    assert path.relative_to(app.config["UPLOADS_DIR"]).as_posix() == key
    with Image.open(path) as stored:
        assert (stored.format, stored.size) == ("PNG", (800, 400))  # at most 400 px high
        assert "Author" not in stored.info and "Comment" not in stored.info
    assert b"Jane Secret" not in path.read_bytes()
    (event,) = settings_events(world)
    assert event.details["changes"] == {"logo": [None, "PNG 800 × 400"]}

    # The header of every page, the sign-in page, the settings' preview.
    url = f"/{world.a.slug}/brand/logo/{key.rsplit('/', 1)[1]}"
    home = admin.get(f"/{world.a.slug}/").get_data(as_text=True)
    assert f'<img class="brand-logo" src="{url}" alt="Alpha Services">' in home
    login_page = app.test_client().get(f"/{world.a.slug}/login").get_data(as_text=True)
    assert logo_src(login_page) == url
    settings_page = admin.get(settings_url(world)).get_data(as_text=True)
    assert f'<img class="logo-preview" src="{url}"' in settings_page
    assert "Remove the logo" in settings_page
    # Another tenant's pages show their own name.
    other = app.test_client().get(f"/{world.b.slug}/login").get_data(as_text=True)
    assert logo_src(other) is None and "Beta Services" in other


def test_the_logo_is_served_as_an_image_that_can_do_nothing_else(app, world, admin):
    save_settings(admin, world, logo=(png(), "logo.png", "image/png"))
    name = tenant_row(world).logo_key.rsplit("/", 1)[1]
    response = app.test_client().get(f"/{world.a.slug}/brand/logo/{name}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data == stored_files(app)[0].read_bytes()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == 'inline; filename="logo.png"'
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    signed_in_response = admin.get(f"/{world.a.slug}/brand/logo/{name}")
    assert signed_in_response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # A stale name, a made-up one, and this tenant's logo under another tenant: 404.
    stale = name.replace(name[5:21], "0" * 16)
    for url in (
        f"/{world.a.slug}/brand/logo/{stale}",
        f"/{world.a.slug}/brand/logo/..%2F..%2Fportal.sqlite3",
        f"/{world.b.slug}/brand/logo/{name}",
    ):
        assert app.test_client().get(url).status_code == 404, url


def test_a_jpeg_logo_loses_its_exif_and_comment(app, world, admin):
    response = save_settings(admin, world, logo=(jpeg_with_exif(), "photo.jpg", "image/jpeg"))
    assert response.status_code == 302
    assert tenant_row(world).logo_key.endswith("-533x400.jpg")
    (path,) = stored_files(app)
    data = path.read_bytes()
    assert b"SpyCam" not in data and b"Jane Photographer" not in data
    assert b"secret comment" not in data
    with Image.open(path) as stored:
        assert stored.format == "JPEG" and dict(stored.getexif()) == {}


def test_a_png_is_a_png_whatever_its_name_or_claimed_type(app, world, admin):
    response = save_settings(admin, world, logo=(png(), "logo.svg", "image/svg+xml"))
    assert response.status_code == 302
    name = tenant_row(world).logo_key.rsplit("/", 1)[1]
    assert name.endswith(".png")
    served = app.test_client().get(f"/{world.a.slug}/brand/logo/{name}")
    assert served.mimetype == "image/png"


def test_a_plain_svg_is_written_anew_and_served_sandboxed(app, world, admin):
    response = save_settings(admin, world, logo=(PLAIN_SVG, "logo.svg", "image/svg+xml"))
    assert response.status_code == 302
    name = tenant_row(world).logo_key.rsplit("/", 1)[1]
    assert re.fullmatch(r"logo-[0-9a-f]{16}\.svg", name)
    served = app.test_client().get(f"/{world.a.slug}/brand/logo/{name}")
    assert served.mimetype == "image/svg+xml"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    body = served.get_data(as_text=True)
    assert "Alpha &amp; Co" in body and 'fill="url(#g)"' in body
    # What drew nothing (the editor's attributes, the comment) is gone.
    assert "inkscape" not in body and "made by hand" not in body
    (event,) = settings_events(world)
    assert event.details["changes"] == {"logo": [None, "SVG"]}


def test_a_new_logo_replaces_the_old_file_and_removing_it_deletes_it(app, world, admin):
    save_settings(admin, world, logo=(png(), "one.png", "image/png"))
    first = tenant_row(world).logo_key.rsplit("/", 1)[1]
    save_settings(admin, world, logo=(jpeg_with_exif(), "two.jpg", "image/jpeg"))
    second = tenant_row(world).logo_key.rsplit("/", 1)[1]
    assert first != second
    assert [path.name for path in stored_files(app)] == [second]
    visitor = app.test_client()
    assert visitor.get(f"/{world.a.slug}/brand/logo/{first}").status_code == 404
    assert visitor.get(f"/{world.a.slug}/brand/logo/{second}").status_code == 200

    # The same file again changes nothing.
    save_settings(admin, world, logo=(jpeg_with_exif(), "two.jpg", "image/jpeg"))
    assert len(settings_events(world)) == 2

    assert save_settings(admin, world, remove_logo="y").status_code == 302
    assert tenant_row(world).logo_key is None
    assert stored_files(app) == []
    assert visitor.get(f"/{world.a.slug}/brand/logo/{second}").status_code == 404
    home = admin.get(f"/{world.a.slug}/").get_data(as_text=True)
    assert logo_src(home) is None and ">Alpha Services</a>" in home
    assert settings_events(world)[-1].details["changes"] == {"logo": ["JPEG 533 × 400", None]}


TRUNCATED_PNG = png(400, 300)[:200]
GIF = b"GIF89a\x10\x00\x10\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        pytest.param(
            (png() + b"\0" * (1024 * 1024), "big.png", "image/png"),
            "The file is 1.1 MB; a logo may be 1 MB at most.",
            id="more than 1 MB",
        ),
        pytest.param(
            (png(2400, 100), "wide.png", "image/png"),
            "The image is 2400 × 100 pixels; a logo may be 2000 × 2000 at most.",
            id="too many pixels",
        ),
        pytest.param(
            (png(12, 12), "tiny.png", "image/png"),
            "The image is 12 × 12 pixels; a logo needs 16 × 16 at least.",
            id="too few pixels",
        ),
        pytest.param(
            (b"just some text, not an image", "logo.png", "image/png"),
            "The logo must be a PNG, JPEG or SVG image; this file is none of them.",
            id="text named .png",
        ),
        pytest.param(
            (b"<!doctype html><html><body>hi</body></html>", "logo.svg", "image/svg+xml"),
            "The logo must be a PNG, JPEG or SVG image; this file is none of them.",
            id="HTML named .svg",
        ),
        pytest.param(
            (GIF, "logo.gif", "image/gif"),
            "The logo must be a PNG, JPEG or SVG image; this file is none of them.",
            id="GIF",
        ),
        pytest.param(
            (TRUNCATED_PNG, "cut.png", "image/png"),
            "This image is damaged or incomplete: it cannot be read whole.",
            id="truncated PNG",
        ),
        pytest.param(
            (svg("<script>alert(1)</script>"), "logo.svg", "image/svg+xml"),
            "The SVG holds the element <script>, which a logo may not hold",
            id="script",
        ),
        pytest.param(
            (svg('<rect width="1" height="1"/>', attributes='onload="alert(1)"'), "l.svg", ""),
            "The SVG has the attribute “onload”, which a logo may not have",
            id="onload",
        ),
        pytest.param(
            (svg("<foreignObject><p>hi</p></foreignObject>"), "logo.svg", "image/svg+xml"),
            "The SVG holds the element <foreignObject>, which a logo may not hold",
            id="foreignObject",
        ),
        pytest.param(
            (svg('<use xlink:href="https://evil.example/x.svg#a"/>'), "logo.svg", ""),
            "The SVG refers to “https://evil.example/x.svg#a”: a logo may only refer to its "
            "own parts (#name).",
            id="external href",
        ),
        pytest.param(
            (svg('<use href="javascript:alert(1)"/>'), "logo.svg", ""),
            "The SVG refers to “javascript:alert(1)”",
            id="javascript href",
        ),
        pytest.param(
            (svg('<a href="https://evil.example/"><rect width="9" height="9"/></a>'), "l.svg", ""),
            "The SVG holds the element <a>",
            id="link",
        ),
        pytest.param(
            (svg('<image href="https://tracker.example/p.png"/>'), "logo.svg", ""),
            "The SVG holds the element <image>",
            id="image",
        ),
        pytest.param(
            (svg('<rect fill="url(https://tracker.example/p.svg#x)"/>'), "logo.svg", ""),
            "The SVG refers to “https://tracker.example/p.svg#x”",
            id="external url()",
        ),
        pytest.param(
            (svg("<style>rect { fill: url('https://t.example/a') }</style>"), "l.svg", ""),
            "The SVG refers to “https://t.example/a”",
            id="style with url()",
        ),
        pytest.param(
            (svg("<style>@import 'https://t.example/a.css';</style>"), "l.svg", ""),
            "The SVG refers to “@import”",
            id="style with @import",
        ),
        pytest.param(
            (svg("", attributes='xml:base="https://evil.example/"'), "logo.svg", ""),
            "The SVG has the attribute “xml:base”",
            id="xml:base",
        ),
        pytest.param(
            (
                svg("<text>&big;</text>", prolog='<!DOCTYPE svg [<!ENTITY big "boom">]>'),
                "logo.svg",
                "image/svg+xml",
            ),
            "The SVG declares a document type or entities, which a logo may not hold.",
            id="DTD entity",
        ),
        pytest.param(
            (
                svg("", prolog='<!DOCTYPE svg SYSTEM "http://www.w3.org/Graphics/SVG/1.1/DTD">'),
                "logo.svg",
                "image/svg+xml",
            ),
            "The SVG declares a document type or entities",
            id="external DTD",
        ),
        pytest.param(
            (b'<svg viewBox="0 0 1 1"><rect/></svg>', "logo.svg", "image/svg+xml"),
            "The logo must be a PNG, JPEG or SVG image",
            id="SVG without its namespace",
        ),
    ],
)
def test_a_logo_that_is_not_accepted_is_refused_with_its_reason_and_nothing_saved(
    app, world, admin, upload, message
):
    response = save_settings(admin, world, logo=upload, name="Renamed Services")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error_of(html, "logo").startswith(message.replace("<", "&lt;").replace(">", "&gt;"))
    assert "Nothing was saved" in html
    tenant = tenant_row(world)
    assert (tenant.logo_key, tenant.name) == (None, "Alpha Services")
    assert stored_files(app) == []
    assert settings_events(world) == []


def test_a_file_a_little_over_the_limit_gets_the_fields_message_a_huge_one_the_413_page(
    app, world, admin
):
    upload = (png() + b"\0" * (3 * 1024 * 1024), "big.png", "image/png")
    response = save_settings(admin, world, logo=upload)
    assert response.status_code == 400
    assert "a logo may be 1 MB at most" in error_of(response.get_data(as_text=True), "logo")
    huge = (png() + b"\0" * (5 * 1024 * 1024), "huge.png", "image/png")
    assert save_settings(admin, world, logo=huge).status_code == 413
    # Elsewhere, the site's own limit still holds.
    body = {"csrf_token": "x", "q": "y" * (2 * 1024 * 1024)}
    assert admin.post(f"/{world.a.slug}/admin/branches", data=body).status_code == 413


def test_who_may_not_change_the_settings_cannot_change_the_brand(app, world):
    tech = signed_in(app, world, world.a.tech_email)
    response = tech.post(
        settings_url(world),
        data={
            "csrf_token": csrf_token(tech.get(f"/{world.a.slug}/")),
            "name": "Alpha Services",
            "accent_color": "#0a6b4f",
            "logo": (io.BytesIO(png()), "logo.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    tenant = tenant_row(world)
    assert (tenant.accent_color, tenant.logo_key) == (None, None)
    assert stored_files(app) == []


def test_the_printed_statement_carries_the_logo(app, world, admin):
    save_settings(admin, world, logo=(png(), "logo.png", "image/png"))
    name = tenant_row(world).logo_key.rsplit("/", 1)[1]
    customer = app.test_client()
    assert login(customer, world.a.slug, world.a.client_user_email).status_code == 302
    page = customer.get(f"/{world.a.slug}/statement/{world.a.account_id}").get_data(as_text=True)
    assert (
        f'<img class="print-only print-logo" src="/{world.a.slug}/brand/logo/{name}" alt="">'
        in page
    )


# --- Mails ----------------------------------------------------------------------------


def sent_recap(app, mail: OutboxMail):
    """The recap as the outbox sent it (other mails may have gone with it)."""
    outbox.deliver_due()
    (sent,) = [
        message for message in app.extensions["mailman"].outbox if message.subject == mail.subject
    ]
    return sent


def recap_mail(app, world) -> OutboxMail:
    recap_world(world)
    tech = signed_in(app, world, world.a.tech_email)
    assert record(tech, world).status_code == 302
    db.session.expire_all()
    with cross_tenant(db.session):
        return db.session.scalars(select(OutboxMail).where(OutboxMail.kind == "recap")).one()


def test_a_mail_shows_the_png_logo_as_a_part_of_itself_on_the_accent_colour(app, world, admin):
    save_settings(
        admin, world, logo=(png(1200, 600), "logo.png", "image/png"), accent_color="#0a6b4f"
    )
    name = tenant_row(world).logo_key.rsplit("/", 1)[1]
    mail = recap_mail(app, world)
    html = mail.html_body
    cid = f"{name}@portal"
    assert f'<img src="cid:{cid}" width="96" height="48" alt="Alpha Services"' in html
    assert "border-top:6px solid #0a6b4f;" in html
    assert "color:#0a6b4f; text-decoration:underline;" in html  # the links
    assert "#1f5fbf" not in html
    # Nothing to fetch from outside: the logo is in the message.
    page = parsed(html)
    assert [source for source in page.sources if not source.startswith("data:")] == [f"cid:{cid}"]
    assert "Alpha Services" in mail.text_body and "<" not in mail.text_body.replace("->", "")

    message = sent_recap(app, mail).message()
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, image = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert f'src="cid:{cid}"' in html_part.get_payload(decode=True).decode()
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == f"<{cid}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_payload(decode=True) == stored_files(app)[0].read_bytes()


def test_a_mail_names_the_tenant_on_its_colour_when_the_logo_is_an_svg(app, world, admin):
    save_settings(
        admin, world, logo=(PLAIN_SVG, "logo.svg", "image/svg+xml"), accent_color="#0a6b4f"
    )
    mail = recap_mail(app, world)
    assert "cid:" not in mail.html_body and "<img" not in mail.html_body
    assert re.search(r"background-color:#0a6b4f;[^>]*>Alpha Services</td>", mail.html_body)
    sent = sent_recap(app, mail)
    assert sent.message().get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in sent.message().get_payload()] == [
        "text/plain",
        "text/html",
    ]


def test_a_mail_queued_before_the_logo_changed_is_sent_with_the_current_one(app, world, admin):
    save_settings(admin, world, logo=(png(), "one.png", "image/png"))
    mail = recap_mail(app, world)
    save_settings(admin, world, logo=(png(400, 100), "two.png", "image/png"))
    sent = sent_recap(app, mail)
    _plain, related = sent.message().get_payload()
    _html, image = related.get_payload()
    assert image.get_payload(decode=True) == stored_files(app)[0].read_bytes()


@pytest.mark.parametrize("app_config", [{"PORTAL_ENV": "development"}])
def test_the_development_mailbox_shows_the_mails_logo(app, app_config, world, admin):
    save_settings(admin, world, logo=(png(), "logo.png", "image/png"))
    mail = recap_mail(app, world)
    part = app.test_client().get(f"/{world.a.slug}/dev/mailbox/{mail.id}/html")
    body = part.get_data(as_text=True)
    assert "cid:" not in body and 'src="data:image/png;base64,' in body


def test_the_demo_shows_its_brand(app):
    run(app, "demo", "--password", DEMO_PASSWORD)
    page = app.test_client().get("/demo/login").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/demo/brand/theme.css?v=b4401d">' in page
    src = logo_src(page)
    assert src and src.endswith(".png")
    logo = app.test_client().get(src)
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    with cross_tenant(db.session):
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "demo"))
        assert brand.mail_logo(tenant) is not None  # a PNG: the mails show it too
