"""The scoping rule: no query sees another tenant's rows, and the database refuses
cross-tenant references even when the ORM is bypassed."""

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import AuditEvent, Client, Contact, Tenant
from portal.services import audit
from portal.services.actor import Actor
from portal.tenancy import ClientVisibility, TenancyError, bound_to, cross_tenant


def test_unfiltered_query_returns_only_the_bound_tenants_rows(world):
    with bound_to(db.session, world.a.tenant_id):
        names = set(db.session.scalars(select(Client.name)))
        counted = db.session.scalar(select(func.count()).select_from(Client))
    assert names == {world.a.client_name, world.a.other_client_name}
    assert counted == 2


def test_get_by_primary_key_of_another_tenant_finds_nothing(world):
    db.session.expunge_all()
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.get(Client, world.b.client_id) is None
        assert db.session.get(Client, world.a.client_id) is not None


def test_relationship_lazy_load_is_scoped_to_the_bound_tenant(world):
    with cross_tenant(db.session):
        tenant_b = db.session.get(Tenant, world.b.tenant_id)
    with bound_to(db.session, world.a.tenant_id):
        assert tenant_b.clients == []
        tenant_a = db.session.get(Tenant, world.a.tenant_id)
        assert {c.name for c in tenant_a.clients} == {
            world.a.client_name,
            world.a.other_client_name,
        }


def test_client_user_scope_limits_queries_and_lazy_loads_to_its_client(world):
    with bound_to(db.session, world.a.tenant_id, ClientVisibility(client_id=world.a.client_id)):
        assert set(db.session.scalars(select(Contact.name))) == {world.a.contact_name}
        assert db.session.get(Client, world.a.other_client_id) is None
        tenant = db.session.get(Tenant, world.a.tenant_id)
        assert [c.name for c in tenant.clients] == [world.a.client_name]


def test_audit_events_follow_the_client_scope_but_staff_keep_tenant_wide_ones(world):
    with bound_to(db.session, world.a.tenant_id):
        nobody = Actor(tenant=db.session.get(Tenant, world.a.tenant_id))
        for client_id in (world.a.client_id, world.a.other_client_id, None):
            audit.record("test.event", actor=nobody, client_id=client_id)
        db.session.commit()
    seen_by = {}
    for who, visibility in (
        ("client user", ClientVisibility(client_id=world.a.client_id)),
        ("assigned staff", ClientVisibility(assigned_to=world.a.admin_id)),
    ):
        with bound_to(db.session, world.a.tenant_id, visibility):
            seen_by[who] = set(
                db.session.scalars(
                    select(AuditEvent.client_id).where(AuditEvent.action == "test.event")
                )
            )
    assert seen_by == {"client user": {world.a.client_id}, "assigned staff": {None}}


def test_joined_and_aliased_queries_are_scoped_too(world):
    with bound_to(db.session, world.a.tenant_id):
        rows = db.session.execute(
            select(Contact.name, Client.name).join(Contact.client).order_by(Contact.name)
        ).all()
    assert {client for _, client in rows} <= {world.a.client_name, world.a.other_client_name}
    assert len(rows) == 2


def test_bulk_update_touches_only_the_bound_tenant(world):
    with bound_to(db.session, world.a.tenant_id):
        db.session.execute(update(Client).values(phone="555"))
        db.session.commit()
    with cross_tenant(db.session):
        phones = dict(db.session.execute(select(Client.tenant_id, Client.phone)).all())
    assert phones[world.a.tenant_id] == "555"
    assert phones[world.b.tenant_id] is None


def test_query_with_no_tenant_bound_fails_closed(world):
    db.session.expunge_all()
    with pytest.raises(TenancyError):
        db.session.scalars(select(Client)).all()
    with pytest.raises(TenancyError):
        db.session.get(Contact, world.a.contact_id)


def test_cross_tenant_context_is_explicit_and_sees_everything(world):
    with cross_tenant(db.session):
        assert db.session.scalar(select(func.count()).select_from(Client)) == 4
    with pytest.raises(TenancyError):
        db.session.scalar(select(func.count()).select_from(Client))


def test_new_rows_take_the_bound_tenant(world):
    with bound_to(db.session, world.a.tenant_id):
        contact = Contact(client_id=world.a.client_id, name="New Person")
        db.session.add(contact)
        db.session.flush()
        assert contact.tenant_id == world.a.tenant_id


def test_writing_a_row_of_another_tenant_is_refused(world):
    with bound_to(db.session, world.a.tenant_id):
        db.session.add(
            Contact(tenant_id=world.b.tenant_id, client_id=world.b.client_id, name="Intruder")
        )
        with pytest.raises(TenancyError):
            db.session.flush()
    db.session.rollback()


def test_database_refuses_a_contact_under_another_tenants_client(world):
    """Even with the ORM guard lifted, the composite foreign key says no."""
    with cross_tenant(db.session), pytest.raises(IntegrityError):
        db.session.execute(
            insert(Contact).values(
                tenant_id=world.a.tenant_id, client_id=world.b.client_id, name="Cross"
            )
        )
        db.session.flush()
    db.session.rollback()


def test_database_refuses_a_client_user_of_another_tenants_client(world):
    from portal.models import User

    with cross_tenant(db.session):
        user = db.session.get(User, world.a.client_user_id)
        user.client_id = world.b.client_id
        with pytest.raises(IntegrityError):
            db.session.flush()
    db.session.rollback()


def test_every_request_is_scoped_to_the_tenant_and_a_client_users_client(app, world):
    """A view that forgets every filter still shows a client user only its own client's
    contacts, and staff only their own tenant's."""
    from portal.permissions import SIGNED_IN, permission
    from tests.conftest import login

    @permission(SIGNED_IN)
    def careless_view():
        return "|".join(sorted(db.session.scalars(select(Contact.name))))

    app.add_url_rule("/<tenant>/careless", "careless", careless_view)
    expectations = {
        world.a.client_user_email: world.a.contact_name,
        world.a.admin_email: f"{world.a.contact_name}|{world.a.other_contact_name}",
    }
    for login_name, expected in expectations.items():
        browser = app.test_client()
        login(browser, world.a.slug, login_name)
        assert browser.get(f"/{world.a.slug}/careless").get_data(as_text=True) == expected
