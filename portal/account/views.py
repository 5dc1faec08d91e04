"""The client user's own pages: their company and their contact card, which they
keep current themselves, their colleagues, for whom they propose changes, and the
history of it all. Every change lands in the client's Log tab, and the staff
assigned to the client hear of it once per editing session."""

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.account.forms import ColleagueForm, CorrectionForm, OwnCardForm
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import AuditEvent, Contact, ContactProposal
from portal.permissions import guard
from portal.services import clients as client_service
from portal.services import data_export, proposals
from portal.web.forms import ConfirmForm
from portal.web.forms.coordinates import CoordinatesForm
from portal.web.gate import current_actor
from portal.web.pagination import paginate

#: What a client sees of its company's log: changes to its data, not staff matters
#: (assignments, access limits) nor refused attempts.
HISTORY_ACTIONS = (
    "client.created",
    "client.updated",
    "contact.created",
    "contact.updated",
    "contact.archived",
    "contact.restored",
    "proposal.created",
    "proposal.accepted",
    "proposal.rejected",
)

bp = Blueprint("account", __name__, url_prefix="/<tenant>/account")
guard(bp, "portal.self")


def report_forged_fields(form) -> None:
    """A field the form does not offer (the company's name, code, status...) is never
    saved; someone who sends one anyway is recorded in the log."""
    forged = sorted(set(request.form) - set(form._fields))
    if forged:
        client_service.record_forged_fields(forged, actor=current_actor())


@bp.route("")
def index():
    return render_template(
        "account/index.html", client=current_user.client, contact=current_user.contact
    )


@bp.route("/company", methods=["GET", "POST"])
def company():
    client = current_user.client
    form = CoordinatesForm(obj=client, client=client, default_country=g.tenant.default_country)
    if form.is_submitted():
        report_forged_fields(form)
    if form.validate_on_submit():
        changes = client_service.update_own_company(client, form.values(), actor=current_actor())
        flash(_("Saved.") if changes else _("Nothing was changed."), "success")
        return redirect(url_for("account.index"))
    return render_template("account/company.html", client=client, form=form)


@bp.route("/card", methods=["GET", "POST"])
def card():
    contact = current_user.contact or abort(404)
    client = current_user.client
    form = OwnCardForm(
        obj=contact,
        data={"locale": current_user.locale or ""},
        phone_region=client.billing_country or g.tenant.default_country,
    )
    if form.is_submitted():
        report_forged_fields(form)
    if form.validate_on_submit():
        changes = client_service.update_own_card(
            contact, form.card_values(), locale=form.locale.data or None, actor=current_actor()
        )
        flash(_("Saved.") if changes else _("Nothing was changed."), "success")
        return redirect(url_for("account.index"))
    return render_template("account/card.html", contact=contact, form=form)


@bp.route("/history")
def history():
    page = paginate(
        select(AuditEvent)
        .where(AuditEvent.action.in_(HISTORY_ACTIONS))
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.id.desc())
    )
    return render_template("account/history.html", client=current_user.client, page=page)


@bp.route("/colleagues")
def colleagues():
    people = db.session.scalars(
        select(Contact).where(Contact.archived_at.is_(None)).order_by(Contact.name, Contact.id)
    ).all()
    own_proposals = paginate(
        select(ContactProposal)
        .options(joinedload(ContactProposal.contact), joinedload(ContactProposal.proposed_by))
        .order_by(ContactProposal.id.desc())
    )
    return render_template(
        "account/colleagues.html",
        people=people,
        proposals=own_proposals,
        changes_of=proposals.changes_of,
    )


def send_proposal(form, contact: Contact | None):
    """Record the proposal (the staff hear of it); on a refusal, say why at the form."""
    try:
        proposals.propose(
            current_user.client,
            contact,
            form.values(),
            departed=form.has_left(),
            note=form.note.data or None,
            actor=current_actor(),
        )
    except proposals.ProposalRefused as refusal:
        form.form_errors.append(str(refusal))
        return None
    flash(_("Thank you: your proposal was sent to %(tenant)s.", tenant=g.tenant.name), "success")
    return redirect(url_for("account.colleagues"))


@bp.route("/colleagues/new", methods=["GET", "POST"])
def propose_colleague():
    client = current_user.client
    form = ColleagueForm(phone_region=client.billing_country or g.tenant.default_country)
    if form.validate_on_submit() and (sent := send_proposal(form, None)):
        return sent
    return render_template("account/propose.html", form=form, contact=None)


@bp.route("/colleagues/<id:contact_id>/correction", methods=["GET", "POST"])
def propose_correction(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    if contact.archived_at is not None:
        abort(404)
    if contact.id == current_user.contact_id:
        return redirect(url_for("account.card"))
    client = current_user.client
    form = CorrectionForm(
        obj=contact, phone_region=client.billing_country or g.tenant.default_country
    )
    if form.validate_on_submit() and (sent := send_proposal(form, contact)):
        return sent
    return render_template("account/propose.html", form=form, contact=contact)


@bp.route("/data", methods=["GET", "POST"])
def data():
    """Your data (GDPR articles 15 and 20): what an export holds, and the button that
    asks the worker to prepare one."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            export = data_export.request_export(actor=current_actor())
        except data_export.ExportRefused as refusal:
            flash(str(refusal.message), "error")
        else:
            return redirect(url_for("account.data_export_page", export_id=export.id))
    return render_template(
        "account/data.html",
        form=form,
        exports=data_export.exports_of(current_user),
        busy=data_export.in_progress(current_user),
        keep_days=data_export.KEEP_FOR.days,
    )


@bp.route("/data/<id:export_id>")
def data_export_page(export_id: int):
    export = data_export.export_of(current_user, export_id) or abort(404)
    return render_template(
        "account/data_export.html", export=export, keep_days=data_export.KEEP_FOR.days
    )


@bp.route("/data/<id:export_id>/download")
def data_download(export_id: int):
    export = data_export.export_of(current_user, export_id) or abort(404)
    try:
        file = data_export.open_download(export, actor=current_actor())
    except data_export.ExportRefused as refusal:
        flash(str(refusal.message), "error")
        return redirect(url_for("account.data_export_page", export_id=export.id))
    response = send_file(
        file,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"my-data-{export.finished_at:%Y-%m-%d}.zip",
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
