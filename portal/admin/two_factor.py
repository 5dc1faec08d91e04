"""Two-factor sign-in as the tenant asks it: which roles must use a second factor, and
the reset of a user's second factor (a lost phone)."""

from flask import flash, redirect, render_template, url_for
from sqlalchemy import select

from portal.admin.blueprint import bp
from portal.admin.forms import TwoFactorRolesForm
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Role, User
from portal.permissions import sensitive
from portal.services import authority, roles, two_factor
from portal.web.forms import ConfirmForm
from portal.web.gate import current_actor


@bp.route("/two-factor", methods=["GET", "POST"])
@sensitive
def two_factor_roles():
    all_roles = db.session.scalars(select(Role).order_by(Role.system.is_(None), Role.name)).all()
    form = TwoFactorRolesForm(all_roles)
    if form.validate_on_submit():
        wanted = set(form.required.data or [])
        try:
            changed = roles.require_two_factor(
                {role: role.id in wanted for role in all_roles}, actor=current_actor()
            )
        except authority.Refused as refusal:
            form.required.errors = [*form.required.errors, str(refusal)]
        else:
            flash(_("Saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("admin.two_factor_roles"))
    return render_template("admin/two_factor.html", form=form)


@bp.route("/users/<id:user_id>/two-factor/reset", methods=["GET", "POST"])
@sensitive
def reset_two_factor(user_id: int):
    actor = current_actor()
    user = db.get_or_404(User, user_id)
    if user.id == actor.user.id:
        return redirect(url_for("auth.two_factor_status"))
    refusal = None
    try:
        authority.check_user(actor.user, user)
    except authority.Refused as refused:
        refusal = str(refused)
    if refusal is None and not user.has_second_factor:
        refusal = _("%(name)s does not use two-factor sign-in.", name=user.name)
    form = ConfirmForm()
    if refusal is None and form.validate_on_submit():
        two_factor.reset(user, actor=actor)
        flash(
            _(
                "The two-factor sign-in of %(name)s was reset; they were told by mail.",
                name=user.name,
            ),
            "success",
        )
        return redirect(url_for("admin.users"))
    return render_template("admin/two_factor_reset.html", user=user, refusal=refusal, form=form)
