"""The balance over time, drawn on the server as an inline SVG: no JavaScript, and it
prints like the text around it.

The picture has no viewBox: its height is fixed in pixels and its horizontal positions
are percentages of its width, so its labels keep their size on a phone as on a wide
screen. Only the balance line and the negative area, which are paths, are drawn in a
stretched inner box (1000 units wide) with strokes that do not stretch.

Which labels a width can hold is settled here, for three widths: the labels that fit
on a phone are always shown; those that fit only on a wider screen carry the name of
the narrowest that holds them (``wide``, ``wider``), which the stylesheet hides below
it. Everything is bounded by the number of points
(``MAX_POINTS`` and ``MAX_MARKED`` of the statement service), never by the ledger's size.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

import flask_babel
from babel.dates import format_skeleton

from portal.i18n import format_date, ngettext
from portal.i18n import gettext as _
from portal.models.base import utcnow
from portal.services.credit import format_minutes
from portal.services.statement import EntryFilter, Point

#: The picture's height in pixels, and the room above and below the plot: above for
#: the purchases' labels, below for the dates.
HEIGHT, TOP, BOTTOM = 260, 30, 30
#: The inner box's width in its own units (the balance line's x coordinates).
UNITS = 1000
#: The widths labels are fitted to, in pixels, and the class of the labels that need
#: them: the chart's width on a phone (390 px wide), and the least widths at which the
#: stylesheet shows the ``wide`` labels (on screens from 48rem, and in print) and the
#: ``wider`` ones (from 69rem).
TIERS = ((290, ""), (660, "wide"), (1000, "wider"))
NARROW, WIDEST = TIERS[0][0], TIERS[-1][0]
#: The part of the width a long stretch without movement gets at either end of the
#: curve (before the first entry of the dates asked for, and since the last one)...
QUIET = 0.12
#: ... when drawn to scale it would take more than this part.
QUIET_BEYOND = 0.25
#: Room a date label wants at least, so that the dates are not crowded, in pixels.
DATE_SPACING = 110
#: Most balances labelled on the axis.
MOST_LEVELS = 5
#: Round steps of the balance axis, in minutes; then 1, 2, 5 × 10ⁿ hours.
ROUND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 300)
#: Calendar steps of the date axis, finest first: (unit, how many, about how long).
DATE_STEPS = (
    ("day", 1, timedelta(days=1)),
    ("day", 2, timedelta(days=2)),
    ("week", 1, timedelta(days=7)),
    ("month", 1, timedelta(days=30.4)),
    ("month", 2, timedelta(days=60.9)),
    ("month", 3, timedelta(days=91.3)),
    ("month", 6, timedelta(days=182.6)),
    *(("year", n, timedelta(days=365.25 * n)) for n in (1, 2, 5, 10, 20, 50, 100)),
)


@dataclass(frozen=True)
class Label:
    """A text of the chart: ``x`` a part of the width (0 to 1), ``y`` in pixels."""

    x: float
    y: float
    text: str
    #: How the text sits on ``x`` (SVG text-anchor).
    anchor: str = "middle"
    #: The narrowest width that shows it ("" for every width: see TIERS).
    tier: str = ""
    #: Drawn over the plot, on a halo that keeps it readable across the line.
    halo: bool = False


@dataclass(frozen=True)
class Marker:
    """A purchase: where it is (``x`` a part of the width), and what it says."""

    x: float
    y: float
    #: Its full description (the circle's tooltip and accessible name).
    label: str


@dataclass(frozen=True)
class Band:
    """A stretch without movement drawn shorter than to scale, from ``start`` to
    ``end`` (parts of the width)."""

    start: float
    end: float


@dataclass(frozen=True)
class Chart:
    height: int
    top: int
    bottom: int
    #: The balance as a step line in the inner box: it moves at each entry, level in
    #: between, up to the end of the dates shown.
    path: str
    #: The area between zero and a negative balance, in the inner box ("" if none).
    negative: str
    #: Where the balance is zero, in pixels.
    zero_y: float
    #: Lines across the plot at round balances (pixels) and at the dates (parts).
    y_grid: list[float]
    x_grid: list[float]
    bands: list[Band]
    purchases: list[Marker]
    #: Every visible text: the balances, the dates, the purchases' amounts.
    labels: list[Label]
    #: What the picture shows, for screen readers.
    description: str
    #: What the reader should know to read it (the bands' meaning), or "".
    note: str

    @property
    def plot_height(self) -> int:
        return self.bottom - self.top

    @property
    def units(self) -> int:
        """The inner box's width in its own units."""
        return UNITS


# --- The balance axis -------------------------------------------------------------------


def _steps():
    """The round steps, finest first: ROUND_STEPS, then 10, 20, 50, 100… hours."""
    yield from ROUND_STEPS
    hours = 10
    while True:
        for factor in (1, 2, 5):
            yield hours * factor * 60
        hours *= 10


def levels(lowest: int, highest: int) -> list[int]:
    """The balances labelled on the axis: the multiples from ``lowest`` to ``highest``
    of the finest round step (5, 15, 30 min, 1 h, 2 h, 3 h, 5 h, 10 h, 20 h…) that has
    at most MOST_LEVELS of them: 0 to 50 min gives 0, 15, 30, 45 min; 0 to 200 min
    gives 0, 1 h, 2 h, 3 h. Zero is among them when the range holds it."""
    for step in _steps():
        first = -(-lowest // step) * step  # the first multiple at or above lowest
        if (highest - first) // step + 1 <= MOST_LEVELS:
            return list(range(first, highest + 1, step))
    return []  # never: the steps grow without end


# --- The date axis ----------------------------------------------------------------------


def _local(at: datetime) -> datetime:
    """``at`` in the reader's time zone, without the zone."""
    return flask_babel.to_user_timezone(at).replace(tzinfo=None)


def _instant(local: datetime) -> datetime:
    """A time of the reader's time zone as an aware UTC datetime."""
    return flask_babel.to_utc(local).replace(tzinfo=UTC)


def _calendar(unit: str, count: int, start: datetime, end: datetime) -> list[date]:
    """The days from ``start`` to ``end`` (local times) that begin a step: every
    ``count`` days, each Monday, the first of every ``count`` months (January counted
    as a step's first), the first of January of every ``count`` years."""
    first = start.date() + (
        timedelta(days=1) if start.time() != datetime.min.time() else timedelta()
    )
    last = end.date()
    days: list[date] = []
    if unit == "day":
        day = first + timedelta(days=(-first.toordinal()) % count)
        while day <= last:
            days.append(day)
            day += timedelta(days=count)
    elif unit == "week":
        day = first + timedelta(days=(-first.weekday()) % 7)
        while day <= last:
            days.append(day)
            day += timedelta(days=7)
    else:
        months = 12 * count if unit == "year" else count
        index = first.year * 12 + first.month - 1
        if first.day != 1:
            index += 1
        index += (-index) % months
        while (day := date(index // 12, index % 12 + 1, 1)) <= last:
            days.append(day)
            index += months
    return days


@dataclass(frozen=True)
class DateTick:
    """A round date of the axis: its instant, its day, and its label in the reader's
    language without the year ("Apr", "Jan 6") and with it ("Apr 2021", "Jan 6, 2021")."""

    at: datetime
    day: date
    short: str
    long: str


def date_ticks(start: datetime, end: datetime, most: int) -> list[DateTick]:
    """Round dates from ``start`` to ``end`` (aware) at the finest calendar step that
    gives at most ``most`` of them: days, weeks, months (1, 2, 3, 6) or years (1, 2, 5,
    10…)."""
    if most < 1 or end <= start:
        return []
    locale = flask_babel.get_locale()
    local_start, local_end = _local(start), _local(end)
    for unit, count, length in DATE_STEPS:
        if (end - start) / length > most + 1:
            continue
        days = _calendar(unit, count, local_start, local_end)
        if len(days) > most:
            continue
        short, long = {"day": ("MMMd", "yMMMd"), "week": ("MMMd", "yMMMd")}.get(
            unit, ("MMM", "yMMM") if unit == "month" else ("y", "y")
        )
        return [
            DateTick(
                _instant(datetime.combine(day, datetime.min.time())),
                day,
                format_skeleton(short, day, locale=locale),
                format_skeleton(long, day, locale=locale),
            )
            for day in days
        ]
    return []


# --- Fitting labels -----------------------------------------------------------------------


def _text_width(text: str) -> float:
    """A generous guess of a 12 px label's width in pixels."""
    return len(text) * 6.6 + 6


class _Fitter:
    """Places labels one by one, keeping those that overlap none placed before, at each
    width of TIERS: a label shows from the narrowest width that holds it."""

    def __init__(self):
        self.placed: dict[int, list[tuple[float, float, float, float]]] = {
            width: [] for width, _tier in TIERS
        }

    @staticmethod
    def box(label: Label, width: int) -> tuple[float, float, float, float]:
        size = _text_width(label.text)
        x = label.x * width
        left = {"start": x, "middle": x - size / 2, "end": x - size}[label.anchor]
        return left, label.y - 13, left + size, label.y + 4

    def fits(self, label: Label, width: int) -> bool:
        left, top, right, bottom = self.box(label, width)
        if left < 0 or right > width:
            return False
        return all(
            right <= other[0] or left >= other[2] or bottom <= other[1] or top >= other[3]
            for other in self.placed[width]
        )

    def place(self, label: Label, *, always: bool = False) -> Label | None:
        """The label as shown (with the tier that first holds it), or None."""
        for index, (width, _tier) in enumerate(TIERS):
            if (always and index == 0) or self.fits(label, width):
                return self.put(label, index)
        return None

    def put(self, label: Label, index: int) -> Label:
        """``label`` shown from the width of ``TIERS[index]`` on."""
        for width, _tier in TIERS[index:]:
            self.placed[width].append(self.box(label, width))
        return Label(**{**label.__dict__, "tier": TIERS[index][1]})


# --- The chart ------------------------------------------------------------------------------


def _timeline(start: datetime, first: datetime, last: datetime, end: datetime):
    """The x position (a part of the width) of each instant from ``start`` to ``end``:
    to scale, except a long stretch before ``first`` or after ``last`` without any
    entry, given QUIET of the width. Returns the function, the stretches drawn shorter
    (as bands), and the part drawn to scale (instants and positions)."""
    lead = (first - start).total_seconds()
    history = (last - first).total_seconds()
    trail = (end - last).total_seconds()
    quiet: set[str] = set()
    if history > 0:
        gaps = {"lead": lead, "trail": trail}
        while True:
            scale = (1 - QUIET * len(quiet)) / (
                history + sum(length for name, length in gaps.items() if name not in quiet)
            )
            longer = {
                name
                for name, length in gaps.items()
                if name not in quiet and length * scale > QUIET_BEYOND
            }
            if not longer:
                break
            quiet |= longer
    total = lead + history + trail
    if "lead" in quiet or "trail" in quiet:
        scale = (1 - QUIET * len(quiet)) / (
            history + (0 if "lead" in quiet else lead) + (0 if "trail" in quiet else trail)
        )
        x_first = QUIET if "lead" in quiet else lead * scale
        x_last = x_first + history * scale
    else:
        x_first, x_last = lead / total, (lead + history) / total
    knots = [(start, 0.0), (first, x_first), (last, x_last), (end, 1.0)]

    def x(at: datetime) -> float:
        for (t0, x0), (t1, x1) in zip(knots, knots[1:], strict=False):
            if at <= t1:
                span = (t1 - t0).total_seconds()
                return x1 if span <= 0 else x0 + (x1 - x0) * (at - t0).total_seconds() / span
        return 1.0

    bands = []
    if "lead" in quiet:
        bands.append(Band(0.0, x_first))
    if "trail" in quiet:
        bands.append(Band(x_last, 1.0))
    scaled = (first if "lead" in quiet else start, last if "trail" in quiet else end)
    return x, bands, scaled


def balance_chart(
    points: list[Point], entry_filter: EntryFilter | None = None, now: datetime | None = None
) -> Chart | None:
    """The chart of ``points`` (in position order) over the dates of ``entry_filter``:
    from its start, or the first point, to its end, or ``now``. None when there is
    nothing to draw."""
    if not points:
        return None
    now = now or utcnow()
    # Positions follow time; should an entry be dated before the one it follows, it is
    # drawn at the time of that one, so that the line never runs backwards.
    times = list(accumulate((point.at for point in points), max))
    first, last = times[0], times[-1]
    start = first
    if entry_filter is not None and entry_filter.start is not None:
        start = min(first, entry_filter.start_at())
    end = now
    if entry_filter is not None and entry_filter.end is not None:
        end = min(end, entry_filter.end_before())
    end = max(end, last)

    values = [0, *(point.before for point in points), *(point.after for point in points)]
    lowest, highest = min(values), max(values)
    if lowest == highest:
        highest = lowest + 60
    bottom = HEIGHT - BOTTOM

    def y(minutes: int) -> float:
        return TOP + (bottom - TOP) * (highest - minutes) / (highest - lowest)

    if end > start:
        x, bands, (scaled_start, scaled_end) = _timeline(start, first, last, end)
        xs = [x(at) for at in times]
    else:  # all at one moment: spread them evenly instead
        bands, scaled_start, scaled_end = [], start, end
        xs = [(index + 1) / (len(points) + 1) for index in range(len(points))]

    # The step line, and the negative stretches of it as areas down to zero.
    steps = [f"M0,{y(points[0].before):.1f}"]
    segments = []
    left, level = 0.0, points[0].before
    for point, at_x in zip(points, xs, strict=True):
        steps.append(f"H{at_x * UNITS:.1f}V{y(point.after):.1f}")
        segments.append((left, at_x, level))
        left, level = at_x, point.after
    steps.append(f"H{UNITS}")
    segments.append((left, 1.0, level))
    zero = y(0)
    negative = "".join(
        f"M{a * UNITS:.1f},{zero:.1f}V{y(minutes):.1f}H{b * UNITS:.1f}V{zero:.1f}Z"
        for a, b, minutes in segments
        if minutes < 0 and b > a
    )

    fitter = _Fitter()
    labels: list[Label] = []

    def show(label: Label, *, always: bool = False) -> None:
        if (placed := fitter.place(label, always=always)) is not None:
            labels.append(placed)

    # The balances, at the right over the calm end of the curve.
    y_grid = []
    for value in levels(lowest, highest):
        y_grid.append(y(value))
        show(Label(1.0, y(value) - 4, format_minutes(value), "end", halo=True), always=True)

    # The dates: both ends in full, round dates between where they fit.
    row = HEIGHT - 9
    show(Label(0.0, row, format_date(start, "medium"), "start"), always=True)
    show(
        Label(1.0, row, format_date(end - timedelta(microseconds=1), "medium"), "end"), always=True
    )
    x_grid = []
    if end > start:
        width = x(scaled_end) - x(scaled_start)
        # From left to right, each with its year unless the label shown before it at
        # that width (the start's, or a date's) is of the same year.
        years = dict.fromkeys((width for width, _tier in TIERS), _local(start).year)
        for tick in date_ticks(scaled_start, scaled_end, int(width * WIDEST / DATE_SPACING)):
            x_grid.append(x(tick.at))
            for index, (wide, _tier) in enumerate(TIERS):
                label = Label(
                    x(tick.at), row, tick.short if years[wide] == tick.day.year else tick.long
                )
                if fitter.fits(label, wide):
                    labels.append(fitter.put(label, index))
                    years.update(dict.fromkeys((w for w, _t in TIERS[index:]), tick.day.year))
                    break

    # The purchases: a circle each, and its amount above it, the latest first.
    bought = [(point, at_x) for point, at_x in zip(points, xs, strict=True) if point.marked]
    purchases = [
        Marker(
            at_x,
            y(point.after),
            _(
                "Purchase of %(minutes)s on %(day)s",
                minutes=format_minutes(point.minutes),
                day=format_date(point.at, "short"),
            ),
        )
        for point, at_x in bought
    ]
    for marker, (point, _x) in reversed(list(zip(purchases, bought, strict=True))):
        text = "+" + format_minutes(point.minutes)
        half = _text_width(text) / 2 / NARROW
        anchor = "start" if marker.x < half else "end" if marker.x > 1 - half else "middle"
        show(Label(marker.x, marker.y - 10, text, anchor, halo=True))

    description = ngettext(
        "Balance from %(start)s (%(first)s) to %(end)s (%(last)s), lowest %(lowest)s, "
        "highest %(highest)s; %(num)d purchase marked.",
        "Balance from %(start)s (%(first)s) to %(end)s (%(last)s), lowest %(lowest)s, "
        "highest %(highest)s; %(num)d purchases marked.",
        len(purchases),
        start=format_date(first, "long"),
        first=format_minutes(points[0].before),
        end=format_date(last, "long"),
        last=format_minutes(points[-1].after),
        lowest=format_minutes(lowest),
        highest=format_minutes(max(values)),
    )
    if any(band.end == 1.0 for band in bands):
        description += " " + _("No movement since %(day)s.", day=format_date(last, "long"))
    note = _("Grey bands: stretches without any movement, drawn shorter.") if bands else ""
    return Chart(
        height=HEIGHT,
        top=TOP,
        bottom=bottom,
        path="".join(steps),
        negative=negative,
        zero_y=zero,
        y_grid=y_grid,
        x_grid=x_grid,
        bands=bands,
        purchases=purchases,
        labels=labels,
        description=description,
        note=note,
    )
