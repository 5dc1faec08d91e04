"""Pages outside any feature: the tenant's home and the health check."""

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.permissions import SIGNED_IN, permission, public

bp = Blueprint("main", __name__)


@bp.route("/healthz")
@bp.route("/health")
@public
def health():
    """For the proxy and the process supervisor: is the database reachable? It never
    says more (no address, no version, no error text)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("health check: the database is unreachable")
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.route("/<tenant>/")
@permission(SIGNED_IN)
def home():
    if current_user.can("portal.self"):
        return redirect(url_for("account.index"))
    if current_user.can("clients.view"):
        return redirect(url_for("clients.index"))
    return render_template("main/home.html")
