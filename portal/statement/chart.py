"""The balance over time, drawn on the server as the coordinates of an inline SVG:
no JavaScript, and it prints like the text around it."""

from dataclasses import dataclass

from portal.i18n import format_date, ngettext
from portal.i18n import gettext as _
from portal.services.credit import format_minutes
from portal.services.statement import Point

WIDTH, HEIGHT = 720, 240
#: Room for the axis labels: left, right, top, bottom.
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 12, 28


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str
    #: How the label sits on its position (SVG text-anchor).
    anchor: str = "end"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    #: The balance as a step line: it moves at each entry, level in between.
    path: str
    #: Where the balance is zero, drawn as a reference line.
    zero_y: float
    purchases: list[Marker]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    #: What the picture shows, for screen readers.
    description: str

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT

    @property
    def plot_bottom(self) -> int:
        return self.height - BOTTOM


def levels(lowest: int, highest: int, count: int = 4) -> list[int]:
    """The balances labelled on the axis: both ends, zero, and evenly spaced ones
    between, leaving out any too close to zero to be read apart from it."""
    span = highest - lowest
    between = {round(lowest + span * step / count) for step in range(1, count)}
    return sorted({lowest, 0, highest} | {value for value in between if abs(value) > span / 10})


def balance_chart(points: list[Point]) -> Chart | None:
    """The chart of ``points`` (in position order); None when there is nothing to draw."""
    if not points:
        return None
    values = [0, *(point.before for point in points), *(point.after for point in points)]
    lowest, highest = min(values), max(values)
    if lowest == highest:
        highest = lowest + 60
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    first, last = points[0].at.timestamp(), points[-1].at.timestamp()

    def x(index: int, point: Point) -> float:
        if last == first:  # all at one moment: spread them evenly instead
            return LEFT + plot_width * (index + 1) / (len(points) + 1)
        return LEFT + plot_width * (point.at.timestamp() - first) / (last - first)

    def y(minutes: int) -> float:
        return TOP + plot_height * (highest - minutes) / (highest - lowest)

    steps = [f"M{x(0, points[0]):.1f},{y(points[0].before):.1f}"]
    purchases = []
    for index, point in enumerate(points):
        steps.append(f"H{x(index, point):.1f}V{y(point.after):.1f}")
        if point.marked:
            purchases.append(
                Marker(
                    x(index, point),
                    y(point.after),
                    _(
                        "Purchase of %(minutes)s on %(day)s",
                        minutes=format_minutes(point.minutes),
                        day=format_date(point.at, "short"),
                    ),
                )
            )
    y_ticks = [Tick(y(value), format_minutes(value)) for value in levels(lowest, highest)]
    x_ticks = [Tick(x(0, points[0]), format_date(points[0].at, "short"), "start")]
    if last != first:
        x_ticks.append(Tick(x(len(points) - 1, points[-1]), format_date(points[-1].at, "short")))
    description = ngettext(
        "Balance from %(start)s (%(first)s) to %(end)s (%(last)s), lowest %(lowest)s, "
        "highest %(highest)s; %(num)d purchase marked.",
        "Balance from %(start)s (%(first)s) to %(end)s (%(last)s), lowest %(lowest)s, "
        "highest %(highest)s; %(num)d purchases marked.",
        len(purchases),
        start=format_date(points[0].at, "long"),
        first=format_minutes(points[0].before),
        end=format_date(points[-1].at, "long"),
        last=format_minutes(points[-1].after),
        lowest=format_minutes(lowest),
        highest=format_minutes(highest),
    )
    return Chart(WIDTH, HEIGHT, "".join(steps), y(0), purchases, y_ticks, x_ticks, description)
