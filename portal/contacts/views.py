"""Staff pages for a client's contacts: the new-contact form and the contact card
(Close, Save, previous and next among the client's contacts)."""

from flask import Blueprint, flash, g, redirect, render_template, url_for
from sqlalchemy import select, tuple_

from portal.contacts.forms import EraseContactForm
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Client, Contact, Invitation, User
from portal.permissions import guard, permission, sensitive
from portal.services import authority, erasure
from portal.services import clients as client_service
from portal.web.forms import ConfirmForm
from portal.web.forms.access import AccessActionForm, LimitsForm
from portal.web.forms.contact import ContactForm
from portal.web.gate import current_actor
from portal.web.loaders import get_client

bp = Blueprint("contacts", __name__, url_prefix="/<tenant>")
guard(bp, "clients.view")


def phone_region(client: Client) -> str:
    return client.billing_country or g.tenant.default_country


def neighbours(contact: Contact) -> tuple[Contact | None, Contact | None]:
    """The previous and next active contacts of the same client, by name."""
    siblings = select(Contact).where(
        Contact.client_id == contact.client_id, Contact.archived_at.is_(None)
    )
    key = tuple_(Contact.name, Contact.id)
    here = (contact.name, contact.id)
    previous = db.session.scalar(
        siblings.where(key < here).order_by(Contact.name.desc(), Contact.id.desc()).limit(1)
    )
    following = db.session.scalar(
        siblings.where(key > here).order_by(Contact.name, Contact.id).limit(1)
    )
    return previous, following


@bp.route("/clients/<id:client_id>/contacts/new", methods=["GET", "POST"])
@permission("contacts.edit")
def new(client_id: int):
    client = get_client(client_id)
    form = ContactForm(phone_region=phone_region(client))
    if form.validate_on_submit():
        contact = client_service.create_contact(client, form.values(), actor=current_actor())
        flash(_("Saved."), "success")
        return redirect(url_for("contacts.show", contact_id=contact.id))
    return render_template("contacts/new.html", client=client, form=form)


def render_card(contact: Contact, form: ContactForm):
    previous, following = neighbours(contact)
    account = db.session.scalar(select(User).where(User.contact_id == contact.id))
    invitations = (
        db.session.scalars(
            select(Invitation)
            .where(Invitation.user_id == account.id)
            .order_by(Invitation.id.desc())
            .limit(20)
        ).all()
        if account
        else []
    )
    return render_template(
        "contacts/card.html",
        contact=contact,
        form=form,
        previous=previous,
        following=following,
        account=account,
        invitations=invitations,
        action_form=AccessActionForm(),
        limits_form=LimitsForm(
            data={
                "allowed_network": account.allowed_network,
                "branch_id": str(account.branch_id or ""),
            }
        )
        if account
        else None,
    )


@bp.route("/contacts/<id:contact_id>")
def show(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    return render_card(contact, ContactForm(obj=contact, phone_region=phone_region(contact.client)))


@bp.route("/contacts/<id:contact_id>", methods=["POST"])
@permission("contacts.edit")
def save(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    form = ContactForm(obj=contact, phone_region=phone_region(contact.client))
    if form.validate_on_submit():
        try:
            changes = client_service.update_contact(contact, form.values(), actor=current_actor())
        except erasure.ContactErased as refusal:
            flash(str(refusal.message), "error")
            return redirect(url_for("contacts.show", contact_id=contact.id))
        flash(_("Saved.") if changes else _("Nothing was changed."), "success")
        return redirect(url_for("contacts.show", contact_id=contact.id))
    return render_card(contact, form)


@bp.route("/contacts/<id:contact_id>/archive", methods=["GET", "POST"])
@permission("contacts.edit")
def archive(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    if contact.erased_at is not None:
        flash(_("This contact was erased: it can no longer be changed."), "error")
        return redirect(url_for("contacts.show", contact_id=contact.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        client_service.set_contact_archived(
            contact, contact.archived_at is None, actor=current_actor()
        )
        flash(_("Contact archived.") if contact.archived_at else _("Contact restored."), "success")
        return redirect(url_for("clients.contacts", client_id=contact.client_id))
    return render_template("contacts/archive.html", contact=contact, form=form)


@bp.route("/contacts/<id:contact_id>/erase", methods=["GET", "POST"])
@permission("contacts.erase")
@sensitive
def erase(contact_id: int):
    """GDPR article 17: the contact's personal data replaced by a pseudonym, for good."""
    actor = current_actor()
    contact = db.get_or_404(Contact, contact_id)
    account = db.session.scalar(select(User).where(User.contact_id == contact.id))
    refusal = erasure.erase_refusal(contact, account, actor=actor)
    form = EraseContactForm()
    if refusal is None and form.validate_on_submit():
        try:
            pseudonym = erasure.erase_contact(contact, actor=actor)
        except (erasure.ErasureRefused, authority.Refused) as refused:
            refusal = str(getattr(refused, "message", refused))
        else:
            flash(
                _("The contact was erased; it is now known as %(name)s.", name=pseudonym), "success"
            )
            return redirect(url_for("contacts.show", contact_id=contact.id))
    return render_template(
        "contacts/erase.html", contact=contact, account=account, form=form, refusal=refusal
    )
