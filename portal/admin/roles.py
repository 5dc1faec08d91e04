"""The tenant's roles: the list with their holders, creating, editing and deleting a
role. A role that grants more than the viewer holds is shown read-only, saying why."""

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from portal.admin.blueprint import bp
from portal.admin.forms import RoleForm, UserActionForm, action_confirmed
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Role, User
from portal.permissions import sensitive
from portal.services import authority, roles
from portal.web.gate import current_actor


@bp.route("/roles")
def role_list():
    rows = db.session.scalars(select(Role).order_by(Role.system.is_(None), Role.name)).all()
    holders = dict(
        db.session.execute(select(User.role_id, func.count()).group_by(User.role_id)).all()
    )
    viewer = current_actor().user
    return render_template(
        "admin/roles.html",
        roles=rows,
        holders=holders,
        changeable={
            role.id
            for role in rows
            if role.editable and not authority.lacking(viewer, role.permissions)
        },
    )


def get_role(role_id: int) -> Role:
    return db.get_or_404(Role, role_id)


def role_members(role: Role) -> list[User]:
    """The first hundred holders of ``role``, by name (the users page lists them all)."""
    return db.session.scalars(
        select(User).where(User.role_id == role.id).order_by(User.name).limit(100)
    ).all()


@bp.route("/roles/new", methods=["GET", "POST"])
@sensitive
def new_role():
    actor = current_actor()
    form = RoleForm(granted_by=actor.user)
    if form.validate_on_submit():
        role = roles.create_role(form.name.data, form.granted(), actor=actor)
        flash(_("Role %(name)s created.", name=role.name), "success")
        return redirect(url_for("admin.role_list"))
    return render_template("admin/role.html", form=form, role=None), (400 if form.errors else 200)


@bp.route("/roles/<id:role_id>", methods=["GET", "POST"])
@sensitive
def edit_role(role_id: int):
    role = get_role(role_id)
    actor = current_actor()
    refusal = authority.role_refusal(actor.user, role)
    if not role.editable or refusal:
        if request.method == "POST":
            abort(403, refusal)
        return render_template(
            "admin/role.html",
            form=None,
            role=role,
            members=role_members(role),
            refusal=refusal,
        )
    form = RoleForm(
        role=role,
        granted_by=actor.user,
        data=None
        if request.method == "POST"
        else {"name": role.name, "permissions": sorted(role.permissions)},
    )
    if form.validate_on_submit():
        changed = roles.update_role(role, form.name.data, form.granted(), actor=actor)
        flash(_("Saved.") if changed else _("Nothing was changed."), "success")
        return redirect(url_for("admin.role_list"))
    return render_template("admin/role.html", form=form, role=role, members=role_members(role)), (
        400 if form.errors else 200
    )


@bp.route("/roles/<id:role_id>/delete", methods=["GET", "POST"])
def delete_role(role_id: int):
    """GET asks for confirmation; POST deletes a role nobody holds."""
    role = get_role(role_id)
    if not role.editable:
        abort(403)
    if request.method == "GET":
        return render_template(
            "admin/delete.html",
            name=role.name,
            form=UserActionForm(),
            back=url_for("admin.role_list"),
            back_label=_("Roles"),
            blocked=authority.role_refusal(current_actor().user, role)
            or (roles.in_use(role) and _("Users hold this role: give them another role first.")),
        )
    if not action_confirmed():
        return redirect(url_for("admin.role_list"))
    try:
        deleted = roles.delete_role(role, actor=current_actor())
    except authority.Refused as refusal:
        flash(str(refusal), "error")
        return redirect(url_for("admin.role_list"))
    if deleted:
        flash(_("Role %(name)s deleted.", name=role.name), "success")
    else:
        flash(
            _("Users hold the role %(name)s: give them another role first.", name=role.name),
            "error",
        )
    return redirect(url_for("admin.role_list"))
