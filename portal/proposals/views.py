"""Staff decide on the contact changes a client's own contacts propose: accepted,
the change is applied as the staff member's own edit; rejected, the client sees why."""

from flask import Blueprint, flash, redirect, render_template, url_for

from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import ContactProposal
from portal.permissions import guard
from portal.proposals.forms import AcceptForm, RejectForm
from portal.services import proposals
from portal.web.gate import current_actor

bp = Blueprint("proposals", __name__, url_prefix="/<tenant>/proposals")
guard(bp, "contacts.edit")


def get_proposal(proposal_id: int) -> ContactProposal:
    """The proposal if this user may see its client (scoping is automatic), else 404."""
    return db.get_or_404(ContactProposal, proposal_id)


def render_review(proposal, accept_form=None, reject_form=None):
    return render_template(
        "proposals/show.html",
        proposal=proposal,
        changes=proposals.changes_of(proposal),
        accept_form=accept_form or AcceptForm(),
        reject_form=reject_form or RejectForm(),
    )


@bp.route("/<id:proposal_id>")
def show(proposal_id: int):
    return render_review(get_proposal(proposal_id))


@bp.route("/<id:proposal_id>/accept", methods=["POST"])
def accept(proposal_id: int):
    proposal = get_proposal(proposal_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        return render_review(proposal, accept_form=form), 400
    try:
        proposals.accept(proposal, actor=current_actor())
    except proposals.ProposalRefused as refusal:  # someone decided first
        flash(str(refusal), "error")
    else:
        flash(_("Accepted: the contact is up to date."), "success")
    return redirect(url_for("clients.show", client_id=proposal.client_id))


@bp.route("/<id:proposal_id>/reject", methods=["POST"])
def reject(proposal_id: int):
    proposal = get_proposal(proposal_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return render_review(proposal, reject_form=form), 400
    try:
        proposals.reject(proposal, reason=form.reason.data or None, actor=current_actor())
    except proposals.ProposalRefused as refusal:  # someone decided first
        flash(str(refusal), "error")
    else:
        flash(_("Rejected."), "success")
    return redirect(url_for("clients.show", client_id=proposal.client_id))
