"""Tenant administration: the access list of every user, staff or client, with
their state, role and limits, and the buttons that disable or enable them; the
tenant's settings; its branches; its roles; the tenant-wide audit log."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.admin.forms import BranchForm, RoleForm, SettingsForm, StaffForm, UserActionForm
from portal.admin.listing import UserFilters
from portal.extensions import client_address, db
from portal.i18n import gettext as _
from portal.models import AuditEvent, Branch, Role, User, UserKind, UserStatus
from portal.permissions import CATALOGUE, STAFF_PERMISSIONS, guard
from portal.services import authority, invitations, roles, settings, staff
from portal.services import users as user_service
from portal.services.audit.labels import ACTIONS
from portal.services.statement import EntryFilter
from portal.web.forms.dates import DateRangeForm
from portal.web.pagination import paginate
from portal.web.querystring import id_value

bp = Blueprint("admin", __name__, url_prefix="/<tenant>/admin")
guard(bp, "tenant.admin")


@bp.route("/users")
def users():
    filters = UserFilters.from_request(request.args)
    page = paginate(filters.statement())
    roles = db.session.scalars(
        select(Role).options(selectinload(Role.grants)).order_by(Role.name)
    ).all()
    return render_template(
        "admin/users.html",
        page=page,
        filters=filters,
        roles=roles,
        # Users whose role holds more than the viewer's get no buttons: they would be refused.
        changeable_roles={
            role.id for role in roles if not authority.lacking(current_user, role.permissions)
        },
        kinds=list(UserKind),
        states=list(UserStatus),
    )


@bp.route("/users/new", methods=["GET", "POST"])
def invite_staff():
    form = StaffForm(granted_by=current_user)
    if form.validate_on_submit():
        user = staff.invite_staff(
            g.tenant,
            form.email.data,
            form.values(),
            actor=current_user,
            ip_address=client_address(),
        )
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
def edit_staff(user_id: int):
    user = db.get_or_404(User, user_id)
    if user.is_client:  # a contact's access is managed from their card
        return redirect(url_for("contacts.show", contact_id=user.contact_id))
    authority.check_user(current_user, user)  # a 403 that says why, before any form
    form = StaffForm(obj=user, user=user, granted_by=current_user)
    if form.validate_on_submit():
        try:
            changes = staff.update_staff(
                user, form.values(), actor=current_user, ip_address=client_address()
            )
        except authority.Refused as refusal:
            if refusal.field not in form:
                raise  # about no field of the form: a 403 that says why
            form[refusal.field].errors.append(str(refusal))
        else:
            flash(_("Saved.") if changes else _("Nothing was changed."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/staff.html", form=form, user=user), (400 if form.errors else 200)


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
        try:
            invitations.resend(user, g.tenant, actor=current_user, ip_address=client_address())
        except authority.Refused as refusal:
            flash(str(refusal), "error")
            return back
        flash(
            _(
                "A new access email has been sent to %(email)s; the previous link no longer works.",
                email=user.email,
            ),
            "success",
        )
    return back


def set_disabled(user_id: int, disabled: bool):
    user = db.get_or_404(User, user_id)
    back = redirect(url_for("admin.users", **UserFilters.from_request(request.args).args()))
    if not UserActionForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return back
    if (user.status is UserStatus.DISABLED) == disabled:
        flash(_("Nothing was changed."), "info")
        return back
    try:
        user_service.set_disabled(user, disabled, actor=current_user, ip_address=client_address())
    except authority.Refused as refusal:
        flash(str(refusal), "error")
        return back
    if disabled:
        flash(_("Access of %(name)s disabled.", name=user.name), "success")
    else:
        flash(_("Access of %(name)s enabled.", name=user.name), "success")
    return back


@bp.route("/settings", methods=["GET", "POST"])
def edit_settings():
    form = SettingsForm(obj=g.tenant)
    if form.validate_on_submit():
        changes = settings.update_settings(
            g.tenant, form.values(), actor=current_user, ip_address=client_address()
        )
        flash(_("Saved.") if changes else _("Nothing was changed."), "success")
        return redirect(url_for("admin.edit_settings"))
    return render_template("admin/settings.html", form=form), 400 if form.errors else 200


def get_branch(branch_id: int) -> Branch:
    return db.get_or_404(Branch, branch_id)


@bp.route("/branches", methods=["GET", "POST"])
def branches():
    form = BranchForm()
    if form.validate_on_submit():
        branch = settings.create_branch(
            form.name.data, actor=current_user, ip_address=client_address()
        )
        flash(_("Branch %(name)s created.", name=branch.name), "success")
        return redirect(url_for("admin.branches"))
    rows = db.session.scalars(select(Branch).order_by(Branch.active.desc(), Branch.name)).all()
    return render_template(
        "admin/branches.html",
        form=form,
        branches=rows,
        in_use={branch.id: settings.in_use(branch) for branch in rows},
    ), 400 if form.errors else 200


@bp.route("/branches/<id:branch_id>", methods=["GET", "POST"])
def rename_branch(branch_id: int):
    branch = get_branch(branch_id)
    form = BranchForm(obj=branch, branch=branch)
    if form.validate_on_submit():
        renamed = settings.rename_branch(
            branch, form.name.data, actor=current_user, ip_address=client_address()
        )
        flash(_("Saved.") if renamed else _("Nothing was changed."), "success")
        return redirect(url_for("admin.branches"))
    return render_template("admin/branch.html", form=form, branch=branch), (
        400 if form.errors else 200
    )


def branch_action(branch_id: int, act) -> tuple[Branch, bool | None]:
    """Load, check the form, act and commit; None (and a message) when the form expired."""
    branch = get_branch(branch_id)
    if not UserActionForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return branch, None
    done = act(branch)
    return branch, done


@bp.route("/branches/<id:branch_id>/deactivate", methods=["POST"])
def deactivate_branch(branch_id: int):
    branch, done = branch_action(
        branch_id,
        lambda branch: settings.set_branch_active(
            branch, False, actor=current_user, ip_address=client_address()
        ),
    )
    if done:
        flash(
            _(
                "Branch %(name)s deactivated: it stays on the records that name it and is "
                "offered no more.",
                name=branch.name,
            ),
            "success",
        )
    return redirect(url_for("admin.branches"))


@bp.route("/branches/<id:branch_id>/activate", methods=["POST"])
def activate_branch(branch_id: int):
    branch, done = branch_action(
        branch_id,
        lambda branch: settings.set_branch_active(
            branch, True, actor=current_user, ip_address=client_address()
        ),
    )
    if done:
        flash(_("Branch %(name)s reactivated.", name=branch.name), "success")
    return redirect(url_for("admin.branches"))


@bp.route("/branches/<id:branch_id>/delete", methods=["GET", "POST"])
def delete_branch(branch_id: int):
    """GET asks for confirmation; POST deletes a branch nothing refers to."""
    if request.method == "GET":
        branch = get_branch(branch_id)
        return render_template(
            "admin/delete.html",
            name=branch.name,
            form=UserActionForm(),
            back=url_for("admin.branches"),
            back_label=_("Branches"),
            blocked=settings.in_use(branch)
            and _(
                "Users, clients or interventions name this branch: it cannot be deleted. "
                "Deactivate it instead."
            ),
        )
    branch, done = branch_action(
        branch_id,
        lambda branch: settings.delete_branch(
            branch, actor=current_user, ip_address=client_address()
        ),
    )
    if done:
        flash(_("Branch %(name)s deleted.", name=branch.name), "success")
    elif done is False:
        flash(
            _(
                "%(name)s is named by users, clients or interventions: deactivate it instead.",
                name=branch.name,
            ),
            "error",
        )
    return redirect(url_for("admin.branches"))


@bp.route("/roles")
def role_list():
    rows = db.session.scalars(select(Role).order_by(Role.system.is_(None), Role.name)).all()
    holders = dict(
        db.session.execute(select(User.role_id, func.count()).group_by(User.role_id)).all()
    )
    return render_template(
        "admin/roles.html",
        roles=rows,
        holders=holders,
        catalogue=STAFF_PERMISSIONS,
        changeable={
            role.id
            for role in rows
            if role.editable and not authority.lacking(current_user, role.permissions)
        },
    )


def get_role(role_id: int) -> Role:
    return db.get_or_404(Role, role_id)


def role_refusal(role: Role) -> str | None:
    """Why the signed-in user may not change, give or delete ``role``, or None."""
    try:
        authority.check_role(current_user, role)
    except authority.Refused as refusal:
        return str(refusal)
    return None


def role_members(role: Role) -> list[User]:
    """The first hundred holders of ``role``, by name (the users page lists them all)."""
    return db.session.scalars(
        select(User).where(User.role_id == role.id).order_by(User.name).limit(100)
    ).all()


@bp.route("/roles/new", methods=["GET", "POST"])
def new_role():
    form = RoleForm(granted_by=current_user)
    if form.validate_on_submit():
        role = roles.create_role(
            form.name.data, form.granted(), actor=current_user, ip_address=client_address()
        )
        flash(_("Role %(name)s created.", name=role.name), "success")
        return redirect(url_for("admin.role_list"))
    return render_template("admin/role.html", form=form, role=None), (400 if form.errors else 200)


@bp.route("/roles/<id:role_id>", methods=["GET", "POST"])
def edit_role(role_id: int):
    role = get_role(role_id)
    refusal = role_refusal(role)
    if not role.editable or refusal:
        if request.method == "POST":
            abort(403, refusal)
        members = role_members(role)
        return render_template(
            "admin/role.html",
            form=None,
            role=role,
            members=members,
            catalogue=CATALOGUE,
            refusal=refusal,
        )
    form = RoleForm(
        role=role,
        granted_by=current_user,
        data=None
        if request.method == "POST"
        else {"name": role.name, "permissions": sorted(role.permissions)},
    )
    if form.validate_on_submit():
        changed = roles.update_role(
            role, form.name.data, form.granted(), actor=current_user, ip_address=client_address()
        )
        flash(_("Saved.") if changed else _("Nothing was changed."), "success")
        return redirect(url_for("admin.role_list"))
    members = role_members(role)
    return render_template("admin/role.html", form=form, role=role, members=members), (
        400 if form.errors else 200
    )


@bp.route("/roles/<id:role_id>/delete", methods=["GET", "POST"])
def delete_role(role_id: int):
    """GET asks for confirmation; POST deletes a role nobody holds."""
    role = get_role(role_id)
    if not role.editable:
        abort(403)
    form = UserActionForm()
    refusal = role_refusal(role)
    if request.method == "GET":
        return render_template(
            "admin/delete.html",
            name=role.name,
            form=form,
            back=url_for("admin.role_list"),
            back_label=_("Roles"),
            blocked=refusal
            or (roles.in_use(role) and _("Users hold this role: give them another role first.")),
        )
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
    elif refusal:
        flash(refusal, "error")
    elif roles.delete_role(role, actor=current_user, ip_address=client_address()):
        flash(_("Role %(name)s deleted.", name=role.name), "success")
    else:
        flash(
            _("Users hold the role %(name)s: give them another role first.", name=role.name),
            "error",
        )
    return redirect(url_for("admin.role_list"))


@bp.route("/audit")
def audit_log():
    """Every audited event of the tenant, newest first, filtered by user, action, dates."""
    form = DateRangeForm(request.args)
    dates = form.validate()
    actor_id = id_value(request.args.get("user"))
    action = request.args.get("action") if request.args.get("action") in ACTIONS else None
    statement = select(AuditEvent).options(joinedload(AuditEvent.actor))
    if actor_id is not None:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    span = EntryFilter(start=form.start.data, end=form.end.data) if dates else EntryFilter()
    if span.start is not None:
        statement = statement.where(AuditEvent.created_at >= span.start_at())
    if span.end is not None:
        statement = statement.where(AuditEvent.created_at < span.end_before())
    staff_users = db.session.scalars(
        select(User).where(User.kind == UserKind.STAFF).order_by(User.name)
    ).all()
    filters = {
        "user": actor_id,
        "action": action,
        "start": span.start.isoformat() if span.start else None,
        "end": span.end.isoformat() if span.end else None,
    }
    return render_template(
        "admin/audit.html",
        page=paginate(statement.order_by(AuditEvent.id.desc())),
        form=form,
        staff_users=staff_users,
        actions=ACTIONS,
        filters=filters,
    ), 400 if form.errors else 200
