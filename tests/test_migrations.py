"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


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
