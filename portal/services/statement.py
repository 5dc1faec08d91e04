"""The customer's view of a credit account: its entries in a date range (and, for a
branch-limited user, of one branch), a page at a time at any depth, a sampled balance
curve, and every entry streamed for the CSV export.

Everything is read by position through the ledger's indexes: a date range becomes a
range of positions (an entry's position grows with its time, since entries are only
appended under the account's lock), pages are keyset pages, the curve reads at most
``MAX_POINTS`` sampled positions. Nothing loads or sums the whole ledger.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from flask_babel import get_timezone, to_utc
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    any_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from portal import readcache
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Billing, CreditAccount, EntryKind, LedgerEntry, SupportRequest, User
from portal.models.request import request_reference
from portal.services.credit import PURCHASE_SUMMARY, shown_summary

PER_PAGE = 25
#: Most ledger positions the balance curve samples, whatever the account's size: a
#: step every 5 pixels of its 600, and as cheap to draw for 100,000 entries as for 100.
MAX_POINTS = 120
#: Most purchases marked on the curve (the latest ones).
MAX_MARKED = 24
#: Rows the CSV export reads per fetch and writes per chunk sent to the client. Not
#: more: rows alive together outlive the garbage collector's young generations, and its
#: full collections then cost the export more than its own work (at 5,000 rows, three to
#: four times the Python time of 1,000 on PostgreSQL), besides memory.
CSV_CHUNK = 1_000


@dataclass(frozen=True)
class EntryFilter:
    """Which entries a statement shows: a date range in the user's time zone, and for a
    branch-limited user the entries of that branch only."""

    start: date | None = None
    end: date | None = None
    branch_id: int | None = None
    #: Only the interventions recorded from this support request.
    request_id: int | None = None

    def start_at(self) -> datetime | None:
        return _utc(self.start) if self.start else None

    def end_before(self) -> datetime | None:
        """The first instant after the range (``end`` is inclusive)."""
        return _utc(self.end + timedelta(days=1)) if self.end else None

    @property
    def dated(self) -> bool:
        return self.start is not None or self.end is not None

    def criteria(self, account: CreditAccount, positions) -> list:
        """``positions`` is a (low, high) range or a list; one bound each way, or SQLite
        may walk the index from the wrong one."""
        criteria = [LedgerEntry.account_id == account.id]
        if isinstance(positions, tuple):
            criteria.append(LedgerEntry.position.between(*positions))
        else:
            criteria.append(_among(positions))
        if self.branch_id is not None:
            criteria.append(LedgerEntry.branch_id == self.branch_id)
        if self.request_id is not None:
            criteria.append(LedgerEntry.request_id == self.request_id)
        return criteria


def _among(positions: list[int]):
    """``position IN positions``; on PostgreSQL as one array parameter, which it parses
    and plans in a fraction of the time of a hundred-odd separate ones."""
    if db.session.get_bind().dialect.name == "postgresql":
        return LedgerEntry.position == any_(literal(positions, ARRAY(Integer)))
    return LedgerEntry.position.in_(positions)


def _utc(day: date) -> datetime:
    """Midnight of ``day`` in the user's time zone, as an aware UTC datetime."""
    return to_utc(datetime.combine(day, time())).replace(tzinfo=UTC)


def position_range(account: CreditAccount, entry_filter: EntryFilter) -> tuple[int, int]:
    """The first and last positions inside the filter's dates; empty when low > high.
    One statement, two index lookups, however long the ledger."""
    if not entry_filter.dated:
        return 1, account.entry_count
    bounds = {}
    if entry_filter.start is not None:
        bounds["first"] = (
            select(LedgerEntry.position)
            .where(
                LedgerEntry.account_id == account.id,
                LedgerEntry.created_at >= entry_filter.start_at(),
            )
            .order_by(LedgerEntry.created_at, LedgerEntry.position)
            .limit(1)
            .scalar_subquery()
        )
    if entry_filter.end is not None:
        bounds["last"] = (
            select(LedgerEntry.position)
            .where(
                LedgerEntry.account_id == account.id,
                LedgerEntry.created_at < entry_filter.end_before(),
            )
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.position.desc())
            .limit(1)
            .scalar_subquery()
        )
    found = dict(zip(bounds, db.session.execute(select(*bounds.values())).one(), strict=True))
    # No entry on or after the start, or none before the end: the range is empty.
    low = (found["first"] or account.entry_count + 1) if "first" in found else 1
    high = (found["last"] or 0) if "last" in found else account.entry_count
    return low, high


@dataclass(frozen=True, slots=True)
class RequestLink:
    """The support request an entry was recorded from, as a history links it."""

    id: int
    subject: str
    year: int
    number: int

    @property
    def reference(self) -> str:
        return request_reference(self.year, self.number)


@dataclass(frozen=True, slots=True)
class ShownEntry:
    """An entry as a history shows it (the customer's statement, the support desk's
    account page): read as a row of columns with its technician's name, since nothing
    on those pages is written."""

    id: int
    position: int
    created_at: datetime
    kind: EntryKind
    billing: Billing | None
    summary: str
    advice: str | None
    minutes: int
    credit_before: int
    credit_after: int
    override_reason: str | None
    technician_name: str | None
    technician_initials: str | None
    #: None too when the request is out of the reader's sight: no link then.
    request: RequestLink | None

    @property
    def duration(self) -> int | None:
        return self.minutes if self.kind is EntryKind.INTERVENTION else None


#: The columns of a ShownEntry, in its order, its request's id last. The technician is an
#: outer join that the scoping hook limits as it limits every query of users.
SHOWN_COLUMNS = (
    LedgerEntry.id,
    LedgerEntry.position,
    LedgerEntry.created_at,
    LedgerEntry.kind,
    LedgerEntry.billing,
    LedgerEntry.summary,
    LedgerEntry.advice,
    LedgerEntry.minutes,
    LedgerEntry.credit_before,
    LedgerEntry.credit_after,
    LedgerEntry.override_reason,
    User.name,
    User.initials,
    LedgerEntry.request_id,
)


def shown_entries() -> Select:
    """The entries' columns for ``read_entries``, with their technician's."""
    return select(*SHOWN_COLUMNS).outerjoin(LedgerEntry.technician)


def read_entries(statement: Select) -> list[ShownEntry]:
    """The ``ShownEntry`` rows of ``statement`` (``shown_entries`` narrowed), and the
    requests they were recorded from in one more statement, when there are any.

    The requests are not joined to the entries: once PostgreSQL plans the prepared
    statement for any parameters, it guesses a company's requests are few and reads them
    all for each entry (the history took 70 ms instead of 0.2). Read by their ids, each
    is one index lookup whatever the plan, and the scoping hook limits them as always."""
    rows = db.session.execute(statement).all()
    wanted = {row.request_id for row in rows if row.request_id is not None}
    links = {}
    if wanted:
        found = db.session.execute(
            select(
                SupportRequest.id,
                SupportRequest.subject,
                SupportRequest.year,
                SupportRequest.number,
            ).where(SupportRequest.id.in_(sorted(wanted)))
        )
        links = {link.id: link for link in (RequestLink(*row) for row in found)}
    return [ShownEntry(*row[:-1], links.get(row.request_id)) for row in rows]


@dataclass(frozen=True)
class HistoryPage:
    """One page of entries, newest first, with the cursors of its neighbours."""

    entries: list[ShownEntry]
    #: ``after`` for the page of newer entries, if there is one.
    newer: int | None
    #: ``before`` for the page of older entries, if there is one.
    older: int | None


def history(
    account: CreditAccount,
    entry_filter: EntryFilter,
    positions: tuple[int, int],
    *,
    before: int | None = None,
    after: int | None = None,
    per_page: int = PER_PAGE,
) -> HistoryPage:
    """The page of entries just older than ``before``, just newer than ``after``, or
    the newest: a keyset page, as fast on the thousandth page as on the first."""
    low, high = positions
    statement = shown_entries().limit(per_page + 1)

    def read(criteria, order) -> list[ShownEntry]:
        return read_entries(statement.where(*criteria).order_by(order))

    if after is not None:
        rows = read(
            entry_filter.criteria(account, (max(low, after + 1), high)), LedgerEntry.position
        )
        entries = list(reversed(rows[:per_page]))
        return HistoryPage(
            entries,
            newer=entries[0].position if len(rows) > per_page else None,
            older=entries[-1].position if entries and entries[-1].position > low else None,
        )
    top = high if before is None else min(high, before - 1)
    rows = read(entry_filter.criteria(account, (low, top)), LedgerEntry.position.desc())
    entries = rows[:per_page]
    return HistoryPage(
        entries,
        newer=(
            entries[0].position
            if before is not None and entries and entries[0].position < high
            else None
        ),
        older=entries[-1].position if len(rows) > per_page else None,
    )


@dataclass(frozen=True)
class Point:
    """A sampled entry of the balance curve."""

    position: int
    at: datetime
    before: int
    after: int
    minutes: int
    #: One of the latest purchases, which the curve marks.
    marked: bool = False


def sampled_positions(low: int, high: int) -> list[int] | None:
    """At most MAX_POINTS positions spread evenly from low to high, both included;
    None when the range is small enough to read whole."""
    count = high - low + 1
    if count <= MAX_POINTS:
        return None
    step = (count - 1) / (MAX_POINTS - 1)
    return sorted({low + round(index * step) for index in range(MAX_POINTS)})


def balance_points(
    account: CreditAccount, entry_filter: EntryFilter, positions: tuple[int, int]
) -> list[Point]:
    """The curve's points: sampled entries, and the latest purchases so that every
    top-up shows as a step. Two statements, whatever the account's size, read once for
    a range of positions: entries never change once written."""
    low, high = positions
    if low > high:
        return []
    key = (account.id, low, high, entry_filter.branch_id, entry_filter.request_id)
    return list(
        readcache.remember(
            "balance points", key, lambda: _read_points(account, entry_filter, positions)
        )
    )


def _read_points(
    account: CreditAccount, entry_filter: EntryFilter, positions: tuple[int, int]
) -> tuple[Point, ...]:
    columns = (
        LedgerEntry.position,
        LedgerEntry.created_at,
        LedgerEntry.credit_before,
        LedgerEntry.credit_after,
        LedgerEntry.minutes,
    )
    spread = sampled_positions(*positions)
    sample = select(*columns).where(*entry_filter.criteria(account, spread or positions))
    purchases = (
        select(*columns)
        .where(*entry_filter.criteria(account, positions), LedgerEntry.kind == EntryKind.PURCHASE)
        .order_by(LedgerEntry.position.desc())
        .limit(MAX_MARKED)
    )
    points = {row.position: Point(*row) for row in db.session.execute(sample)}
    points.update((row.position, Point(*row, marked=True)) for row in db.session.execute(purchases))
    return tuple(points[position] for position in sorted(points))


def csv_header() -> list[str]:
    """The columns: the kind and the billing in words for people, each followed by its
    stable code (purchase, intervention, adjustment; normal, free) for programs."""
    return [
        _("Customer ID"),
        _("Date and time"),
        _("Kind"),
        _("Kind code"),
        _("Summary"),
        _("Our advice"),
        _("Technician"),
        _("Duration (min)"),
        _("Billing"),
        _("Billing code"),
        _("Credit before"),
        _("Credit after"),
    ]


#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The characters that make csv.writer quote a field (QUOTE_MINIMAL, "\r\n" line ends).
QUOTED_IF = (",", '"', "\r", "\n")


def _cell(text: str | None) -> str:
    """Text as a spreadsheet shows it, never as a formula it would run."""
    text = text or ""
    return "'" + text if text[:1] in FORMULA_STARTS else text


def _field(text: str) -> str:
    """``text`` as csv.writer writes it, for the values the database puts in its lines."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in QUOTED_IF) else text


def _sql_cell(text: ColumnElement[str]) -> ColumnElement[str]:
    """``_field(_cell(text))`` computed by the database, "" for NULL. ``ascii`` and
    ``strpos`` are the cheapest tests it has for these: a pattern would convert each
    row's text to wide characters first."""
    protected = case(
        (func.ascii(text).in_([ord(c) for c in FORMULA_STARTS]), "'" + text), else_=text
    )
    quoted = '"' + func.replace(protected, '"', '""', type_=Text) + '"'
    return func.coalesce(
        case((or_(*(func.strpos(text, c) > 0 for c in QUOTED_IF)), quoted), else_=protected), ""
    )


def csv_chunks(ledgers: list[tuple[int, str]], entry_filter: EntryFilter) -> Iterator[str]:
    """The CSV of the entries of ``ledgers`` (account id, customer ID), oldest first, in
    chunks: one streamed query per account, so memory stays flat however long the ledger.
    PostgreSQL writes each line itself, Python only joins them: writing them in Python
    caps the export well below 100,000 rows a second. SQLite, which knows no time zones,
    leaves them to Python. Both write the same bytes."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so that spreadsheets read the accents as UTF-8
    csv.writer(buffer).writerow(csv_header())
    yield buffer.getvalue()
    on_postgresql = db.session.get_bind().dialect.name == "postgresql"
    write = _database_lines if on_postgresql else _python_lines
    for account_id, customer_id in ledgers:
        criteria = [LedgerEntry.account_id == account_id]
        if entry_filter.start is not None:
            criteria.append(LedgerEntry.created_at >= entry_filter.start_at())
        if entry_filter.end is not None:
            criteria.append(LedgerEntry.created_at < entry_filter.end_before())
        if entry_filter.branch_id is not None:
            criteria.append(LedgerEntry.branch_id == entry_filter.branch_id)
        if entry_filter.request_id is not None:
            criteria.append(LedgerEntry.request_id == entry_filter.request_id)
        yield from write(customer_id, criteria)


def _entries(*columns) -> Select:
    """The entries' ``columns``, with their technician's, in ledger order, streamed."""
    return (
        select(*columns)
        .select_from(LedgerEntry)
        .outerjoin(
            User,
            and_(User.id == LedgerEntry.technician_id, User.tenant_id == LedgerEntry.tenant_id),
        )
        .order_by(LedgerEntry.position)
        .execution_options(yield_per=CSV_CHUNK)
    )


def _database_lines(customer_id: str, criteria: list) -> Iterator[str]:
    """Each line built by PostgreSQL in the user's time zone (set for this transaction
    only), its words translated once here and passed in."""
    db.session.execute(select(func.set_config("TimeZone", str(get_timezone()), True)))
    kind = LedgerEntry.kind
    line = func.concat_ws(
        ",",
        _field(_cell(customer_id)),
        # The offset as isoformat prints it: +HH:MM.
        func.to_char(LedgerEntry.created_at, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'),
        # The kind's label and code, and the billing's, two fields each.
        case({each: f"{_field(each.label)},{each.value}" for each in EntryKind}, value=kind),
        case(
            (
                and_(kind == EntryKind.PURCHASE, LedgerEntry.summary == PURCHASE_SUMMARY),
                _field(_cell(shown_summary(EntryKind.PURCHASE, PURCHASE_SUMMARY))),
            ),
            else_=_sql_cell(LedgerEntry.summary),
        ),
        _sql_cell(LedgerEntry.advice),
        _sql_cell(User.name),
        case((kind == EntryKind.INTERVENTION, cast(LedgerEntry.minutes, Text)), else_=""),
        case(
            {each: f"{_field(each.label)},{each.value}" for each in Billing},
            value=LedgerEntry.billing,
            else_=",",
        ),
        LedgerEntry.credit_before,
        LedgerEntry.credit_after,
        type_=Text,
    )
    lines = db.session.scalars(_entries(line + "\r\n").where(*criteria))
    for chunk in lines.partitions():
        yield "".join(chunk)


def _python_lines(customer_id: str, criteria: list) -> Iterator[str]:
    """Each line written by csv.writer, with the labels and the time zone looked up once."""
    lines: list[str] = []
    # Written into a list joined once per chunk: half the memory of a StringIO (which
    # keeps four bytes a character), and quicker.
    writer = csv.writer(SimpleNamespace(write=lines.append))
    zone = get_timezone()
    customer = _cell(customer_id)
    kinds = {each: (each.label, each.value) for each in EntryKind}
    billings = {None: ("", ""), **{each: (each.label, each.value) for each in Billing}}
    purchase = shown_summary(EntryKind.PURCHASE, PURCHASE_SUMMARY)
    rows = db.session.execute(
        _entries(
            LedgerEntry.created_at,
            LedgerEntry.kind,
            LedgerEntry.summary,
            LedgerEntry.advice,
            User.name,
            LedgerEntry.minutes,
            LedgerEntry.billing,
            LedgerEntry.credit_before,
            LedgerEntry.credit_after,
        ).where(*criteria)
    )
    for chunk in rows.partitions():
        writer.writerows(
            (
                customer,
                # What to_user_timezone gives: astimezone picks the instant's own offset
                # even from a pytz zone, which then needs no normalize.
                at.astimezone(zone).isoformat(timespec="seconds"),
                *kinds[kind],
                _cell(  # shown_summary's rule, translated once
                    purchase
                    if kind is EntryKind.PURCHASE and summary == PURCHASE_SUMMARY
                    else summary
                ),
                _cell(advice),
                _cell(name),
                minutes if kind is EntryKind.INTERVENTION else "",
                *billings[billing],
                before,
                after,
            )
            for at, kind, summary, advice, name, minutes, billing, before, after in chunk
        )
        yield "".join(lines)
        lines.clear()
