"""Staff pages for a client's contacts."""

from flask import Blueprint, abort, render_template

from portal.extensions import db
from portal.models import Contact
from portal.permissions import guard

bp = Blueprint("contacts", __name__, url_prefix="/<tenant>/contacts")
guard(bp, "clients.view")


def get_contact(contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None:
        abort(404)
    return contact


@bp.route("/<id:contact_id>")
def show(contact_id: int):
    contact = get_contact(contact_id)
    return render_template("contacts/show.html", contact=contact)
