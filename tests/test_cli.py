"""The operator's commands: tenant create, user create-admin, demo."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import Client, Role, SystemRole, Tenant, User
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import login
from tests.test_routes import id_arguments, methods, tenant_routes, visitor

DEMO_PASSWORD = "demo password 1"


def run(app, *arguments):
    return app.test_cli_runner().invoke(args=list(arguments), catch_exceptions=False)


def tenant_named(slug: str) -> Tenant:
    with cross_tenant(db.session):
        return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def test_tenant_create_makes_the_system_and_default_roles(app):
    result = run(app, "tenant", "create", "fixit", "--name", "Fix-It Shop")
    assert result.exit_code == 0, result.output
    tenant = tenant_named("fixit")
    assert tenant.name == "Fix-It Shop"
    with bound_to(db.session, tenant.id):
        roles = {role.name: role for role in db.session.scalars(select(Role))}
        permissions = {name: role.permissions for name, role in roles.items()}
    assert set(roles) == {"Administrator", "Client", "Technician", "Sales administration", "Staff"}
    assert roles["Administrator"].system is SystemRole.ADMINISTRATOR
    assert permissions["Client"] == {"portal.self", "portal.statement", "portal.requests"}
    assert "tenant.admin" in permissions["Administrator"]
    assert {"requests.view", "requests.triage", "requests.notes"} <= permissions["Technician"]
    assert "support.record" in permissions["Technician"]
    assert "tenant.admin" not in permissions["Technician"]


def test_tenant_create_refuses_bad_and_duplicate_slugs(app):
    assert run(app, "tenant", "create", "fixit", "--name", "A").exit_code == 0
    duplicate = run(app, "tenant", "create", "fixit", "--name", "B")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    for slug in ("Fix It", "static", "x-", "a" * 41, "Ünï"):
        result = run(app, "tenant", "create", slug, "--name", "C")
        assert result.exit_code == 1 and "not a valid slug" in result.output, slug


def test_create_admin_then_sign_in(app):
    run(app, "tenant", "create", "fixit", "--name", "Fix-It Shop")
    result = run(
        app, "user", "create-admin", "fixit", "Boss@Fixit.test", "--password", "long enough pw"
    )
    assert result.exit_code == 0, result.output
    assert login(app.test_client(), "fixit", "boss@fixit.test", "long enough pw").status_code == 302


def test_create_admin_refuses_short_password_unknown_tenant_and_duplicates(app):
    run(app, "tenant", "create", "fixit", "--name", "Fix-It Shop")
    assert (
        "at least 10"
        in run(app, "user", "create-admin", "fixit", "a@fixit.test", "--password", "short").output
    )
    assert (
        "no tenant"
        in run(
            app, "user", "create-admin", "nope", "a@fixit.test", "--password", "long enough pw"
        ).output
    )
    first = ("user", "create-admin", "fixit", "a@fixit.test", "--password", "long enough pw")
    run(app, *first)
    again = run(app, *first[:3], "A@fixit.test", *first[4:])
    assert again.exit_code == 1 and "already exists" in again.output


def test_staff_user_codes_stay_unique(app):
    run(app, "tenant", "create", "fixit", "--name", "Fix-It Shop")
    for email in ("admin@one.test", "admin@two.test"):
        run(app, "user", "create-admin", "fixit", email, "--password", "long enough pw")
    with bound_to(db.session, tenant_named("fixit").id):
        assert sorted(db.session.scalars(select(User.code))) == ["admin", "admin2"]


def test_demo_loads_the_design_data_and_can_run_again(app):
    result = run(app, "demo", "--password", DEMO_PASSWORD)
    assert result.exit_code == 0, result.output
    for email in (
        "admin@demo.test",
        "tech@demo.test",
        "sales@demo.test",
        "jszczygiel@jmactions.com",
        "admin@acme.test",
    ):
        assert email in result.output
    assert DEMO_PASSWORD in result.output

    demo = tenant_named("demo")
    assert demo.name == "M. Répare Tout"
    with bound_to(db.session, demo.id):
        assert {branch.name for branch in demo.branches} == {"Actif Montréal", "Québec"}
        clients = {client.name: client for client in db.session.scalars(select(Client))}
        assert clients["Hervé David"].code == "8005551"
        assert [c.name for c in clients["Hervé David"].contacts] == ["Mireille Couture"]
        assert "S2M ROUTAGE" in clients
        tech = db.session.scalar(select(User).where(User.email == "tech@demo.test"))
        assert (tech.initials, tech.role.name) == ("HRY", "Technician")
        joseph = db.session.scalar(select(User).where(User.email == "jszczygiel@jmactions.com"))
        assert joseph.client.name == "JM-ACTIONS" and joseph.is_active

    again = run(app, "demo", "--password", "another password")
    assert again.exit_code == 0
    browser = app.test_client()
    assert login(browser, "demo", "jszczygiel@jmactions.com", "another password").status_code == 302
    assert "JM-ACTIONS" in browser.get("/demo/account").get_data(as_text=True)


def test_demo_generates_and_prints_a_password_when_none_is_given(app):
    result = run(app, "demo")
    password = result.output.split("Password for all of them: ", 1)[1].split()[0]
    assert login(app.test_client(), "demo", "admin@demo.test", password).status_code == 302


def test_demo_admin_gets_404_on_every_acme_url(app):
    run(app, "demo", "--password", DEMO_PASSWORD)
    acme = tenant_named("acme")
    with bound_to(db.session, acme.id):
        client = db.session.scalar(select(Client))
        ids = {
            "client_id": client.id,
            "contact_id": client.contacts[0].id,
            "user_id": db.session.scalar(select(User.id)),
            "session_id": 1,
        }
    browser = visitor(app, "demo", "admin@demo.test", DEMO_PASSWORD)
    for rule in tenant_routes(app):
        values = {"tenant": "acme", **{name: ids[name] for name in rule.arguments if name in ids}}
        # The tenant refuses before any id is looked up: other kinds of id need no real row.
        values.update({name: 1 for name in id_arguments(rule) if name not in values})
        values.update({name: "token" for name in rule.arguments - set(values)})
        url = rule.build(values, append_unknown=False)[1]
        for method in methods(rule):
            assert browser.call(method, url).status_code == 404, (method, url)


def test_demo_has_mireille_invited_with_her_mail_queued(app):
    from portal.models import Invitation, InvitationState, OutboxMail

    run(app, "demo", "--password", DEMO_PASSWORD)
    with bound_to(db.session, tenant_named("demo").id):
        mireille = db.session.scalar(
            select(User).where(User.email == "mireille.couture@hervedavid.com")
        )
        assert mireille.status.value == "invited" and mireille.code == "80055511"
        (invitation,) = db.session.scalars(select(Invitation)).all()
        assert invitation.state is InvitationState.PENDING
        assert invitation.invited_by.email == "admin@demo.test"
        (mail,) = db.session.scalars(
            select(OutboxMail).where(OutboxMail.kind.not_like("request_%"))
        ).all()
        assert mail.to_address == "mireille.couture@hervedavid.com"
    run(app, "demo", "--password", DEMO_PASSWORD)
    with bound_to(db.session, tenant_named("demo").id):
        db.session.expire_all()
        assert db.session.get(User, mireille.id).status.value == "invited"
