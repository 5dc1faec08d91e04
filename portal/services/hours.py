"""The support desk's opening hours (seed 001: Monday to Friday; Saturday reduced,
urgent matters only; Sunday closed) and its holidays: whether it is open now, when it
reopens, and the week said in words.

The tenant keeps them as JSON: ``opening_hours`` is seven entries, Monday first, each
``null`` (closed) or ``{"opens": "09:00", "closes": "18:00", "reduced": false}``;
``holidays`` is a list of ISO dates. Times are the tenant's local time.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import get_locale

from portal.i18n import format_date, gettext
from portal.i18n import lazy_gettext as _l
from portal.models import Tenant

#: Seed 001's week: open Monday to Friday, Saturday morning for urgent matters only.
DEFAULT_WEEK = [
    *[{"opens": "09:00", "closes": "18:00", "reduced": False}] * 5,
    {"opens": "09:00", "closes": "12:00", "reduced": True},
    None,
]
#: How far ahead "reopens" looks (holidays may close the desk for a while).
HORIZON_DAYS = 60


@dataclass(frozen=True)
class Day:
    opens: time
    closes: time
    #: Urgent matters only (seed 001's Saturday).
    reduced: bool = False


@dataclass(frozen=True)
class Status:
    """The desk at a given moment."""

    open: bool
    #: Open for urgent matters only.
    reduced: bool = False
    #: When it opens next, if it is closed (None: no opening in sight).
    reopens_at: datetime | None = None


def parse_week(raw) -> list[Day | None]:
    """The stored week, or seed 001's when nothing usable is stored."""
    if not isinstance(raw, list) or len(raw) != 7:
        raw = DEFAULT_WEEK
    week = []
    for entry in raw:
        try:
            week.append(
                Day(
                    time.fromisoformat(entry["opens"]),
                    time.fromisoformat(entry["closes"]),
                    bool(entry.get("reduced")),
                )
                if entry
                else None
            )
        except (KeyError, TypeError, ValueError):
            week.append(None)
    return week


def parse_holidays(raw) -> frozenset[date]:
    days = set()
    for value in raw if isinstance(raw, list) else []:
        try:
            days.add(date.fromisoformat(value))
        except (TypeError, ValueError):
            continue
    return frozenset(days)


def week_json(week: list[Day | None]) -> list[dict | None]:
    return [
        {
            "opens": day.opens.strftime("%H:%M"),
            "closes": day.closes.strftime("%H:%M"),
            "reduced": day.reduced,
        }
        if day
        else None
        for day in week
    ]


class Schedule:
    """A tenant's week and holidays, in its time zone."""

    def __init__(self, tenant: Tenant):
        self.week = parse_week(tenant.opening_hours)
        self.holidays = parse_holidays(tenant.holidays)
        self.zone = ZoneInfo(tenant.timezone)

    def day(self, on: date) -> Day | None:
        return None if on in self.holidays else self.week[on.weekday()]

    def status(self, now: datetime) -> Status:
        local = now.astimezone(self.zone)
        today = self.day(local.date())
        if today and today.opens <= local.time() < today.closes:
            return Status(open=True, reduced=today.reduced)
        return Status(open=False, reopens_at=self.next_opening(local))

    def next_opening(self, local: datetime) -> datetime | None:
        for offset in range(HORIZON_DAYS + 1):
            on = local.date() + timedelta(days=offset)
            day = self.day(on)
            if day is None:
                continue
            opening = datetime.combine(on, day.opens, tzinfo=self.zone)
            if opening > local:
                return opening
        return None

    def lines(self) -> list[str]:
        """The week in words, consecutive days with the same hours together."""
        names = DAY_NAMES
        lines, start = [], 0
        for index in range(1, 8):
            if index < 7 and self.week[index] == self.week[start]:
                continue
            span = (
                str(names[start])
                if index - 1 == start
                else gettext("%(first)s to %(last)s", first=names[start], last=names[index - 1])
            )
            day = self.week[start]
            if day is None:
                lines.append(gettext("%(days)s: closed", days=span))
            else:
                hours = gettext(
                    "%(days)s: %(opens)s to %(closes)s",
                    days=span,
                    opens=clock(day.opens),
                    closes=clock(day.closes),
                )
                lines.append(
                    gettext("%(hours)s, urgent matters only", hours=hours) if day.reduced else hours
                )
            start = index
        return [line[:1].upper() + line[1:] for line in lines]


DAY_NAMES = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


def clock(value: time) -> str:
    """The 24-hour clock both audiences use here, each in its own way: 9:00 and 17:30
    in English, 9 h and 17 h 30 in French."""
    if get_locale().language == "fr":
        return f"{value.hour} h" + (f" {value.minute:02d}" if value.minute else "")
    return f"{value.hour}:{value.minute:02d}"


def reopening(status: Status, now: datetime, zone: ZoneInfo) -> str:
    """ "Reopens today at 14:00", "tomorrow at 9:00", "Monday at 9:00", or a date."""
    at = status.reopens_at.astimezone(zone)
    today = now.astimezone(zone).date()
    when = clock(at.time())
    if at.date() == today:
        return gettext("today at %(time)s", time=when)
    if at.date() == today + timedelta(days=1):
        return gettext("tomorrow at %(time)s", time=when)
    if at.date() < today + timedelta(days=7):
        return gettext("%(day)s at %(time)s", day=DAY_NAMES[at.weekday()], time=when)
    return gettext("%(date)s at %(time)s", date=format_date(at.date(), "long"), time=when)
