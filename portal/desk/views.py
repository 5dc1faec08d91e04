"""The support desk's side of the requests (seed 001): the queue, sorted by priority
then age, with its counts per state, filters, search and keyset pages; a request's
page with the customer, their credit, the conversation and the actions; a request
opened for a caller."""

from datetime import datetime

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, text, tuple_
from sqlalchemy.orm import joinedload

from portal.desk.forms import (
    AcknowledgeForm,
    AssignForm,
    DeskReplyForm,
    DeskRequestForm,
    MoveForm,
    QuoteForm,
    TurnDownForm,
)
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import (
    Client,
    Contact,
    CreditAccount,
    CreditAccountClient,
    Priority,
    RequestKind,
    RequestState,
    SupportRequest,
    User,
    UserKind,
    UserStatus,
)
from portal.models.request import GOING_ON_SQL
from portal.permissions import guard, permission
from portal.services import credit, requests
from portal.web.forms import ConfirmForm
from portal.web.gate import current_actor
from portal.web.loaders import attachment_response, conversation, get_client, get_request

bp = Blueprint("desk", __name__, url_prefix="/<tenant>/desk")
guard(bp, "requests.view")

PER_PAGE = 25


def active_staff() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.kind == UserKind.STAFF, User.status == UserStatus.ACTIVE)
            .order_by(User.name)
        )
    )


class Queue:
    """The queue's filters, read from the query string; anything unknown is ignored."""

    def __init__(self, args):
        def member(enum_class, name):
            value = args.get(name, "")
            return enum_class(value) if value in enum_class._value2member_map_ else None

        self.state = member(RequestState, "state")
        self.kind = member(RequestKind, "kind")
        self.priority = member(Priority, "priority")
        self.assignee = args.get("assignee", "")
        if self.assignee not in ("", "me", "none") and not self.assignee.isdigit():
            self.assignee = ""
        self.client_code = args.get("client", "").strip()[:20]
        self.query = args.get("q", "").strip()[:100]
        self.after = self._cursor(args.get("after", ""))

    @staticmethod
    def _cursor(value: str):
        rank, _, rest = value.partition(",")
        stamp, _, last_id = rest.rpartition(",")
        try:
            return int(rank), datetime.fromisoformat(stamp), int(last_id)
        except ValueError:
            return None

    def args(self, **changes) -> dict:
        values = {
            "state": self.state.value if self.state else None,
            "kind": self.kind.value if self.kind else None,
            "priority": self.priority.value if self.priority else None,
            "assignee": self.assignee or None,
            "client": self.client_code or None,
            "q": self.query or None,
        }
        return {key: value for key, value in (values | changes).items() if value}

    def criteria(self, with_state: bool = True) -> list:
        found = []
        if with_state:
            found.append(
                SupportRequest.state == self.state
                if self.state
                else text(f"support_request.{GOING_ON_SQL}")
            )
        if self.kind:
            found.append(SupportRequest.kind == self.kind)
        if self.priority:
            found.append(SupportRequest.priority == self.priority)
        if self.assignee == "me":
            found.append(SupportRequest.assignee_id == current_user.id)
        elif self.assignee == "none":
            found.append(SupportRequest.assignee_id.is_(None))
        elif self.assignee:
            found.append(SupportRequest.assignee_id == int(self.assignee))
        if self.client_code:
            found.append(
                SupportRequest.client_id.in_(
                    select(Client.id).where(Client.code == self.client_code)
                )
            )
        if self.query:
            found.append(self._search())
        return found

    def _search(self):
        return requests.matching(self.query, client_names=True)


SORT = (SupportRequest.priority_rank, SupportRequest.created_at, SupportRequest.id)
#: Counts per state stop here ("99+"): each costs at most this many index entries, so
#: the queue costs the same for a desk of a hundred requests as for one of a million.
COUNT_CAP = 100


def state_counts(queue: Queue) -> dict[RequestState, int]:
    """How many requests of each state match the queue's other filters, at most
    ``COUNT_CAP``, in one statement."""
    criteria = queue.criteria(with_state=False)
    columns = [
        select(func.count())
        .select_from(
            select(SupportRequest.id)
            .where(SupportRequest.state == state, *criteria)
            .limit(COUNT_CAP)
            .subquery()
        )
        .scalar_subquery()
        .label(state.value)
        for state in RequestState
    ]
    row = db.session.execute(select(*columns)).one()
    return dict(zip(RequestState, row, strict=True))


@bp.route("/")
def index():
    queue = Queue(request.args)
    statement = (
        select(SupportRequest)
        .where(*queue.criteria())
        .options(joinedload(SupportRequest.client), joinedload(SupportRequest.assignee))
        .order_by(*SORT)
        .limit(PER_PAGE + 1)
    )
    if queue.after:
        statement = statement.where(tuple_(*SORT) > tuple_(*queue.after))
    rows = db.session.scalars(statement).unique().all()
    shown, more = rows[:PER_PAGE], len(rows) > PER_PAGE
    counts = state_counts(queue)
    last = shown[-1] if shown else None
    return render_template(
        "desk/index.html",
        queue=queue,
        items=shown,
        next_args=queue.args(after=f"{last.priority_rank},{last.created_at.isoformat()},{last.id}")
        if more
        else None,
        counts=counts,
        count_cap=COUNT_CAP,
        states=list(RequestState),
        kinds=list(RequestKind),
        priorities=list(Priority),
        staff=active_staff(),
    )


def account_of(client_id: int) -> CreditAccount | None:
    """The credit account the request's company uses (its first, by customer ID)."""
    return db.session.scalar(
        select(CreditAccount)
        .join(CreditAccountClient, CreditAccountClient.account_id == CreditAccount.id)
        .where(CreditAccountClient.client_id == client_id)
        .order_by(CreditAccount.customer_id)
        .limit(1)
    )


def render_request(support_request: SupportRequest, status: int = 200, **forms):
    talk = conversation(support_request)
    staff = active_staff()
    account = account_of(support_request.client_id)
    state = support_request.state
    return (
        render_template(
            "desk/show.html",
            request_=support_request,
            talk=talk,
            account=account,
            policy=credit.evaluate(account, g.tenant.credit_threshold_minutes) if account else None,
            reply_form=forms.get("reply") or DeskReplyForm(formdata=None),
            acknowledge_form=forms.get("acknowledge")
            or AcknowledgeForm(formdata=None, staff=staff),
            assign_form=forms.get("assign")
            or AssignForm(
                formdata=None,
                staff=staff,
                data={"assignee_id": str(support_request.assignee_id or "")},
            ),
            move_form=forms.get("move")
            or MoveForm(
                formdata=None, states=sorted(requests.MOVES[state], key=list(RequestState).index)
            ),
            turn_down_form=forms.get("turn_down") or TurnDownForm(formdata=None),
            quote_form=forms.get("quote") or QuoteForm(formdata=None),
            confirm_form=ConfirmForm(),
        ),
        status,
    )


def refused(support_request: SupportRequest, refusal: requests.RequestRefused, **forms):
    flash(str(refusal.message), "error")
    return render_request(support_request, 409, **forms)


def back(support_request: SupportRequest, message: str):
    flash(message, "success")
    return redirect(url_for("desk.show", request_id=support_request.id))


@bp.route("/<id:request_id>")
def show(request_id: int):
    return render_request(get_request(request_id))


@bp.route("/<id:request_id>/reply", methods=["POST"])
@permission("requests.reply")
def reply(request_id: int):
    support_request = get_request(request_id)
    form = DeskReplyForm()
    if form.internal.data and not current_user.can("requests.notes"):
        form.internal.errors = [_("Your role does not let you write internal notes.")]
        return render_request(support_request, 403, reply=form)
    if not form.validate_on_submit():
        return render_request(support_request, 400, reply=form)
    try:
        requests.reply(
            support_request,
            form.body.data,
            actor=current_actor(),
            internal=form.internal.data,
            files=form.files.checked,
        )
    except requests.RequestRefused as refusal:
        return refused(support_request, refusal, reply=form)
    return back(
        support_request,
        _("Internal note added.") if form.internal.data else _("Reply sent to the customer."),
    )


def chosen_staff(value: str) -> User | None:
    return db.session.get(User, int(value)) if value else None


@bp.route("/<id:request_id>/acknowledge", methods=["POST"])
@permission("requests.triage")
def acknowledge(request_id: int):
    support_request = get_request(request_id)
    form = AcknowledgeForm(staff=active_staff())
    if not form.validate_on_submit():
        return render_request(support_request, 400, acknowledge=form)
    try:
        requests.acknowledge(
            support_request,
            priority=Priority(form.priority.data) if form.priority.data else None,
            assignee=chosen_staff(form.assignee_id.data),
            actor=current_actor(),
        )
    except requests.RequestRefused as refusal:
        return refused(support_request, refusal, acknowledge=form)
    return back(support_request, _("Acknowledged: the customer is told."))


@bp.route("/<id:request_id>/assign", methods=["POST"])
@permission("requests.triage")
def assign(request_id: int):
    support_request = get_request(request_id)
    form = AssignForm(staff=active_staff())
    if not form.validate_on_submit():
        return render_request(support_request, 400, assign=form)
    requests.assign(support_request, chosen_staff(form.assignee_id.data), actor=current_actor())
    return back(support_request, _("Saved."))


@bp.route("/<id:request_id>/move", methods=["POST"])
@permission("requests.triage")
def move(request_id: int):
    support_request = get_request(request_id)
    form = MoveForm(states=list(RequestState))
    if not form.validate_on_submit():
        return render_request(support_request, 400, move=form)
    try:
        requests.move(support_request, RequestState(form.new_state.data), actor=current_actor())
    except requests.RequestRefused as refusal:
        return refused(support_request, refusal)
    return back(support_request, _("Saved."))


@bp.route("/<id:request_id>/turn-down", methods=["POST"])
@permission("requests.triage")
def turn_down(request_id: int):
    support_request = get_request(request_id)
    form = TurnDownForm()
    if not form.validate_on_submit():
        return render_request(support_request, 400, turn_down=form)
    state = RequestState(form.outcome.data)
    original = None
    if state is RequestState.DUPLICATE:
        original = find_reference(form.duplicate_of.data)
        if original is None:
            form.duplicate_of.errors.append(_("No request has this reference."))
            return render_request(support_request, 400, turn_down=form)
    try:
        requests.turn_down(
            support_request, state, form.reason.data, actor=current_actor(), duplicate_of=original
        )
    except requests.RequestRefused as refusal:
        return refused(support_request, refusal, turn_down=form)
    return back(support_request, _("The request is closed: the customer is told why."))


def find_reference(text: str | None) -> SupportRequest | None:
    criterion = requests.by_reference(text)
    if criterion is None:
        return None
    return db.session.scalar(select(SupportRequest).where(criterion))


@bp.route("/<id:request_id>/improvement", methods=["POST"])
@permission("requests.triage")
def improvement(request_id: int):
    support_request = get_request(request_id)
    if request.form.get("decision") == "everyone":
        if not ConfirmForm().validate_on_submit():
            return redirect(url_for("desk.show", request_id=request_id))
        try:
            requests.accept_for_everyone(support_request, actor=current_actor())
        except requests.RequestRefused as refusal:
            return refused(support_request, refusal)
        return back(support_request, _("Accepted for everyone: the customer is told."))
    form = QuoteForm()
    if not form.validate_on_submit():
        return render_request(support_request, 400, quote=form)
    try:
        requests.quote(support_request, form.days.data, actor=current_actor())
    except requests.RequestRefused as refusal:
        return refused(support_request, refusal, quote=form)
    return back(support_request, _("The quote is sent to the customer."))


@bp.route("/<id:request_id>/files/<id:file_id>")
def attachment(request_id: int, file_id: int):
    return attachment_response(get_request(request_id), file_id)


@bp.route("/clients/<id:client_id>/new", methods=["GET", "POST"])
@permission("requests.reply")
def new(client_id: int):
    client = get_client(client_id)
    contacts = db.session.scalars(
        select(Contact)
        .where(Contact.client_id == client.id, Contact.archived_at.is_(None))
        .order_by(Contact.name)
    ).all()
    form = DeskRequestForm(contacts=contacts)
    if form.validate_on_submit():
        contact = (
            db.session.get(Contact, int(form.contact_id.data)) if form.contact_id.data else None
        )
        opened = requests.open_request(
            client, form.asked(), contact=contact, actor=current_actor(), files=form.files.checked
        )
        return back(opened, _("Request %(reference)s opened.", reference=opened.reference))
    return render_template("desk/new.html", client=client, form=form), 400 if form.errors else 200
