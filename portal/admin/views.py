"""Tenant administration: the access list of every user, staff or client, with
their state, role and limits, and the buttons that disable or enable them."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.admin.forms import UserActionForm
from portal.admin.listing import UserFilters
from portal.extensions import client_address, db
from portal.models import Role, SystemRole, User, UserKind, UserStatus
from portal.pagination import paginate
from portal.permissions import guard
from portal.services import access, audit
from portal.services import users as user_service

bp = Blueprint("admin", __name__, url_prefix="/<tenant>/admin")
guard(bp, "tenant.admin")


@bp.route("/users")
def users():
    filters = UserFilters.from_request(request.args)
    page = paginate(filters.statement())
    roles = db.session.scalars(select(Role).order_by(Role.name)).all()
    return render_template(
        "admin/users.html", page=page, filters=filters, roles=roles,
        kinds=list(UserKind), states=list(UserStatus),
    )


@bp.route("/users/<id:user_id>/disable", methods=["POST"])
def disable(user_id: int):
    return set_disabled(user_id, True)


@bp.route("/users/<id:user_id>/enable", methods=["POST"])
def enable(user_id: int):
    return set_disabled(user_id, False)


@bp.route("/users/<id:user_id>/resend", methods=["POST"])
def resend(user_id: int):
    """A fresh invitation for a user who has not chosen a password yet."""
    user = db.get_or_404(User, user_id)
    back = redirect(url_for("admin.users", **UserFilters.from_request(request.args).args()))
    if not UserActionForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
    elif user.status is not UserStatus.INVITED:
        flash(_("%(name)s has already chosen a password.", name=user.name), "info")
    else:
        access.invite(user, g.tenant, invited_by=current_user)
        audit.record(
            "access.resent", actor=current_user, client_id=user.client_id,
            ip_address=client_address(), contact=user.name,
        )
        db.session.commit()
        flash(_("A new access email has been sent to %(email)s; the previous link no longer "
                "works.", email=user.email), "success")
    return back


def active_administrators() -> int:
    """How many active Administrators the tenant has; their rows stay locked until the
    commit (PostgreSQL), so two administrators cannot disable each other at once."""
    return len(db.session.scalars(
        select(User.id)
        .join(User.role)
        .where(Role.system == SystemRole.ADMINISTRATOR, User.status == UserStatus.ACTIVE)
        .with_for_update(of=User)
    ).all())


def refusal(user: User, disabled: bool) -> str | None:
    """Why this change must not be made, or None."""
    if not disabled:
        return None
    if user.id == current_user.id:
        return _("You cannot disable your own access.")
    if (
        user.role.system is SystemRole.ADMINISTRATOR
        and user.status is UserStatus.ACTIVE
        and active_administrators() <= 1
    ):
        return _("%(name)s is the last active administrator: give another user the "
                 "Administrator role first.", name=user.name)
    return None


def set_disabled(user_id: int, disabled: bool):
    user = db.get_or_404(User, user_id)
    back = redirect(url_for("admin.users", **UserFilters.from_request(request.args).args()))
    if not UserActionForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return back
    if (user.status is UserStatus.DISABLED) == disabled:
        flash(_("Nothing was changed."), "info")
        return back
    problem = refusal(user, disabled)
    if problem:
        flash(problem, "error")
        return back
    user_service.set_disabled(user, disabled, actor=current_user, ip_address=client_address())
    db.session.commit()
    if disabled:
        flash(_("Access of %(name)s disabled.", name=user.name), "success")
    else:
        flash(_("Access of %(name)s enabled.", name=user.name), "success")
    return back
