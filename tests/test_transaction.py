"""The one transaction boundary: a request commits once, after its view returned; a view
that raises saves nothing but the refusals it recorded."""

from contextlib import contextmanager

import pytest
from flask import abort
from sqlalchemy import event, select

from portal.extensions import db
from portal.models import AuditEvent, Branch
from portal.permissions import public
from portal.services import audit, unique
from portal.tenancy import bound_to
from portal.web.gate import current_actor
from tests.conftest import csrf_token


@contextmanager
def counted_commits():
    """The number of COMMITs the database receives meanwhile, from any connection."""
    commits = []
    listener = lambda connection: commits.append(connection)  # noqa: E731
    event.listen(db.engine, "commit", listener)
    try:
        yield commits
    finally:
        event.remove(db.engine, "commit", listener)


def branch_names(world) -> list[str]:
    with bound_to(db.session, world.a.tenant_id):
        names = list(db.session.scalars(select(Branch.name).order_by(Branch.name)))
    db.session.rollback()
    return names


def actions(world) -> list[str]:
    with bound_to(db.session, world.a.tenant_id):
        found = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    db.session.rollback()
    return found


def test_a_request_that_saves_commits_once(app, world, signed_in):
    browser = signed_in(world.a.slug, world.a.admin_email)
    form = browser.get(f"/{world.a.slug}/admin/branches")
    with counted_commits() as commits:
        response = browser.post(
            f"/{world.a.slug}/admin/branches",
            data={"csrf_token": csrf_token(form), "name": "Trois-Rivières"},
        )
    assert response.status_code == 302
    assert "Trois-Rivières" in branch_names(world)
    assert len(commits) == 1, "the branch, its audit event and the session: one commit"


def test_a_refused_sign_in_is_recorded_in_the_requests_one_commit(app, world, client):
    page = client.get(f"/{world.a.slug}/login")
    with counted_commits() as commits:
        response = client.post(
            f"/{world.a.slug}/login",
            data={
                "csrf_token": csrf_token(page),
                "login": world.a.admin_email,
                "password": "not the password",
            },
        )
    assert response.status_code == 200
    assert actions(world)[-1] == "auth.login_failed"
    assert len(commits) == 1


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(lambda: abort(409), id="an HTTP error"),
        pytest.param(lambda: 1 / 0, id="a bug"),
    ],
)
def test_a_view_that_raises_saves_nothing_but_its_refusals(app, world, client, failure):
    @public
    def write_then_fail():
        db.session.add(Branch(name="Never saved"))
        audit.record("branch.created", actor=current_actor(), changes={"name": [None, "x"]})
        audit.record_refusal("auth.login_failed", actor=current_actor(), login="probe")
        db.session.flush()
        failure()

    app.config["PROPAGATE_EXCEPTIONS"] = False  # a bug answers the 500 page, as in production
    app.add_url_rule("/<tenant>/write-then-fail", view_func=write_then_fail)
    before = actions(world)

    response = client.get(f"/{world.a.slug}/write-then-fail")

    assert response.status_code in (409, 500)
    assert "Never saved" not in branch_names(world)
    assert actions(world) == [*before, "auth.login_failed"], "only the refusal is written"


def test_a_claimed_value_is_undone_when_the_request_fails_later(app, world, client):
    """The savepoint of ``unique.claimed`` nests in the request's transaction (on SQLite
    too, whose driver would otherwise let it open and commit a transaction of its own)."""

    @public
    def claim_then_fail():
        with unique.claimed():
            db.session.add(Branch(name="Claimed then undone"))
        abort(409)

    app.add_url_rule("/<tenant>/claim-then-fail", view_func=claim_then_fail)

    assert client.get(f"/{world.a.slug}/claim-then-fail").status_code == 409
    assert "Claimed then undone" not in branch_names(world)
