"""The tenant-wide audit log: every audited event, newest first, filtered by who
acted, the action and the dates."""

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.admin.blueprint import bp
from portal.extensions import db
from portal.models import AuditEvent, User, UserKind
from portal.services.audit.labels import ACTIONS
from portal.services.statement import EntryFilter
from portal.web.forms.dates import DateRangeForm
from portal.web.pagination import paginate
from portal.web.querystring import id_value


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
