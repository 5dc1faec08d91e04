"""Staff pages for clients: the list and the client card."""

from flask import Blueprint, render_template, request
from sqlalchemy import or_, select

from portal.extensions import db
from portal.models import Client
from portal.pagination import PER_PAGE, page_number
from portal.permissions import guard

bp = Blueprint("clients", __name__, url_prefix="/<tenant>/clients")
guard(bp, "clients.view")


@bp.route("/")
def index():
    query = request.args.get("q", "").strip()[:100]
    statement = select(Client).order_by(Client.name, Client.id)
    if query:
        pattern = f"%{query}%"
        statement = statement.where(
            or_(Client.name.ilike(pattern), Client.code.ilike(pattern), Client.email.ilike(pattern))
        )
    page = db.paginate(statement, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("clients/index.html", page=page, query=query)


@bp.route("/<id:client_id>")
def show(client_id: int):
    client = db.get_or_404(Client, client_id)  # scoped to the tenant (and client user)
    return render_template("clients/show.html", client=client)
