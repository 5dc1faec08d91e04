"""Fixtures: a real database (SQLite, or PostgreSQL when PORTAL_TEST_DATABASE_URL names a
server), migrated with Alembic once per run and emptied after every test."""

import contextvars
import os
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2 import BytecodeCache
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from portal import create_app
from portal.extensions import db, limiter
from portal.models import (
    Branch,
    ChannelKind,
    ChatChannel,
    ChatMember,
    Client,
    ClientAssignment,
    Contact,
    ContactProposal,
    CreditAccount,
    CreditAccountClient,
    DataExport,
    EntryKind,
    ExportState,
    LedgerEntry,
    Passkey,
    RequestAttachment,
    RequestCounter,
    RequestKind,
    RequestMessage,
    Role,
    RolePermission,
    SupportRequest,
    SystemRole,
    Tenant,
    User,
    UserKind,
    UserSession,
    UserStatus,
)
from portal.models.base import utcnow
from portal.services import chat, search, sessions
from portal.services.actor import Actor
from portal.services.tenants import create_staff_user, create_tenant, role_named, system_role
from portal.storage import storage
from portal.tenancy import bound_to, cross_tenant
from tests.soft_authenticator import SoftAuthenticator
from tests.throwaway import throwaway_database

PASSWORD = "correct horse battery"
#: The fixtures' users' password, hashed once and cheaply: every sign-in of a test checks
#: it, and scrypt is slow by design (a tenth of the suite's time went there). What users
#: choose is hashed with scrypt (``User.set_password``; test_password_reset checks it).
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")
CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture(scope="session")
def database_uri():
    server_url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    with throwaway_database(server_url, prefix="portal_test_") as url:
        yield url


def make_config(database_uri: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "PORTAL_ENV": "testing",
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "MAIL_BACKEND": "locmem",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PORTAL_BASE_URL": "http://portal.test",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A real Redis for the tests of production storage; CI always provides one."""
    url = os.environ.get("PORTAL_TEST_REDIS_URL")
    if not url:
        pytest.skip(
            "PORTAL_TEST_REDIS_URL is not set (dev.py test sets it when Redis answers on "
            "127.0.0.1:6379)"
        )
    return url


@pytest.fixture(scope="session")
def migrated_database(database_uri):
    app = create_app(make_config(database_uri))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_uri


@pytest.fixture
def app_config():
    """Tests override settings by requesting this fixture and updating it."""
    return {}


class SharedBytecode(BytecodeCache):
    """Every test builds its own app, whose Jinja would compile each template again: the
    compiled code is kept for the session instead (keyed by the template's source, so an
    edited template is compiled anew)."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = SharedBytecode()


class IsolatedClient(FlaskClient):
    """Runs every request in a fresh context, as a server would: its own app context,
    database session, ``g`` and Flask-Login user, whatever context the test has pushed.
    Without this, requests would share the test's session and cached user."""

    def open(self, *args, **kwargs):
        context = contextvars.Context()
        response = context.run(super().open, *args, **kwargs)
        #: The view answered with an iterator (a streamed body), not a finished body.
        response.streamed = response.is_streamed
        if response.is_streamed:  # a server reads the body in the request's context too
            context.run(response.make_sequence)
        return response


@pytest.fixture
def app(migrated_database, app_config, tmp_path):
    config = {"UPLOADS_DIR": str(tmp_path / "uploads"), **app_config}  # never instance/
    app = create_app(make_config(migrated_database, **config))
    app.test_client_class = IsolatedClient
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    with app.app_context():
        limiter.reset()
        yield app
        db.session.rollback()
        with cross_tenant(db.session):
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of this name, which runs every test inside a
    request: commands and workers run outside one, and so must their tests."""


@pytest.fixture
def client(app):
    """A browser; unlike pytest-flask's, it keeps no request context alive between calls."""
    return app.test_client()


@dataclass
class TenantWorld:
    """One tenant of the two-tenant fixture, with the ids tests need."""

    tenant_id: int
    slug: str
    name: str
    admin_email: str
    tech_email: str
    client_id: int
    client_name: str
    other_client_id: int
    other_client_name: str
    contact_id: int
    contact_name: str
    other_contact_id: int
    other_contact_name: str
    client_user_email: str
    client_user_id: int
    admin_id: int
    #: A signed-in session of the administrator.
    admin_session_id: int
    #: A waiting contact proposal made by the client user for its own client.
    proposal_id: int
    #: A waiting contact proposal about the other client.
    other_proposal_id: int
    #: The client's time credit account (customer ID = client code), at 50 minutes.
    account_id: int
    #: The other client's account.
    other_account_id: int
    #: A branch of the tenant that nothing refers to.
    branch_id: int
    #: The editable Technician role, which the technician holds.
    role_id: int
    #: A support request of the client, with a screenshot, a public reply and an
    #: internal note that has a file of its own.
    request_id: int
    #: The screenshot sent with the request.
    file_id: int
    #: The internal note's file, which no client user may ever read.
    note_file_id: int
    #: The internal note's text.
    note_text: str
    #: A support request of the other client, with its file.
    other_request_id: int
    other_file_id: int
    #: A chat channel of the administrator and the technician, with a message of the
    #: administrator that mentions the technician.
    channel_id: int
    message_id: int
    #: A channel of the technician alone, with its name and a message: the
    #: administrator is no member of it.
    private_channel_id: int
    private_channel_name: str
    private_message_id: int
    private_message_text: str
    #: A ready data export of the client user (its ZIP stored), and one of the other
    #: client's, asked for by someone else.
    export_id: int
    other_export_id: int


def _build_tenant(slug: str, label: str) -> TenantWorld:
    tenant = create_tenant(slug, f"{label} Services", administrators_two_factor=False)
    with bound_to(db.session, tenant.id):
        admin = create_staff_user(
            email=f"admin@{slug}.test",
            name=f"{label} Admin",
            password=None,
            role=system_role(SystemRole.ADMINISTRATOR),
        )
        tech = create_staff_user(
            email=f"tech@{slug}.test",
            name=f"{label} Tech",
            password=None,
            role=role_named("Technician"),
            initials="TT",
        )
        clients = []
        for index in (1, 2):
            client = Client(
                code=f"{slug[:3].upper()}{index}",
                name=f"{label} Client {index} Ltd",
                billing_address=f"{index} {label} Street",
                billing_city="Montréal",
                billing_province="QC",
                billing_country="CA",
                billing_postal_code="H2X 1Y4",
                shipping_same_as_billing=index == 1,
                shipping_city="Laval",
                shipping_country="CA",
            )
            db.session.add(client)
            db.session.flush()
            search.reindex(client)
            contact = Contact(
                client_id=client.id,
                name=f"{label} Contact {index}",
                email=f"contact{index}@{slug}-client.test",
            )
            db.session.add(contact)
            db.session.flush()
            clients.append((client, contact))
        (client, contact), (other_client, other_contact) = clients
        client_user = User(
            code=f"{client.code}1",
            email=contact.email,
            name=contact.name,
            role=system_role(SystemRole.CLIENT),
            kind=UserKind.CLIENT,
            client_id=client.id,
            contact_id=contact.id,
        )
        db.session.add(client_user)
        for user in (admin, tech, client_user):
            user.password_hash = PASSWORD_HASH
            user.status = UserStatus.ACTIVE
        db.session.flush()
        sessions.start(admin, "192.0.2.250", "Fixture browser")
        proposals = [
            ContactProposal(
                client_id=owner.id,
                proposed_by_id=client_user.id,
                values={"name": f"{owner.name} Newcomer"},
            )
            for owner in (client, other_client)
        ]
        db.session.add_all(proposals)
        branch = Branch(name=f"{label} Branch")
        db.session.add(branch)
        accounts = []
        for owner in (client, other_client):  # written directly: no audit event in the logs
            account = CreditAccount(
                customer_id=owner.code,
                billing_client_id=owner.id,
                balance_minutes=50,
                entry_count=1,
            )
            account.links.append(CreditAccountClient(client_id=owner.id))
            db.session.add(account)
            db.session.flush()
            db.session.add(
                LedgerEntry(
                    account_id=account.id,
                    position=1,
                    kind=EntryKind.PURCHASE,
                    minutes=50,
                    delta=50,
                    credit_before=0,
                    credit_after=50,
                    summary="Opening purchase",
                    client_id=owner.id,
                )
            )
            accounts.append(account)
        db.session.flush()
        requests = _requests(client, other_client, contact, tech)
        channels = _chat(tenant, admin, tech, label)
        exports = _exports(client_user, other_client, admin)
        return TenantWorld(
            tenant_id=tenant.id,
            slug=slug,
            name=tenant.name,
            admin_email=admin.email,
            tech_email=tech.email,
            client_id=client.id,
            client_name=client.name,
            other_client_id=other_client.id,
            other_client_name=other_client.name,
            contact_id=contact.id,
            contact_name=contact.name,
            other_contact_id=other_contact.id,
            other_contact_name=other_contact.name,
            client_user_email=client_user.email,
            client_user_id=client_user.id,
            admin_id=admin.id,
            admin_session_id=db.session.scalar(
                select(UserSession.id).where(UserSession.user_id == admin.id)
            ),
            proposal_id=proposals[0].id,
            other_proposal_id=proposals[1].id,
            account_id=accounts[0].id,
            other_account_id=accounts[1].id,
            branch_id=branch.id,
            role_id=tech.role_id,
            **requests,
            **channels,
            **exports,
        )


#: A screenshot: a 2 × 2 PNG.
SCREENSHOT = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000208020000"
    "00fdd49a730000001249444154789c63f8cfc0f09f818181e13f0300"
    "1efe04fcb1e5d0a50000000049454e44ae426082"
)


def _requests(client, other_client, contact, tech) -> dict:
    """A request of each client; the first with a public reply and an internal note."""
    made, year = {}, utcnow().year
    for prefix, owner, number in (("", client, 1), ("other_", other_client, 2)):
        request = SupportRequest(
            year=year,
            number=number,
            kind=RequestKind.MALFUNCTION,
            subject=f"{owner.name} cannot print",
            description="Nothing happens when I click Print.",
            client_id=owner.id,
            contact_id=contact.id if owner is client else None,
        )
        db.session.add(request)
        db.session.flush()
        key = f"tenants/{owner.tenant_id}/requests/{request.id}/screen.png"
        storage().save(key, SCREENSHOT)
        attachment = RequestAttachment(
            request_id=request.id,
            client_id=owner.id,
            storage_key=key,
            filename="screen.png",
            content_type="image/png",
            size=len(SCREENSHOT),
        )
        db.session.add(attachment)
        db.session.flush()
        made[f"{prefix}request_id"], made[f"{prefix}file_id"] = request.id, attachment.id
    db.session.add(RequestCounter(year=year, last_number=2))
    request_id = made["request_id"]
    note_text = f"Internal: {client.name} owes us money"
    db.session.add_all(
        [
            RequestMessage(
                request_id=request_id,
                client_id=client.id,
                author_id=tech.id,
                body="We are looking into it.",
            ),
            note := RequestMessage(
                request_id=request_id,
                client_id=client.id,
                author_id=tech.id,
                internal=True,
                body=note_text,
            ),
        ]
    )
    db.session.flush()
    key = f"tenants/{client.tenant_id}/requests/{request_id}/note.pdf"
    storage().save(key, b"%PDF-1.4 internal")
    note_file = RequestAttachment(
        request_id=request_id,
        message_id=note.id,
        client_id=client.id,
        internal=True,
        storage_key=key,
        filename="note.pdf",
        content_type="application/pdf",
        size=17,
    )
    db.session.add(note_file)
    db.session.flush()
    return made | {"note_file_id": note_file.id, "note_text": note_text}


def _exports(client_user, other_client, admin) -> dict:
    """A ready export of the client user, and one of the other client by someone else."""
    made, now = {}, utcnow()
    for prefix, client_id, user_id in (
        ("", client_user.client_id, client_user.id),
        ("other_", other_client.id, admin.id),
    ):
        export = DataExport(
            client_id=client_id,
            user_id=user_id,
            state=ExportState.READY,
            total=1,
            done=1,
            created_at=now,
            finished_at=now,
            expires_at=now + timedelta(days=7),
        )
        db.session.add(export)
        db.session.flush()
        # Its file is not stored: the tests that download one store it (``store_export``).
        export.storage_key = f"tenants/{client_user.tenant_id}/exports/{export.id}.zip"
        made[f"{prefix}export_id"] = export.id
    return made


def _chat(tenant, admin, tech, label: str) -> dict:
    """A channel of the administrator and the technician, and one of the technician
    alone, each with a message (channels written directly: no audit event in the logs)."""
    made = {}
    for prefix, author, members, name, text in (
        ("", admin, [admin, tech], f"{label} Team", f"Hello @{label}.Tech, **welcome**"),
        ("private_", tech, [tech], f"{label} Secret corner", f"{label} private chat words"),
    ):
        channel = ChatChannel(
            kind=ChannelKind.CHANNEL, name=name, color="#2e7d32", created_by_id=author.id
        )
        db.session.add(channel)
        db.session.flush()
        db.session.add_all(ChatMember(channel_id=channel.id, user_id=m.id) for m in members)
        message = chat.post(channel, text, actor=Actor(tenant=tenant, user=author))
        made[f"{prefix}channel_id"], made[f"{prefix}message_id"] = channel.id, message.id
    made["private_channel_name"] = f"{label} Secret corner"
    made["private_message_text"] = f"{label} private chat words"
    return made


@dataclass
class World:
    """Two tenants, each with staff, two clients with a contact each, and a client user."""

    a: TenantWorld
    b: TenantWorld


@pytest.fixture
def world(app) -> World:
    built = World(a=_build_tenant("alpha", "Alpha"), b=_build_tenant("beta", "Beta"))
    db.session.commit()
    return built


@dataclass
class SharedAccountWorld:
    """Tenant ``a`` of the world with its clients in two branches and one account
    shared across them, seen by staff who see only part of it."""

    world: World
    #: An account billed to the other client (the other branch) that also serves the client.
    account_id: int
    #: A technician limited to the client's branch.
    branch_tech_email: str
    #: A technician without ``clients.view_all``, assigned to the client only.
    assigned_tech_email: str
    #: Names these two must never see: the other client's and its contact's.
    hidden_names: tuple[str, ...]


@pytest.fixture
def shared_world(world) -> SharedAccountWorld:
    tenant = world.a
    with bound_to(db.session, tenant.tenant_id):
        client = db.session.get(Client, tenant.client_id)
        other_client = db.session.get(Client, tenant.other_client_id)
        client.branch = Branch(name="Client's branch")
        other_client.branch = Branch(name="Other branch")
        account = CreditAccount(
            customer_id="SHARED",
            billing_client_id=other_client.id,
            balance_minutes=0,
            entry_count=0,
        )
        account.links += [
            CreditAccountClient(client_id=other_client.id),
            CreditAccountClient(client_id=client.id),
        ]
        db.session.add(account)
        branch_tech = create_staff_user(
            email="branch-tech@alpha.test",
            name="Branch Tech",
            password=None,
            role=role_named("Technician"),
            initials="BT",
        )
        branch_tech.branch = client.branch
        assigned_role = Role(name="Assigned technician")
        assigned_role.grants = [
            RolePermission(permission=grant.permission)
            for grant in role_named("Technician").grants
            if grant.permission != "clients.view_all"
        ]
        assigned_tech = create_staff_user(
            email="assigned-tech@alpha.test",
            name="Assigned Tech",
            password=None,
            role=assigned_role,
            initials="AT",
        )
        for user in (branch_tech, assigned_tech):
            user.password_hash = PASSWORD_HASH
            user.status = UserStatus.ACTIVE
        db.session.flush()
        db.session.add(ClientAssignment(client_id=client.id, user_id=assigned_tech.id))
        db.session.flush()
        built = SharedAccountWorld(
            world=world,
            account_id=account.id,
            branch_tech_email=branch_tech.email,
            assigned_tech_email=assigned_tech.email,
            hidden_names=(tenant.other_client_name, tenant.other_contact_name),
        )
    db.session.commit()
    return built


def acting(user: User, address: str = "192.0.2.10") -> Actor:
    """Who acts when a test calls a service directly: ``user``, in their tenant."""
    return Actor(tenant=db.session.get(Tenant, user.tenant_id), user=user, address=address)


def csrf_token(response) -> str:
    match = CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client, slug: str, login_name: str, password: str = PASSWORD, **kwargs):
    page = client.get(f"/{slug}/login")
    return client.post(
        f"/{slug}/login",
        data={"csrf_token": csrf_token(page), "login": login_name, "password": password},
        **kwargs,
    )


def browser_of(app, slug: str, email: str):
    """A browser of its own, signed in as ``email``."""
    browser = app.test_client()
    assert login(browser, slug, email).status_code == 302
    return browser


def user_by_email(email: str) -> User:
    """The user as stored now, whatever the tenant."""
    db.session.expire_all()
    with cross_tenant(db.session):
        return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def signed_in(client):
    """Sign ``client`` in; returns the client for chaining."""

    def sign_in(slug: str, login_name: str, password: str = PASSWORD):
        response = login(client, slug, login_name, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


#: In these sweeps each tenant's administrator has a passkey, whose pages take its id:
#: its id by tenant, and the device that holds it by the administrator's email.
PASSKEY_IDS: dict[int, int] = {}
DEVICES: dict[str, SoftAuthenticator] = {}


@pytest.fixture
def administrators_passkeys(request):
    """For the route sweeps (which sign in with ``tests.test_routes.visitor``)."""
    PASSKEY_IDS.clear()
    DEVICES.clear()
    if "world" not in request.fixturenames:
        return
    for world in (request.getfixturevalue("world").a, request.getfixturevalue("world").b):
        device = DEVICES[world.admin_email] = SoftAuthenticator()
        with bound_to(db.session, world.tenant_id):
            passkey = Passkey(
                user_id=world.admin_id,
                credential_id=device.credential_id,
                public_key=device.public_key(),
                name="Sweep key",
            )
            db.session.add(passkey)
            db.session.commit()
            PASSKEY_IDS[world.tenant_id] = passkey.id
