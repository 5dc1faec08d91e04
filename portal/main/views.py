"""Pages outside any feature: the tenant's home and the health check."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db
from portal.permissions import SIGNED_IN, permission, public

bp = Blueprint("main", __name__)


@bp.route("/health")
@public
def health():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.route("/<tenant>/")
@permission(SIGNED_IN)
def home():
    if current_user.can("portal.self"):
        return redirect(url_for("account.index"))
    if current_user.can("clients.view"):
        return redirect(url_for("clients.index"))
    return render_template("main/home.html")
