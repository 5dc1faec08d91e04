"""The client user's own pages: their company and their contact card."""

from flask import Blueprint, render_template
from flask_login import current_user

from portal.permissions import guard

bp = Blueprint("account", __name__, url_prefix="/<tenant>/account")
guard(bp, "portal.self")


@bp.route("")
def index():
    return render_template(
        "account/index.html", client=current_user.client, contact=current_user.contact
    )
