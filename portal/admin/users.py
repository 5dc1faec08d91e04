"""The access list of every user, staff or client, with their state, role and limits;
inviting and editing staff; the buttons that disable, enable or re-invite a user."""

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.admin.blueprint import bp
from portal.admin.forms import StaffForm, action_confirmed
from portal.admin.listing import UserFilters
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Role, User, UserKind, UserStatus
from portal.permissions import sensitive
from portal.services import authority, invitations, staff
from portal.services import users as user_service
from portal.web.gate import current_actor
from portal.web.pagination import paginate


@bp.route("/users")
def users():
    filters = UserFilters.from_request(request.args)
    page = paginate(filters.statement())
    roles = db.session.scalars(
        select(Role).options(selectinload(Role.grants)).order_by(Role.name)
    ).all()
    viewer = current_actor().user
    return render_template(
        "admin/users.html",
        page=page,
        filters=filters,
        roles=roles,
        # Users whose role holds more than the viewer's get no buttons: they would be refused.
        changeable_roles={
            role.id for role in roles if not authority.lacking(viewer, role.permissions)
        },
        kinds=list(UserKind),
        states=list(UserStatus),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@sensitive
def invite_staff():
    actor = current_actor()
    form = StaffForm(granted_by=actor.user)
    if form.validate_on_submit():
        user = staff.invite_staff(form.email.data, form.values(), actor=actor)
        flash(
            _(
                "%(name)s is invited: the email with their link is on its way to %(email)s.",
                name=user.name,
                email=user.email,
            ),
            "success",
        )
        return redirect(url_for("admin.users"))
    return render_template("admin/staff.html", form=form, user=None), (400 if form.errors else 200)


@bp.route("/users/<id:user_id>/edit", methods=["GET", "POST"])
@sensitive
def edit_staff(user_id: int):
    user = db.get_or_404(User, user_id)
    if user.is_client:  # a contact's access is managed from their card
        return redirect(url_for("contacts.show", contact_id=user.contact_id))
    actor = current_actor()
    authority.check_user(actor.user, user)  # a 403 that says why, before any form
    form = StaffForm(obj=user, user=user, granted_by=actor.user)
    if form.validate_on_submit():
        try:
            changes = staff.update_staff(user, form.values(), actor=actor)
        except authority.Refused as refusal:
            if refusal.field not in form:
                raise  # about no field of the form: a 403 that says why
            form[refusal.field].errors.append(str(refusal))
        else:
            flash(_("Saved.") if changes else _("Nothing was changed."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/staff.html", form=form, user=user), (400 if form.errors else 200)


def back_to_the_list():
    """The access list, with the filters the button was pressed under."""
    return redirect(url_for("admin.users", **UserFilters.from_request(request.args).args()))


@bp.route("/users/<id:user_id>/disable", methods=["POST"])
def disable(user_id: int):
    return set_disabled(user_id, True)


@bp.route("/users/<id:user_id>/enable", methods=["POST"])
def enable(user_id: int):
    return set_disabled(user_id, False)


def set_disabled(user_id: int, disabled: bool):
    user = db.get_or_404(User, user_id)
    if not action_confirmed():
        return back_to_the_list()
    if (user.status is UserStatus.DISABLED) == disabled:
        flash(_("Nothing was changed."), "info")
        return back_to_the_list()
    try:
        user_service.set_disabled(user, disabled, actor=current_actor())
    except authority.Refused as refusal:
        flash(str(refusal), "error")
        return back_to_the_list()
    if disabled:
        flash(_("Access of %(name)s disabled.", name=user.name), "success")
    else:
        flash(_("Access of %(name)s enabled.", name=user.name), "success")
    return back_to_the_list()


@bp.route("/users/<id:user_id>/resend", methods=["POST"])
def resend(user_id: int):
    """A fresh invitation for a user who has not chosen a password yet."""
    user = db.get_or_404(User, user_id)
    if not action_confirmed():
        return back_to_the_list()
    if user.status is not UserStatus.INVITED:
        flash(_("%(name)s has already chosen a password.", name=user.name), "info")
        return back_to_the_list()
    try:
        invitations.resend(user, actor=current_actor())
    except authority.Refused as refusal:
        flash(str(refusal), "error")
        return back_to_the_list()
    flash(
        _(
            "A new access email has been sent to %(email)s; the previous link no longer works.",
            email=user.email,
        ),
        "success",
    )
    return back_to_the_list()
