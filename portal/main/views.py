"""Pages outside any feature: the tenant's home and the health check."""

from flask import Blueprint, current_app, g, render_template, request
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.permissions import SIGNED_IN, permission, public
from portal.services import chat
from portal.services import home as home_service
from portal.web.forms.chat import ChatMessageForm
from portal.web.gate import current_actor
from portal.web.querystring import id_value

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
    """What needs the user's attention, by role: where signing in lands. Staff who use
    the chat see its panel (the seed's widget), on the channel ``?chat=`` names."""
    chat_panel = None
    if current_user.can("chat.use"):
        chat_panel = chat.panel(current_user, id_value(request.args.get("chat")))
        g.chat_unread_total = sum(entry.unread for entry in chat_panel.entries)
    return render_template(
        "main/home.html",
        home=home_service.overview(actor=current_actor()),
        chat_panel=chat_panel,
        chat_form=ChatMessageForm(back="home") if chat_panel else None,
    )
