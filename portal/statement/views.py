"""The customer's time-credit statement: for each credit account the client user's
company uses, the balance, the totals of seed 002, the balance over time, and every
entry, newest first, with a date filter and a CSV export. The session's scoping
shows a client user the accounts linked to their company and nothing else."""

import re

from flask import (
    Blueprint,
    Response,
    abort,
    get_template_attribute,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from portal import readcache
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import CreditAccount
from portal.models.base import utcnow
from portal.permissions import guard
from portal.services import credit
from portal.services import statement as ledger
from portal.statement.chart import balance_chart
from portal.tenancy import binding, bound_to
from portal.web.forms.dates import DateRangeForm
from portal.web.querystring import id_value

bp = Blueprint("statement", __name__, url_prefix="/<tenant>")
guard(bp, "portal.statement")


def visible_accounts() -> list[CreditAccount]:
    """The accounts the user's company uses (automatic scoping)."""
    return db.session.scalars(select(CreditAccount).order_by(CreditAccount.customer_id)).all()


def get_account(account_id: int) -> tuple[CreditAccount, int]:
    """The account if the user's company uses it, else 404; and how many it uses."""
    accounts = visible_accounts()
    account = next((account for account in accounts if account.id == account_id), None)
    return account or abort(404), len(accounts)


def read_filter() -> tuple[DateRangeForm, ledger.EntryFilter]:
    """The date range asked for (ignored, with its errors shown, when it is wrong) and
    the user's branch limit, which always applies."""
    form = DateRangeForm(request.args)
    valid = form.validate()
    return form, ledger.EntryFilter(
        start=form.start.data if valid else None,
        end=form.end.data if valid else None,
        branch_id=current_user.branch_id,
        request_id=id_value(request.args.get("request")),
    )


def summary(account: CreditAccount, entry_filter: ledger.EntryFilter):
    """What the statement shows of an account above its history."""
    positions = ledger.position_range(account, entry_filter)
    return {
        "account": account,
        "totals": credit.totals(account),
        "chart": drawn_chart(account, entry_filter, positions),
        "positions": positions,
    }


#: Drawn balance curves kept at once: each is some 10 kB of SVG.
MOST_CHARTS = 64


def drawn_chart(
    account: CreditAccount, entry_filter: ledger.EntryFilter, positions: tuple[int, int]
) -> Markup | None:
    """The balance curve as SVG, drawn once per range of positions, language, time zone
    and minute: its points never change, and its right end, "now", moves by a minute at
    most, never before the last entry (``balance_chart`` ends there at the earliest)."""
    now = utcnow()
    locale, timezone = str(get_locale()), str(get_timezone())
    minute = now.replace(second=0, microsecond=0)

    def draw() -> Markup | None:
        points = ledger.balance_points(account, entry_filter, positions)
        chart = balance_chart(points, entry_filter, now)
        macro = get_template_attribute("statement/_chart.html", "balance_chart")
        return macro(chart, account.id) if chart else None

    key = (account.id, positions, entry_filter, locale, timezone, minute)
    return readcache.remember("balance chart", key, draw, most=MOST_CHARTS)


def render_statement(account: CreditAccount, accounts_count: int):
    form, entry_filter = read_filter()
    shown = summary(account, entry_filter)
    page = ledger.history(
        account,
        entry_filter,
        shown["positions"],
        before=id_value(request.args.get("before")),
        after=id_value(request.args.get("after")),
    )
    return render_template(
        "statement/account.html",
        **shown,
        form=form,
        entry_filter=entry_filter,
        page=page,
        accounts_count=accounts_count,
        now=utcnow(),
    ), 400 if form.errors else 200


@bp.route("/statement")
def index():
    accounts = visible_accounts()
    if len(accounts) == 1:
        return render_statement(accounts[0], 1)
    whole_history = ledger.EntryFilter(branch_id=current_user.branch_id)
    return render_template(
        "statement/index.html",
        summaries=[summary(account, whole_history) for account in accounts],
        now=utcnow(),
    )


@bp.route("/statement/<id:account_id>")
def account(account_id: int):
    return render_statement(*get_account(account_id))


def csv_response(accounts: list[CreditAccount], customer_id: str | None = None) -> Response:
    name = _("statement") + (f"-{customer_id}" if customer_id else "")
    name = re.sub(r"[^\w-]", "_", name, flags=re.ASCII)
    form, entry_filter = read_filter()
    if form.errors:
        messages = [
            f"{form[field].label.text}: {' '.join(map(str, errors))}"
            for field, errors in form.errors.items()
        ]
        return Response("\n".join(messages) + "\n", 400, mimetype="text/plain")
    ledgers = [(account.id, account.customer_id) for account in accounts]
    scope = binding(db.session)
    # The rows are written after the view has returned, once the request has committed
    # and closed its session: the language and time zone they are written in, which
    # come from the tenant, are settled now (Flask-Babel keeps them for the request).
    get_locale()
    get_timezone()

    def rows():
        # The request's session is closed once the view returns: read in a new one,
        # bound to the same tenant and clients.
        with bound_to(db.session, *scope):
            yield from ledger.csv_chunks(ledgers, entry_filter)

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@bp.route("/statement.csv")
def export():
    return csv_response(visible_accounts())


@bp.route("/statement/<id:account_id>.csv")
def account_export(account_id: int):
    account, _count = get_account(account_id)
    return csv_response([account], account.customer_id)
