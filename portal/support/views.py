"""The technicians' support screen of seed 002: find a customer, see their time
credit and the policy's verdict, record an intervention (Normal or Free) that is
mailed to the customer; and the sales administration's purchases, corrections,
NPI flag and linked companies."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import exists, select, union
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import ngettext
from portal.models import (
    Billing,
    Client,
    Contact,
    CreditAccount,
    CreditAccountClient,
    LedgerEntry,
    SupportRequest,
)
from portal.permissions import guard, permission
from portal.services import credit, interventions, search, unique
from portal.services import statement as ledger
from portal.services.credit import format_minutes
from portal.support.forms import (
    AdjustmentForm,
    AlertThresholdForm,
    InterventionForm,
    LinkForm,
    NpiForm,
    OpenAccountForm,
    PurchaseForm,
)
from portal.web.gate import current_actor
from portal.web.loaders import get_client
from portal.web.pagination import paginate

bp = Blueprint("support", __name__, url_prefix="/<tenant>/support")
guard(bp, "clients.view")


#: Most results the search shows; a technician then types more.
MAX_RESULTS = 30


#: What the account's page shows of it, read with it: the companies it serves and the
#: billing company's contacts (a statement each, whatever their number).
ACCOUNT_PAGE = (
    joinedload(CreditAccount.billing_client).selectinload(Client.contacts),
    selectinload(CreditAccount.links).joinedload(CreditAccountClient.client),
)
#: What a recording needs with the account: its companies and their contacts (the recap
#: mail's recipients), in one statement.
RECORDING = (
    joinedload(CreditAccount.billing_client),
    selectinload(CreditAccount.links)
    .joinedload(CreditAccountClient.client)
    .joinedload(Client.contacts)
    .joinedload(Contact.user),  # the language each recap is written in
)

#: What a search result shows of an account: the companies it serves, under whichever
#: the user sees first.
LISTED = (
    joinedload(CreditAccount.billing_client),
    selectinload(CreditAccount.links).joinedload(CreditAccountClient.client),
)


def get_account(account_id: int) -> CreditAccount:
    """The account if one of its companies is visible to this user (automatic), else 404."""
    return db.session.scalar(
        select(CreditAccount).where(CreditAccount.id == account_id).options(*ACCOUNT_PAGE)
    ) or abort(404)


def find(query: str) -> tuple[list[CreditAccount], list[Client]]:
    """Accounts whose customer ID is ``query`` or that serve a matching client, and the
    matching clients that have no account yet."""
    by_customer_id = select(CreditAccount.id).where(CreditAccount.customer_id == query)
    matches = search.matching_ids(query)
    if matches is None:
        account_ids = by_customer_id
        clients_without = []
    else:
        by_client = select(CreditAccountClient.account_id).join(
            matches, matches.c.client_id == CreditAccountClient.client_id
        )
        account_ids = union(by_customer_id, by_client).subquery()
        account_ids = select(account_ids.c.id)
        clients_without = db.session.scalars(
            select(Client)
            .join(matches, matches.c.client_id == Client.id)
            .where(~exists().where(CreditAccountClient.client_id == Client.id))
            .order_by(Client.name, Client.id)
            .limit(MAX_RESULTS)
        ).all()
    accounts = db.session.scalars(
        select(CreditAccount)
        .where(CreditAccount.id.in_(account_ids))
        .options(*LISTED)
        .order_by(CreditAccount.customer_id)
        .limit(MAX_RESULTS)
    ).all()
    return accounts, clients_without


@bp.route("/")
def index():
    query = request.args.get("q", "").strip()[:100]
    accounts, clients_without = find(query) if query else ([], [])
    if len(accounts) == 1 and not clients_without:
        return redirect(url_for("support.account", account_id=accounts[0].id))
    return render_template(
        "support/index.html", query=query, accounts=accounts, clients_without=clients_without
    )


def render_account(
    account: CreditAccount,
    form: InterventionForm | None = None,
    status=200,
    answered: SupportRequest | None = None,
):
    customer = account.clients[0]  # the billing client, unless it is out of this user's sight
    contact = next(
        (person for person in customer.contacts if person.archived_at is None),
        None,
    )
    history = paginate(
        ledger.shown_entries()
        .where(LedgerEntry.account_id == account.id)
        .order_by(LedgerEntry.position.desc()),
        read=ledger.read_entries,
    )
    return render_template(
        "support/account.html",
        account=account,
        customer=customer,
        contact=contact,
        policy=credit.evaluate(account, g.tenant.credit_threshold_minutes),
        totals=credit.totals(account),
        form=form or InterventionForm(clients=account.clients),
        history=history,
        answered=answered,
    ), status


def request_served(account: CreditAccount, value: str | None) -> SupportRequest | None:
    """The support request an intervention is recorded from: one this user may see,
    of a company the account serves; None for anything else."""
    if not value or not value.isdigit() or len(value) > 12:
        return None
    found = db.session.get(SupportRequest, int(value))
    served = {client.id for client in account.clients}
    return found if found is not None and found.client_id in served else None


@bp.route("/accounts/<id:account_id>")
def account(account_id: int):
    account = get_account(account_id)
    answered = request_served(account, request.args.get("request"))
    if answered is None:
        return render_account(account)
    # From a request: its company served, its reference opening the summary.
    form = InterventionForm(
        clients=account.clients,
        data={
            "client_id": answered.client_id,
            "summary": f"{answered.reference} – {answered.subject}\n",
            "request_id": str(answered.id),
        },
    )
    return render_account(account, form, answered=answered)


@bp.route("/accounts/<id:account_id>/interventions", methods=["POST"])
@permission("support.record")
def record(account_id: int):
    # Locked from the start: the form's companies and the balance are read once, as
    # they stand for this recording.
    locked = credit.lock(account_id, *RECORDING) or abort(404)
    form = InterventionForm(clients=locked.clients)
    answered = request_served(locked, form.request_id.data)
    if not form.validate_on_submit():
        return render_account(locked, form, 400, answered=answered)
    client = next(client for client in locked.clients if client.id == form.client_id.data)
    try:
        recorded = interventions.record(
            locked,
            client=client,
            request=answered,
            minutes=form.minutes.data,
            billing=Billing.FREE if form.free.data else Billing.NORMAL,
            summary=form.summary.data,
            advice=form.advice.data or None,
            review_invited=form.review.data,
            override_reason=form.override_reason.data or None,
            actor=current_actor(),
        )
    except credit.CreditRefused as refusal:  # refused before anything was written
        form.form_errors.append(str(refusal))
        return render_account(locked, form, 409, answered=answered)
    flash(
        _("Recorded: the balance is now %(balance)s.", balance=format_minutes(recorded.balance)),
        "success",
    )
    if recorded.recaps_queued:
        flash(
            ngettext(
                "The recap mail is on its way to %(num)d address.",
                "The recap mail is on its way to %(num)d addresses.",
                recorded.recaps_queued,
            ),
            "success",
        )
        if recorded.alerts_queued:
            flash(_("A credit alert went to the customer too (see Credit alerts)."), "success")
    else:
        flash(_("No recap mail: the client has no address that accepts them."), "error")
    if answered is not None and current_user.can("requests.view"):
        return redirect(url_for("desk.show", request_id=answered.id))
    return redirect(url_for("support.account", account_id=account_id))


def lock(account: CreditAccount) -> CreditAccount:
    """``account`` locked for this transaction and read again, before it changes."""
    return credit.lock(account.id) or abort(404)


def saved(account: CreditAccount):
    flash(_("Saved."), "success")
    return redirect(url_for("support.account", account_id=account.id))


def render_form(account: CreditAccount, form, heading: str):
    return render_template("support/form.html", account=account, form=form, heading=heading)


@bp.route("/accounts/<id:account_id>/purchase", methods=["GET", "POST"])
@permission("credit.purchase")
def purchase(account_id: int):
    account = get_account(account_id)
    form = PurchaseForm()
    if form.validate_on_submit():
        interventions.record_purchase(
            lock(account),
            minutes=form.minutes.data,
            amount=form.amount.data,
            reference=form.reference.data or None,
            valid_until=form.valid_until.data,
            actor=current_actor(),
        )
        return saved(account)
    return render_form(account, form, _("Record a purchase"))


@bp.route("/accounts/<id:account_id>/adjust", methods=["GET", "POST"])
@permission("credit.purchase")
def adjust(account_id: int):
    account = get_account(account_id)
    form = AdjustmentForm()
    if form.validate_on_submit():
        interventions.adjust(
            lock(account), delta=form.delta.data, reason=form.reason.data, actor=current_actor()
        )
        return saved(account)
    return render_form(account, form, _("Correct the balance"))


@bp.route("/accounts/<id:account_id>/alerts", methods=["GET", "POST"])
@permission("credit.purchase")
def alert_threshold(account_id: int):
    account = get_account(account_id)
    form = AlertThresholdForm(
        data={"minutes": account.alert_threshold_minutes} if request.method == "GET" else None
    )
    form.minutes.description = _(
        "Empty: the portal's setting, %(minutes)s.",
        minutes=format_minutes(g.tenant.credit_alert_minutes),
    )
    if form.validate_on_submit():
        interventions.set_alert_threshold(lock(account), form.minutes.data, actor=current_actor())
        return saved(account)
    return render_form(account, form, _("Low-credit alert"))


@bp.route("/accounts/<id:account_id>/npi", methods=["GET", "POST"])
@permission("credit.npi")
def npi(account_id: int):
    account = get_account(account_id)
    form = NpiForm()
    if form.validate_on_submit():
        locked = lock(account)
        credit.set_npi(locked, not locked.npi, reason=form.reason.data, actor=current_actor())
        return saved(account)
    heading = _("Clear “do not intervene”") if account.npi else _("Set “do not intervene”")
    return render_form(account, form, heading)


@bp.route("/accounts/<id:account_id>/links", methods=["POST"])
@permission("credit.purchase")
def link(account_id: int):
    account = get_account(account_id)
    form = LinkForm()
    client = None
    if form.validate_on_submit():
        client = db.session.scalar(select(Client).where(Client.code == form.code.data))
    if client is None:
        flash(_("No client has this code."), "error")
    elif credit.link(account, client, actor=current_actor()):
        flash(_("%(name)s now uses this account.", name=client.name), "success")
    return redirect(url_for("support.account", account_id=account.id))


@bp.route("/accounts/<id:account_id>/links/<id:client_id>/remove", methods=["POST"])
@permission("credit.purchase")
def unlink(account_id: int, client_id: int):
    account = get_account(account_id)
    client = get_client(client_id)
    # The CSRF token was checked for every POST before the view.
    if credit.unlink(account, client, actor=current_actor()):
        flash(_("%(name)s no longer uses this account.", name=client.name), "success")
    return redirect(url_for("support.account", account_id=account.id))


@bp.route("/clients/<id:client_id>/open-account", methods=["GET", "POST"])
@permission("credit.purchase")
def open_account(client_id: int):
    client = get_client(client_id)
    form = OpenAccountForm(data={"customer_id": client.code} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            account = credit.open_account(
                client, customer_id=form.customer_id.data, actor=current_actor()
            )
        except unique.Taken:
            form.customer_id.errors.append(_("Another account already has this customer ID."))
        else:
            return redirect(url_for("support.account", account_id=account.id))
    return render_template(
        "support/form.html",
        client=client,
        account=None,
        form=form,
        heading=_("Open a credit account for %(name)s", name=client.name),
    )
