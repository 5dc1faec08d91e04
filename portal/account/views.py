"""The client user's own pages: their company and their contact card, which they
keep current themselves. Every change lands in the client's Log tab."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.account.forms import OwnCardForm
from portal.clients.forms import CoordinatesForm
from portal.extensions import client_address, db
from portal.permissions import guard
from portal.services import audit
from portal.services import clients as client_service

bp = Blueprint("account", __name__, url_prefix="/<tenant>/account")
guard(bp, "portal.self")


def report_forged_fields(form) -> None:
    """A field the form does not offer (the company's name, code, status...) is never
    saved; someone who sends one anyway is recorded in the log."""
    forged = sorted(set(request.form) - set(form._fields))
    if forged:
        audit.record(
            "account.forged_fields", actor=current_user, client_id=current_user.client_id,
            ip_address=client_address(), fields=forged[:20],
        )


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
        changes = client_service.update_client(
            client, form.values(), actor=current_user, ip_address=client_address()
        )
        db.session.commit()
        flash(_("Saved.") if changes else _("Nothing was changed."), "success")
        return redirect(url_for("account.index"))
    db.session.commit()  # keeps the record of forged fields even when the form is wrong
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
        changes = client_service.update_contact(
            contact, form.card_values(), actor=current_user, ip_address=client_address()
        )
        current_user.locale = form.locale.data or None
        db.session.commit()
        flash(_("Saved.") if changes else _("Nothing was changed."), "success")
        return redirect(url_for("account.index"))
    db.session.commit()
    return render_template("account/card.html", contact=contact, form=form)
