"""Staff pages for clients: the list, the client card with its tabs (Info, Contacts,
Staff, Log), and the forms that create, edit and archive clients."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from portal.clients.forms import AssignForm, ClientForm
from portal.clients.listing import ClientFilters
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import (
    AuditEvent,
    Branch,
    Client,
    ClientStatus,
    ClientType,
    Contact,
    ContactProposal,
    ProposalState,
    User,
    UserKind,
    UserStatus,
)
from portal.permissions import guard, permission
from portal.services import clients as client_service
from portal.services import unique
from portal.web.forms import ConfirmForm
from portal.web.gate import current_actor
from portal.web.loaders import get_client
from portal.web.pagination import paginate

bp = Blueprint("clients", __name__, url_prefix="/<tenant>/clients")
guard(bp, "clients.view")


def client_form(client: Client | None) -> ClientForm:
    form = ClientForm(obj=client, client=client, default_country=g.tenant.default_country)
    if client is None and request.method == "GET":
        form.currency.data = g.tenant.default_currency
        form.billing_country.data = g.tenant.default_country
        form.language.data = g.tenant.default_locale[:2]
    if client is not None and client.bill_to is not None and request.method == "GET":
        form.bill_to.data = client.bill_to.code
    if current_user.branch_id is not None:
        # A branch-limited user creates and keeps clients in its own branch.
        form.branch_id.choices = [
            SelectChoice(str(current_user.branch_id), current_user.branch.name)
        ]
        form.branch_id.data = str(current_user.branch_id)
    elif client is not None and request.method == "GET":
        form.branch_id.data = str(client.branch_id or "")
    return form


@bp.route("/")
def index():
    filters = ClientFilters.from_request(request.args)
    page = paginate(filters.statement())
    branches = db.session.scalars(select(Branch).order_by(Branch.name)).all()
    return render_template(
        "clients/index.html",
        page=page,
        filters=filters,
        branches=branches,
        statuses=list(ClientStatus),
        types=list(ClientType),
    )


@bp.route("/new", methods=["GET", "POST"])
@permission("clients.edit")
def new():
    form = client_form(None)
    if form.validate_on_submit():
        try:
            client = client_service.create_client(g.tenant, form.values(), actor=current_actor())
        except unique.Taken:  # a code taken between the check and the insert
            form.code.errors.append(_("Another client already has this code."))
        else:
            flash(_("Client %(name)s created.", name=client.name), "success")
            return redirect(url_for("clients.show", client_id=client.id))
    return render_template("clients/form.html", form=form, client=None)


@bp.route("/<id:client_id>")
def show(client_id: int):
    client = get_client(client_id)
    waiting = db.session.scalars(
        select(ContactProposal)
        .where(
            ContactProposal.client_id == client.id,
            ContactProposal.state == ProposalState.PENDING,
        )
        .options(joinedload(ContactProposal.contact), joinedload(ContactProposal.proposed_by))
        .order_by(ContactProposal.id)
    ).all()
    return render_template("clients/show.html", client=client, tab="info", proposals=waiting)


@bp.route("/<id:client_id>/edit", methods=["GET", "POST"])
@permission("clients.edit")
def edit(client_id: int):
    client = get_client(client_id)
    form = client_form(client)
    if form.validate_on_submit():
        try:
            changes = client_service.update_client(client, form.values(), actor=current_actor())
        except unique.Taken:
            form.code.errors.append(_("Another client already has this code."))
        else:
            flash(_("Saved.") if changes else _("Nothing was changed."), "success")
            return redirect(url_for("clients.show", client_id=client.id))
    return render_template("clients/form.html", form=form, client=client)


@bp.route("/<id:client_id>/archive", methods=["GET", "POST"])
@permission("clients.edit")
def archive(client_id: int):
    client = get_client(client_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        client_service.archive_client(client, actor=current_actor())
        flash(_("Client %(name)s archived.", name=client.name), "success")
        return redirect(url_for("clients.show", client_id=client.id))
    return render_template("clients/archive.html", client=client, form=form)


@bp.route("/<id:client_id>/contacts")
def contacts(client_id: int):
    client = get_client(client_id)
    show_archived = request.args.get("archived") == "1"
    statement = (
        select(Contact).where(Contact.client_id == client.id).order_by(Contact.name, Contact.id)
    )
    if not show_archived:
        statement = statement.where(Contact.archived_at.is_(None))
    page = paginate(statement)
    return render_template(
        "clients/contacts.html",
        client=client,
        page=page,
        show_archived=show_archived,
        tab="contacts",
    )


def assign_form(client: Client) -> AssignForm:
    """Staff members not yet assigned to ``client``, offered for assignment."""
    assigned = {assignment.user_id for assignment in client.assignments}
    candidates = db.session.scalars(
        select(User)
        .where(User.kind == UserKind.STAFF, User.status != UserStatus.DISABLED)
        .order_by(User.name)
    )
    form = AssignForm()
    form.user_id.choices = [
        SelectChoice(str(u.id), u.name) for u in candidates if u.id not in assigned
    ]
    return form


@bp.route("/<id:client_id>/staff")
def staff(client_id: int):
    client = get_client(client_id)
    return render_template(
        "clients/staff.html",
        client=client,
        form=assign_form(client),
        remove_form=ConfirmForm(),
        tab="staff",
    )


@bp.route("/<id:client_id>/staff", methods=["POST"])
@permission("clients.edit")
def assign(client_id: int):
    client = get_client(client_id)
    form = assign_form(client)
    if form.validate_on_submit():
        user = db.get_or_404(User, int(form.user_id.data))
        client_service.assign(client, user, actor=current_actor())
        flash(_("%(name)s is now assigned to this client.", name=user.name), "success")
        return redirect(url_for("clients.staff", client_id=client.id))
    return render_template(
        "clients/staff.html", client=client, form=form, remove_form=ConfirmForm(), tab="staff"
    )


@bp.route("/<id:client_id>/staff/<id:user_id>/remove", methods=["POST"])
@permission("clients.edit")
def unassign(client_id: int, user_id: int):
    client = get_client(client_id)
    user = db.get_or_404(User, user_id)
    if ConfirmForm().validate_on_submit():
        client_service.unassign(client, user, actor=current_actor())
        flash(_("%(name)s is no longer assigned to this client.", name=user.name), "success")
    return redirect(url_for("clients.staff", client_id=client.id))


@bp.route("/<id:client_id>/log")
def log(client_id: int):
    client = get_client(client_id)
    page = paginate(
        select(AuditEvent)
        .where(AuditEvent.client_id == client.id)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.id.desc())
    )
    return render_template("clients/log.html", client=client, page=page, tab="log")
