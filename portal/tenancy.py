"""Binding a request to a tenant, and the automatic scoping of every query.

The rule: a query against a tenant-owned model only ever sees the bound
tenant's rows, and a restricted user (a client user, staff limited to their
assigned clients or to a branch) only the clients it may see, without the
query saying so. Nothing is scoped by hand. When no tenant is bound, such a
query raises instead of returning everything (fail closed); code that must
cross tenants (the CLI, workers) says so with ``cross_tenant()``.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from functools import cache, lru_cache

from sqlalchemy import ColumnElement, ForeignKey, Table, event
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.sql import visitors

TENANT_KEY = "portal.tenant_id"
VISIBILITY_KEY = "portal.client_visibility"
CROSS_TENANT_KEY = "portal.cross_tenant"


class TenancyError(RuntimeError):
    """A tenant-owned table was touched with no tenant bound, or across tenants."""


class TenantScoped:
    """Mixin for every table a tenant owns; the scoping hook finds them by it."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - SQLAlchemy's declared_attr signature
        #: The owning tenant; every query is limited to the bound one. Each table leads
        #: its own indexes with it, so it has no index of its own (which would only tempt
        #: a planner into reading the whole tenant).
        return mapped_column(ForeignKey("tenant.id"), nullable=False)


@dataclass(frozen=True)
class ClientVisibility:
    """Which clients of the tenant a user may see; every field set narrows it."""

    #: A client user sees its own client only.
    client_id: int | None = None
    #: Staff without ``clients.view_all`` see the clients assigned to them.
    assigned_to: int | None = None
    #: Branch-limited staff see that branch's clients.
    branch_id: int | None = None
    #: A client user limited to a branch sees their company's records of that branch
    #: where a record has one (support requests); their company stays theirs.
    contact_branch_id: int | None = None

    @property
    def restricted(self) -> bool:
        return any(value is not None for value in astuple(self))

    @classmethod
    def of(cls, user) -> "ClientVisibility":
        """The clients ``user`` may see: what the gate binds to each of their requests,
        and what the jobs that read on their behalf (their data export) bind too."""
        if user.is_client:
            return cls(client_id=user.client_id, contact_branch_id=user.branch_id)
        return cls(
            assigned_to=None if user.can("clients.view_all") else user.id,
            branch_id=user.branch_id,
        )


class ClientOwned(TenantScoped):
    """Mixin for rows that belong to one client: restricted users see only theirs."""

    @classmethod
    def client_scope(cls, visibility: ClientVisibility) -> ColumnElement[bool]:
        raise NotImplementedError


def bind(
    session: Session, tenant_id: int | None, visibility: ClientVisibility | None = None
) -> None:
    """Scope ``session`` to one tenant and, for a restricted user, to the clients it sees."""
    session.info[TENANT_KEY] = tenant_id
    restrict_clients(session, visibility)


def restrict_clients(session: Session, visibility: ClientVisibility | None) -> None:
    session.info[VISIBILITY_KEY] = visibility if visibility and visibility.restricted else None


def bound_tenant_id(session: Session) -> int | None:
    return session.info.get(TENANT_KEY)


def binding(session: Session) -> tuple[int | None, ClientVisibility | None]:
    """What ``session`` is bound to, for binding another session the same way: a
    streamed response reads after the request's own session has been closed."""
    return session.info.get(TENANT_KEY), session.info.get(VISIBILITY_KEY)


@contextmanager
def cross_tenant(session: Session) -> Iterator[Session]:
    """Explicitly lift the tenant scoping, for code that must see every tenant."""
    previous = session.info.get(CROSS_TENANT_KEY, False)
    session.info[CROSS_TENANT_KEY] = True
    try:
        yield session
    finally:
        session.info[CROSS_TENANT_KEY] = previous


@contextmanager
def unrestricted_clients(session: Session) -> Iterator[Session]:
    """Lift the client restriction, never the tenant's, for a figure about a record the
    user has already been allowed to load through it: an account's totals count every
    company the account serves, as its balance does. Say why at each use."""
    previous = session.info.get(VISIBILITY_KEY)
    session.info[VISIBILITY_KEY] = None
    try:
        yield session
    finally:
        session.info[VISIBILITY_KEY] = previous


@contextmanager
def bound_to(
    session: Session, tenant_id: int, visibility: ClientVisibility | None = None
) -> Iterator[Session]:
    """Bind ``session`` to a tenant for the duration of a block (CLI, workers, tests)."""
    previous = (session.info.get(TENANT_KEY), session.info.get(VISIBILITY_KEY))
    bind(session, tenant_id, visibility)
    try:
        yield session
    finally:
        bind(session, *previous)


def _mapped_classes() -> list[type]:
    from portal.extensions import db

    return [mapper.class_ for mapper in db.Model.registry.mappers]


@cache
def _tenant_table_names() -> frozenset[str]:
    return frozenset(
        model.__table__.name for model in _mapped_classes() if issubclass(model, TenantScoped)
    )


@cache
def _client_owned_models() -> tuple[type[ClientOwned], ...]:
    return tuple(model for model in _mapped_classes() if issubclass(model, ClientOwned))


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    """Whether the statement reads or writes a tenant-owned table, however it names it."""
    if any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers):
        return True
    names = _tenant_table_names()
    return any(
        isinstance(element, Table) and element.name in names
        for element in visitors.iterate(state.statement)
    )


@event.listens_for(Session, "do_orm_execute")
def _scope_to_bound_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete) or state.is_column_load:
        return
    info = state.session.info
    if info.get(CROSS_TENANT_KEY):
        return
    tenant_id = info.get(TENANT_KEY)
    if tenant_id is None:
        if _touches_tenant_data(state):
            raise TenancyError(
                "A tenant-owned table was queried with no tenant bound; "
                "bind one or use cross_tenant() where crossing is intended."
            )
        return
    state.statement = state.statement.options(
        *_scoping_options(tenant_id, info.get(VISIBILITY_KEY))
    )


@lru_cache(maxsize=4096)
def _scoping_options(tenant_id: int, visibility: ClientVisibility | None) -> tuple:
    """The criteria that scope a query to a tenant and, for a restricted user, to the
    clients it may see. Built once per tenant and visibility: they never change, and
    building one per client-owned model for every query cost a client user's page more
    than some of its queries took to run."""
    options = [
        with_loader_criteria(
            TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
        )
    ]
    if visibility is not None:
        options += [
            with_loader_criteria(model, model.client_scope(visibility), include_aliases=True)
            for model in _client_owned_models()
        ]
    return tuple(options)


@event.listens_for(Session, "before_flush")
def _stamp_and_guard_writes(session: Session, flush_context, instances) -> None:
    """New rows take the bound tenant; no write may land in another tenant."""
    if session.info.get(CROSS_TENANT_KEY):
        return
    tenant_id = session.info.get(TENANT_KEY)
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if tenant_id is None:
            raise TenancyError("A tenant-owned row was written with no tenant bound.")
        if obj.tenant_id is None and obj in session.new:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenancyError("A row of another tenant was written while a tenant is bound.")
