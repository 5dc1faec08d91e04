"""The tenant's settings, and its branches: created, renamed, deactivated, deleted."""

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from portal.admin.blueprint import bp
from portal.admin.forms import (
    BranchForm,
    HoursForm,
    SettingsForm,
    UserActionForm,
    action_confirmed,
)
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Branch
from portal.permissions import sensitive
from portal.services import hours, settings
from portal.web.gate import current_actor
from portal.web.uploads import accepts_upload

#: A settings form may carry a logo: a file somewhat over the logo's limit still reaches
#: the form, which says so beside the field.
SETTINGS_UPLOAD_LIMIT = 4 * 1024 * 1024


@bp.route("/settings", methods=["GET", "POST"])
@accepts_upload(SETTINGS_UPLOAD_LIMIT)
@sensitive
def edit_settings():
    form = SettingsForm(obj=g.tenant)
    if form.validate_on_submit():
        changes = settings.update_settings(
            g.tenant, form.values(), brand_values=form.brand_values(), actor=current_actor()
        )
        flash(_("Saved.") if changes else _("Nothing was changed."), "success")
        return redirect(url_for("admin.edit_settings"))
    return render_template("admin/settings.html", form=form), 400 if form.errors else 200


@bp.route("/hours", methods=["GET", "POST"])
@sensitive
def edit_hours():
    schedule = hours.Schedule(g.tenant)
    data = {
        "week": [
            {"opens": day.opens, "closes": day.closes, "reduced": day.reduced} if day else {}
            for day in schedule.week
        ],
        "holidays": "\n".join(day.isoformat() for day in sorted(schedule.holidays)),
    }
    form = HoursForm(data=data if request.method == "GET" else None)
    if form.validate_on_submit():
        changed = settings.update_hours(
            g.tenant, form.chosen_week(), form.dates, actor=current_actor()
        )
        flash(_("Saved.") if changed else _("Nothing was changed."), "success")
        return redirect(url_for("admin.edit_hours"))
    return render_template(
        "admin/hours.html", form=form, days=hours.DAY_NAMES
    ), 400 if form.errors else 200


def get_branch(branch_id: int) -> Branch:
    return db.get_or_404(Branch, branch_id)


@bp.route("/branches", methods=["GET", "POST"])
def branches():
    form = BranchForm()
    if form.validate_on_submit():
        branch = settings.create_branch(form.name.data, actor=current_actor())
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
        renamed = settings.rename_branch(branch, form.name.data, actor=current_actor())
        flash(_("Saved.") if renamed else _("Nothing was changed."), "success")
        return redirect(url_for("admin.branches"))
    return render_template("admin/branch.html", form=form, branch=branch), (
        400 if form.errors else 200
    )


@bp.route("/branches/<id:branch_id>/deactivate", methods=["POST"])
def deactivate_branch(branch_id: int):
    branch = get_branch(branch_id)
    if action_confirmed() and settings.set_branch_active(branch, False, actor=current_actor()):
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
    branch = get_branch(branch_id)
    if action_confirmed() and settings.set_branch_active(branch, True, actor=current_actor()):
        flash(_("Branch %(name)s reactivated.", name=branch.name), "success")
    return redirect(url_for("admin.branches"))


@bp.route("/branches/<id:branch_id>/delete", methods=["GET", "POST"])
def delete_branch(branch_id: int):
    """GET asks for confirmation; POST deletes a branch nothing refers to."""
    branch = get_branch(branch_id)
    if request.method == "GET":
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
    if not action_confirmed():
        return redirect(url_for("admin.branches"))
    if settings.delete_branch(branch, actor=current_actor()):
        flash(_("Branch %(name)s deleted.", name=branch.name), "success")
    else:
        flash(
            _(
                "%(name)s is named by users, clients or interventions: deactivate it instead.",
                name=branch.name,
            ),
            "error",
        )
    return redirect(url_for("admin.branches"))
