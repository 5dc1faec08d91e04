"""Staff pages for a client's contacts."""

from flask import Blueprint, render_template

from portal.extensions import db
from portal.models import Contact
from portal.permissions import guard

bp = Blueprint("contacts", __name__, url_prefix="/<tenant>/contacts")
guard(bp, "clients.view")


@bp.route("/<id:contact_id>")
def show(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    return render_template("contacts/show.html", contact=contact)
