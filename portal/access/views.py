"""Giving a client's contact access to the portal: the key button's form, and the
envelope (resend), disable and enable buttons of the contact card."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import select

from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Contact, User
from portal.permissions import guard, sensitive
from portal.services import invitations, users
from portal.web.forms.access import AccessActionForm, GrantAccessForm, LimitsForm
from portal.web.gate import current_actor

bp = Blueprint("access", __name__, url_prefix="/<tenant>/contacts/<id:contact_id>/access")
guard(bp, "access.grant")


def contact_user(contact: Contact) -> User | None:
    return db.session.scalar(select(User).where(User.contact_id == contact.id))


def get_access(contact_id: int) -> tuple[Contact, User]:
    """The contact and its portal user, or 404 if either is missing (or not visible)."""
    contact = get_contact(contact_id)
    return contact, contact_user(contact) or abort(404)


def get_contact(contact_id: int) -> Contact:
    """The contact; an erased one goes back to its card: its access is over for good."""
    contact = db.get_or_404(Contact, contact_id)
    if contact.erased_at is not None:
        flash(_("This contact was erased: it can no longer be changed."), "error")
        abort(back_to_card(contact))
    return contact


def back_to_card(contact: Contact):
    return redirect(url_for("contacts.show", contact_id=contact.id))


@bp.route("/new", methods=["GET", "POST"])
@sensitive
def new(contact_id: int):
    contact = get_contact(contact_id)
    if contact_user(contact) is not None:
        flash(_("This contact already has access."), "info")
        return back_to_card(contact)
    form = GrantAccessForm()
    if not form.is_submitted():
        form.code.data = invitations.propose_user_code(contact)
        form.email.data = contact.email
    if form.validate_on_submit():
        invitations.grant(
            contact,
            code=form.code.data,
            email=form.email.data,
            allowed_network=form.allowed_network.data,
            branch_id=int(form.branch_id.data) if form.branch_id.data else None,
            actor=current_actor(),
        )
        flash(_("Saved"), "success")
        flash(_("An email has been sent with the sign-in details"), "success")
        return back_to_card(contact)
    return render_template("access/new.html", contact=contact, form=form)


@bp.route("/resend", methods=["POST"])
def resend(contact_id: int):
    contact, user = get_access(contact_id)
    if AccessActionForm().validate_on_submit():
        invitations.resend(user, actor=current_actor())
        flash(_("A new access email has been sent; the previous link no longer works."), "success")
    return back_to_card(contact)


@bp.route("/limits", methods=["POST"])
@sensitive
def limits(contact_id: int):
    contact, user = get_access(contact_id)
    form = LimitsForm()
    if form.validate_on_submit():
        invitations.set_limits(
            user,
            allowed_network=form.allowed_network.data,
            branch_id=int(form.branch_id.data) if form.branch_id.data else None,
            actor=current_actor(),
        )
        flash(_("Saved"), "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return back_to_card(contact)


@bp.route("/disable", methods=["POST"])
def disable(contact_id: int):
    return set_disabled(contact_id, True)


@bp.route("/enable", methods=["POST"])
def enable(contact_id: int):
    return set_disabled(contact_id, False)


def set_disabled(contact_id: int, disabled: bool):
    contact, user = get_access(contact_id)
    if AccessActionForm().validate_on_submit():
        users.set_disabled(user, disabled, actor=current_actor())
        flash(_("Access disabled.") if disabled else _("Access enabled."), "success")
    return back_to_card(contact)
