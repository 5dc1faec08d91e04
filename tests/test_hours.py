"""The desk's opening hours (seed 001: Monday to Friday; Saturday reduced, urgent
matters only; Sunday closed) and holidays: open now, when it reopens, the week in
words; set by an administrator."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Tenant
from portal.services import hours
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import csrf_token, login

MONTREAL = "America/Toronto"


def schedule(week=None, holidays=None, timezone=MONTREAL) -> hours.Schedule:
    return hours.Schedule(Tenant(opening_hours=week, holidays=holidays, timezone=timezone))


def at(local: str) -> datetime:
    """A moment given in Montréal's time (EST in winter: UTC-5)."""
    naive = datetime.fromisoformat(local)
    return naive.replace(tzinfo=UTC) + (datetime(2026, 12, 1, 5) - datetime(2026, 12, 1))


@pytest.mark.parametrize(
    ("moment", "is_open", "reduced", "reopens"),
    [
        ("2026-12-01 10:00", True, False, None),  # a Tuesday morning
        ("2026-12-01 18:30", False, False, "tomorrow at 9:00"),
        ("2026-12-01 07:00", False, False, "today at 9:00"),
        ("2026-12-05 10:00", True, True, None),  # Saturday morning: urgent only
        ("2026-12-05 13:00", False, False, "Monday at 9:00"),  # Saturday afternoon
        ("2026-12-06 10:00", False, False, "tomorrow at 9:00"),  # Sunday
    ],
)
def test_seed_001s_week_by_default(app, moment, is_open, reduced, reopens):
    desk = schedule()
    now = at(moment)
    status = desk.status(now)
    assert (status.open, status.reduced) == (is_open, reduced)
    if reopens:
        assert hours.reopening(status, now, desk.zone) == reopens
    else:
        assert status.reopens_at is None


def test_a_holiday_closes_the_desk_and_it_reopens_after(app):
    desk = schedule(holidays=["2026-12-25", "2026-12-28"])
    status = desk.status(at("2026-12-24 19:00"))  # Thursday evening before Christmas
    assert not status.open
    assert hours.reopening(status, at("2026-12-24 19:00"), desk.zone) == "Saturday at 9:00"
    monday = desk.status(at("2026-12-28 10:00"))
    assert not monday.open
    assert hours.reopening(monday, at("2026-12-28 10:00"), desk.zone) == "tomorrow at 9:00"


def test_a_desk_that_never_opens_says_so_and_never_reopens(app):
    desk = schedule(week=[None] * 7)
    assert desk.status(at("2026-12-01 10:00")) == hours.Status(open=False, reopens_at=None)
    assert desk.lines() == ["Monday to Sunday: closed"]


def test_the_week_in_words_groups_days_alike(app):
    assert schedule().lines() == [
        "Monday to Friday: 9:00 to 18:00",
        "Saturday: 9:00 to 12:00, urgent matters only",
        "Sunday: closed",
    ]


def test_stored_nonsense_falls_back_without_an_error(app):
    desk = schedule(week=[{"opens": "nine"}] * 7, holidays=["soon", 3])
    assert desk.week == [None] * 7 and desk.holidays == frozenset()
    assert hours.parse_week("x") == hours.parse_week(None)


def hours_url(world) -> str:
    return f"/{world.a.slug}/admin/hours"


def week_data(**overrides) -> dict:
    data = {}
    for index in range(7):
        opens, closes = ("08:30", "17:00") if index < 5 else ("", "")
        data[f"week-{index}-opens"], data[f"week-{index}-closes"] = opens, closes
    data.update(overrides)
    return data


def test_an_administrator_sets_the_week_and_holidays(app, world):
    admin = app.test_client()
    login(admin, world.a.slug, world.a.admin_email)
    page = admin.get(hours_url(world))
    assert page.status_code == 200 and 'value="09:00"' in page.get_data(as_text=True)
    response = admin.post(
        hours_url(world),
        data={"csrf_token": csrf_token(page), "holidays": "2026-12-25\n2027-01-01", **week_data()},
    )
    assert response.status_code == 302
    with cross_tenant(db.session):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        db.session.refresh(tenant)
        assert hours.Schedule(tenant).lines() == [
            "Monday to Friday: 8:30 to 17:00",
            "Saturday to Sunday: closed",
        ]
        assert tenant.holidays == ["2026-12-25", "2027-01-01"]
    with bound_to(db.session, world.a.tenant_id):
        (event,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "tenant.hours_changed")
        ).all()
        assert "8:30 to 17:00" in event.details["changes"]["opening_hours"][1]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"week-0-closes": ""}, "Give both times, or neither for a closed day."),
        ({"week-0-closes": "08:00"}, "The desk must close after it opens."),
        ({"holidays": "Christmas"}, "Not a date as 2026-12-25: Christmas"),
    ],
)
def test_a_wrong_day_is_said_at_its_field_and_nothing_is_saved(app, world, overrides, message):
    admin = app.test_client()
    login(admin, world.a.slug, world.a.admin_email)
    page = admin.get(hours_url(world))
    response = admin.post(
        hours_url(world), data={"csrf_token": csrf_token(page), **week_data(**overrides)}
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with cross_tenant(db.session):
        assert db.session.get(Tenant, world.a.tenant_id).opening_hours is None
