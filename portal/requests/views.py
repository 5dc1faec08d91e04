"""A client's support requests on the portal (seed 001): open one with its
screenshots, follow the company's requests and their states, answer, accept or
decline a quote, and close a request one considers done. The scoping hook shows the
company's requests only (the branch's, for a contact limited to one), and never an
internal note."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.i18n import gettext as _
from portal.models import RequestState, SupportRequest
from portal.models.base import utcnow
from portal.models.request import FINISHED
from portal.permissions import guard
from portal.services import hours, requests
from portal.web.forms import ConfirmForm
from portal.web.forms.requests import ReplyForm, RequestForm
from portal.web.gate import current_actor
from portal.web.loaders import attachment_response, conversation, get_request
from portal.web.pagination import paginate

bp = Blueprint("requests", __name__, url_prefix="/<tenant>/requests")
guard(bp, "portal.requests")

#: The list's filter: what is still going on, or everything.
SHOWN = {"open": "open", "all": "all"}


@bp.route("/")
def index():
    shown = request.args.get("show", "open")
    shown = shown if shown in SHOWN else "open"
    statement = select(SupportRequest).order_by(
        SupportRequest.updated_at.desc(), SupportRequest.id.desc()
    )
    if shown == "open":
        statement = statement.where(SupportRequest.state.not_in(FINISHED - {RequestState.RESOLVED}))
    query = request.args.get("q", "").strip()[:100]
    if query:
        statement = statement.where(requests.matching(query))
    return render_template(
        "requests/index.html", page=paginate(statement), shown=shown, query=query
    )


def desk_notice() -> str | None:
    """What the customer should know of the desk right now: closed (and when it will
    read the request), or open for urgent matters only."""
    schedule, now = hours.Schedule(g.tenant), utcnow()
    status = schedule.status(now)
    if status.open and status.reduced:
        return _(
            "Today the desk handles urgent matters only: other requests will be read on its"
            " next full day."
        )
    if not status.open and status.reopens_at is not None:
        return _(
            "The desk is closed now: your request will be read when it reopens, %(when)s.",
            when=hours.reopening(status, now, schedule.zone),
        )
    if not status.open:
        return _("The desk is closed now: your request will be read when it reopens.")
    return None


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = RequestForm()
    if form.validate_on_submit():
        opened = requests.open_request(
            current_user.client,
            form.asked(),
            contact=current_user.contact,
            actor=current_actor(),
            files=form.files.checked,
        )
        flash(
            _(
                "Your request %(reference)s is sent: we will answer it here and by mail.",
                reference=opened.reference,
            ),
            "success",
        )
        notice = desk_notice()
        if notice:
            flash(notice, "info")
        return redirect(url_for("requests.show", request_id=opened.id))
    return render_template("requests/new.html", form=form, notice=desk_notice()), (
        400 if form.errors else 200
    )


def render_request(support_request: SupportRequest, reply_form: ReplyForm, status: int = 200):
    talk = conversation(support_request)
    return (
        render_template(
            "requests/show.html",
            request_=support_request,
            talk=talk,
            reply_form=reply_form,
            confirm_form=ConfirmForm(),
        ),
        status,
    )


@bp.route("/<id:request_id>")
def show(request_id: int):
    return render_request(get_request(request_id), ReplyForm(formdata=None))


@bp.route("/<id:request_id>/reply", methods=["POST"])
def reply(request_id: int):
    support_request = get_request(request_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return render_request(support_request, form, 400)
    try:
        requests.reply(
            support_request, form.body.data, actor=current_actor(), files=form.files.checked
        )
    except requests.RequestRefused as refusal:
        form.body.errors.append(str(refusal.message))
        return render_request(support_request, form, 409)
    flash(_("Your answer is sent."), "success")
    return redirect(url_for("requests.show", request_id=request_id))


@bp.route("/<id:request_id>/close", methods=["POST"])
def close(request_id: int):
    support_request = get_request(request_id)
    if ConfirmForm().validate_on_submit():
        try:
            requests.close(support_request, actor=current_actor())
        except requests.RequestRefused as refusal:
            flash(str(refusal.message), "error")
        else:
            flash(_("The request is closed. Thank you!"), "success")
    return redirect(url_for("requests.show", request_id=request_id))


@bp.route("/<id:request_id>/quote", methods=["POST"])
def answer_quote(request_id: int):
    support_request = get_request(request_id)
    if ConfirmForm().validate_on_submit():
        accepted = request.form.get("answer") == "accept"
        try:
            requests.answer_quote(support_request, accepted, actor=current_actor())
        except requests.RequestRefused as refusal:
            flash(str(refusal.message), "error")
        else:
            flash(
                _("Quote accepted: we start the work.") if accepted else _("Quote declined."),
                "success",
            )
    return redirect(url_for("requests.show", request_id=request_id))


@bp.route("/<id:request_id>/files/<id:file_id>")
def attachment(request_id: int, file_id: int):
    return attachment_response(get_request(request_id), file_id)
