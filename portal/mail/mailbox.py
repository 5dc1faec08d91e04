"""The development mailbox: the tenant's queued mails, readable in the browser, so
that the invitation story can be tried without an SMTP server.

Registered only when ``PORTAL_ENV`` is ``development``: a production URL map never
has these routes. The pages are public because the person invited is not signed in
yet; the tenant prefix scopes them like every other page (OutboxMail is tenant-owned).
"""

import re

from flask import Blueprint, Response, g, render_template
from markupsafe import Markup, escape
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMail
from portal.permissions import public
from portal.services import brand
from portal.web.pagination import paginate

bp = Blueprint("mailbox", __name__, url_prefix="/<tenant>/dev/mailbox")

#: An http(s) URL in plain text: it ends at white space, quotes or angle brackets.
URL = re.compile(r"https?://[^\s<>\"']+")
#: Punctuation that ends a sentence rather than the URL it follows.
TRAILING = ".,;:!?)]}"
LINK = Markup('<a href="{0}" rel="noreferrer">{0}</a>')


def linkify(text: str) -> Markup:
    """The text escaped, with its http(s) URLs made clickable links.

    Every piece goes through escaping (``escape``, and ``Markup.format`` for the
    links), so the mail's text can never add markup of its own.
    """
    pieces, position = [], 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(TRAILING)
        pieces += [escape(text[position : match.start()]), LINK.format(url)]
        position = match.start() + len(url)
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


@bp.route("")
@public
def index():
    page = paginate(select(OutboxMail).order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc()))
    return render_template("mailbox/index.html", page=page)


@bp.route("/<id:mail_id>")
@public
def show(mail_id: int):
    mail = db.get_or_404(OutboxMail, mail_id)
    return render_template("mailbox/show.html", mail=mail, body=linkify(mail.text_body))


#: The mail's HTML part, as a mail client shows it: its inline styles apply, and nothing in
#: it runs, loads or submits (sandboxed, no script, no network), whatever the mail holds.
MAIL_PART_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)


@bp.route("/<id:mail_id>/html")
@public
def html_part(mail_id: int):
    mail = db.get_or_404(OutboxMail, mail_id)
    # The images the mail carries as its own parts (the logo), written into the page.
    response = Response(brand.with_data_images(g.tenant, mail.html_body), mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_PART_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
