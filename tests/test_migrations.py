"""The Alembic migrations build exactly the schema the models describe."""

import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import (
    ChannelKind,
    ChatChannel,
    ChatMember,
    ChatProfile,
    CreditAccount,
    Role,
    Tenant,
    User,
    UserKind,
)
from portal.tenancy import cross_tenant
from tests.conftest import make_config
from tests.test_cli import DEMO_PASSWORD, run
from tests.throwaway import throwaway_database


def test_models_and_migrations_agree(app):
    """The test database was built by ``flask db upgrade``; autogenerate must find nothing."""
    migrate_config = app.extensions["migrate"].configure_args
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": migrate_config.get("render_as_batch", False),
            },
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_references_between_tenant_tables_carry_the_tenant():
    """A foreign key from one tenant-owned table to another must include tenant_id,
    so that the database itself refuses a reference across tenants."""
    from portal.tenancy import TenantScoped

    tenant_tables = {
        m.class_.__table__.name
        for m in db.Model.registry.mappers
        if issubclass(m.class_, TenantScoped)
    }
    assert {"client", "contact", "user_account"} <= tenant_tables
    single_column = [
        f"{table.name}.{','.join(c.name for c in fk.columns)} -> {fk.referred_table.name}"
        for table in db.metadata.sorted_tables
        if table.name in tenant_tables
        for fk in table.foreign_key_constraints
        if fk.referred_table.name in tenant_tables and "tenant_id" not in fk.column_keys
    ]
    assert single_column == []


def test_the_running_totals_migration_fills_them_from_each_ledger():
    """0009 gives every existing account its last entry's running totals: the demo's
    accounts, taken back to 0008 and upgraded again, hold the totals they had."""
    with throwaway_database(os.environ.get("PORTAL_TEST_DATABASE_URL"), "portal_m9_") as uri:
        app = create_app(make_config(uri))
        with app.app_context():
            upgrade()
            assert run(app, "demo", "--password", DEMO_PASSWORD).exit_code == 0
            totals = account_totals()
            assert any(normal or free for normal, free in totals.values())
            db.session.remove()
            downgrade(revision="0008_settings")
            upgrade()
            assert account_totals() == totals
            assert run(app, "credit", "verify").exit_code == 0
            db.session.remove()
            db.engine.dispose()


def account_totals() -> dict[int, tuple[int, int]]:
    with cross_tenant(db.session):
        rows = db.session.execute(
            select(CreditAccount.id, CreditAccount.cumulative_normal, CreditAccount.cumulative_free)
        ).all()
    db.session.rollback()
    return {account_id: (normal, free) for account_id, normal, free in rows}


def test_the_chat_migration_gives_every_tenant_its_everyone_channel_with_its_staff():
    """0012 gives each tenant that exists an "Everyone" channel with all its staff as
    members and a chat profile each, and the chat to every staff role: the demo taken
    back to 0011 and upgraded again."""
    with throwaway_database(os.environ.get("PORTAL_TEST_DATABASE_URL"), "portal_m12_") as uri:
        app = create_app(make_config(uri))
        with app.app_context():
            upgrade()
            assert run(app, "demo", "--password", DEMO_PASSWORD).exit_code == 0
            db.session.remove()
            downgrade(revision="0011_requests")
            upgrade()
            with cross_tenant(db.session):
                staff = db.session.execute(
                    select(User.tenant_id, User.id).where(User.kind == UserKind.STAFF)
                ).all()
                members = db.session.execute(
                    select(ChatMember.tenant_id, ChatMember.user_id)
                    .join(ChatChannel, ChatChannel.id == ChatMember.channel_id)
                    .where(ChatChannel.kind == ChannelKind.EVERYONE)
                ).all()
                profiles = db.session.scalars(select(ChatProfile.user_id)).all()
                tenants = db.session.scalar(select(func.count()).select_from(Tenant))
                everyone = db.session.scalar(
                    select(func.count()).where(ChatChannel.kind == ChannelKind.EVERYONE)
                )
                technician = db.session.scalars(
                    select(Role).where(Role.name == "Technician")
                ).first()
                assert "chat.use" in technician.permissions
            assert sorted(members) == sorted(staff) and len(staff) > 3
            assert sorted(profiles) == sorted(user_id for _tenant, user_id in staff)
            assert everyone == tenants == 2
            db.session.remove()
            db.engine.dispose()
