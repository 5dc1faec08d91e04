"""The customers' data rights (issue 22, item 7): a client's contact exports their data
(GDPR articles 15 and 20) through the worker, and staff erase a contact (article 17)
while the ledger, the requests and the log keep working under a stable pseudonym."""

import csv
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.commands import demo
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Contact,
    ContactProposal,
    CreditAccount,
    DataExport,
    ExportState,
    Invitation,
    InvitationState,
    LedgerEntry,
    Passkey,
    ProposalState,
    RecoveryCode,
    RequestMessage,
    Role,
    RolePermission,
    SupportRequest,
    Tenant,
    User,
    UserSession,
    UserStatus,
)
from portal.models.base import utcnow
from portal.services import credit, erasure
from portal.services.tenants import create_staff_user
from portal.storage import storage
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import PASSWORD_HASH, acting, browser_of, csrf_token, login, user_by_email
from tests.test_cli import run
from tests.test_two_factor import age_the_sign_in

# --- Export (articles 15 and 20) ------------------------------------------------------


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    with cross_tenant(db.session):
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def ask_for_export(browser, slug: str):
    page = browser.get(f"/{slug}/account/data")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Prepare my data" in text and "What the file holds" in text
    return browser.post(f"/{slug}/account/data", data={"csrf_token": csrf_token(page)})


def test_a_contact_asks_for_their_data_the_worker_builds_it_and_they_download_it(app, world):
    slug = world.a.slug
    browser = browser_of(app, slug, world.a.client_user_email)
    assert f'href="/{slug}/account/data"' in browser.get(f"/{slug}/account").get_data(True)

    asked = ask_for_export(browser, slug)
    assert asked.status_code == 302
    export_page = asked.location
    waiting = browser.get(export_page)
    text = waiting.get_data(as_text=True)
    assert "Your data is being prepared" in text
    assert '<meta http-equiv="refresh" content="3">' in text, "the page follows the progress"
    assert "Download my data" not in text

    busy = browser.get(f"/{slug}/account/data")
    assert "Prepare my data" not in busy.get_data(as_text=True), "one at a time"
    again = browser.post(
        f"/{slug}/account/data", data={"csrf_token": csrf_token(busy)}, follow_redirects=True
    )
    assert "already being prepared" in again.get_data(as_text=True)
    with bound_to(db.session, world.a.tenant_id):
        assert (
            len(
                db.session.scalars(
                    select(DataExport).where(DataExport.state == ExportState.QUEUED)
                ).all()
            )
            == 1
        ), "one export in progress at most"

    result = run(app, "data", "build-exports")
    assert result.exit_code == 0, result.output
    assert "1 built" in result.output

    ready = browser.get(export_page).get_data(as_text=True)
    assert "Ready to download" in ready and 'http-equiv="refresh"' not in ready
    link = re.search(r'href="([^"]+/download)"', ready).group(1)
    download = browser.get(link)
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    assert download.headers["Content-Disposition"].startswith("attachment")

    archive = zipfile.ZipFile(io.BytesIO(download.data))
    names = set(archive.namelist())
    assert names == {
        "README.txt",
        "me.json",
        "contact.json",
        "company.json",
        "contacts.json",
        "contacts.csv",
        "time-credit.json",
        "time-credit.csv",
        "requests.json",
        "requests.csv",
        "audit.json",
        "audit.csv",
    }
    me = json.loads(archive.read("me.json"))
    assert me["email"] == world.a.client_user_email and me["second_factor"] is False
    assert me["sessions"] and me["sessions"][0]["browser"] is not None
    assert json.loads(archive.read("contact.json"))["name"] == world.a.contact_name
    assert json.loads(archive.read("company.json"))["name"] == world.a.client_name
    contacts = list(csv.DictReader(io.StringIO(archive.read("contacts.csv").decode())))
    assert [row["name"] for row in contacts] == [world.a.contact_name]
    entries = list(csv.DictReader(io.StringIO(archive.read("time-credit.csv").decode())))
    assert [(row["summary"], row["credit_after"]) for row in entries] == [
        ("Opening purchase", "50")
    ]
    requests = json.loads(archive.read("requests.json"))
    assert len(requests) == 1
    assert [m["text"] for m in requests[0]["messages"]] == ["We are looking into it."]
    assert len(list(csv.DictReader(io.StringIO(archive.read("requests.csv").decode())))) == 1
    audit_rows = json.loads(archive.read("audit.json"))
    assert {"auth.login", "data.export_requested"} <= {row["action"] for row in audit_rows}
    assert "me.json" in archive.read("README.txt").decode()

    everything = b"".join(archive.read(name) for name in names).decode()
    for hidden in (
        world.a.note_text,  # an internal note
        world.a.other_client_name,  # another client of the tenant
        world.a.other_contact_name,
        world.b.client_name,  # another tenant
        world.b.contact_name,
        world.b.name,
    ):
        assert hidden not in everything, hidden

    with bound_to(db.session, world.a.tenant_id):
        export = db.session.get(DataExport, int(export_page.rstrip("/").rsplit("/", 1)[1]))
        assert export.state is ExportState.READY and export.done == export.total > 0
    for action in ("data.export_requested", "data.export_built", "data.export_downloaded"):
        assert len(events(action)) == 1, action


def test_an_export_is_read_as_its_user_sees_the_portal(app, world):
    """The guard this feature leans on: built with the tenant and the client visibility
    bound, an export of the other client's data can never be written. Seen failing once
    with the visibility left out of ``build`` (the other client's contact appeared)."""
    browser = browser_of(app, world.a.slug, world.a.client_user_email)
    ask_for_export(browser, world.a.slug)
    assert run(app, "data", "build-exports").exit_code == 0
    with bound_to(db.session, world.a.tenant_id):
        export = db.session.scalars(select(DataExport).order_by(DataExport.id.desc())).first()
        data = storage().read(export.storage_key)
    archive = zipfile.ZipFile(io.BytesIO(data))
    contacts = json.loads(archive.read("contacts.json"))
    assert [row["name"] for row in contacts] == [world.a.contact_name]
    messages = [m for r in json.loads(archive.read("requests.json")) for m in r["messages"]]
    with bound_to(db.session, world.a.tenant_id):
        internal = db.session.scalars(
            select(RequestMessage.body).where(RequestMessage.internal.is_(True))
        ).all()
    assert internal and not any(m["text"] in internal for m in messages)


def store_export(tenant_id: int, export_id: int) -> str:
    """Store a small ZIP as the file of a fixture's export; its key."""
    with bound_to(db.session, tenant_id):
        export = db.session.get(DataExport, export_id)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as written:
            written.writestr("README.txt", "Fixture export")
        storage().save(export.storage_key, archive.getvalue())
        export.size = len(archive.getvalue())
        db.session.commit()
        return export.storage_key


def test_only_the_user_who_asked_sees_and_downloads_an_export(app, world):
    slug = world.a.slug
    store_export(world.a.tenant_id, world.a.export_id)
    client_user = browser_of(app, slug, world.a.client_user_email)
    own = client_user.get(f"/{slug}/account/data/{world.a.export_id}/download")
    assert own.status_code == 200 and own.mimetype == "application/zip"
    for url in (
        f"/{slug}/account/data/{world.a.other_export_id}",
        f"/{slug}/account/data/{world.a.other_export_id}/download",
        f"/{slug}/account/data/{world.b.export_id}",
    ):
        assert client_user.get(url).status_code == 404, url
    staff = browser_of(app, slug, world.a.admin_email)
    assert staff.get(f"/{slug}/account/data/{world.a.export_id}").status_code == 403
    other_tenant = browser_of(app, world.b.slug, world.b.client_user_email)
    assert other_tenant.get(f"/{world.b.slug}/account/data/{world.a.export_id}").status_code == 404


def test_expired_exports_are_deleted_with_their_file(app, world):
    key = store_export(world.a.tenant_id, world.a.export_id)
    with bound_to(db.session, world.a.tenant_id):
        export = db.session.get(DataExport, world.a.export_id)
        export.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert storage().exists(key)
    result = run(app, "data", "build-exports")
    assert result.exit_code == 0 and "1 expired removed" in result.output
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.get(DataExport, world.a.export_id) is None
        assert db.session.get(DataExport, world.a.other_export_id) is not None
    assert not storage().exists(key)
    browser = browser_of(app, world.a.slug, world.a.client_user_email)
    assert browser.get(f"/{world.a.slug}/account/data/{world.a.export_id}").status_code == 404


def test_the_outbox_worker_builds_the_exports_at_each_pass(app, world, monkeypatch):
    browser = browser_of(app, world.a.slug, world.a.client_user_email)
    export_page = ask_for_export(browser, world.a.slug).location

    def stop(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("portal.commands.time.sleep", stop)
    result = run(app, "outbox", "work", "--interval", "0")
    assert "1 built" in result.output, result.output
    assert "Ready to download" in browser.get(export_page).get_data(as_text=True)


# --- Erasure (article 17) -------------------------------------------------------------


def erase_page(browser, slug: str, contact_id: int):
    return browser.get(f"/{slug}/contacts/{contact_id}/erase")


def test_staff_erase_a_contact_who_is_signed_out_and_kept_only_as_a_pseudonym(app, world):
    slug, tenant = world.a.slug, world.a
    customer = browser_of(app, slug, tenant.client_user_email)
    # A refused sign-in keeps the login tried in the log: it must be scrubbed too.
    assert login(app.test_client(), slug, tenant.client_user_email, "wrong").status_code == 200
    admin = browser_of(app, slug, tenant.admin_email)
    card = admin.get(f"/{slug}/contacts/{tenant.contact_id}").get_data(as_text=True)
    assert "Erase this contact" in card

    page = erase_page(admin, slug, tenant.contact_id)
    assert page.status_code == 200 and "cannot be undone" in page.get_data(as_text=True)
    unticked = admin.post(
        f"/{slug}/contacts/{tenant.contact_id}/erase", data={"csrf_token": csrf_token(page)}
    )
    assert "Tick the box" in unticked.get_data(as_text=True)
    with bound_to(db.session, tenant.tenant_id):
        assert db.session.get(Contact, tenant.contact_id).erased_at is None, "nothing erased"

    done = admin.post(
        f"/{slug}/contacts/{tenant.contact_id}/erase",
        data={"csrf_token": csrf_token(page), "confirm": "y"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    with bound_to(db.session, tenant.tenant_id):
        contact = db.session.get(Contact, tenant.contact_id)
        pseudonym = contact.pseudonym
        assert re.fullmatch(r"ANON-[0-9A-Z]{6}", pseudonym)
        assert contact.name == pseudonym and contact.email is None and contact.erased_at
        user = db.session.get(User, tenant.client_user_id)
        assert user.name == pseudonym
        assert user.email == f"{pseudonym.lower()}@erased.invalid"
        assert user.password_hash is None and user.status is UserStatus.DISABLED
        live = db.session.scalars(
            select(UserSession).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        ).all()
        assert live == []
        details = json.dumps(db.session.scalars(select(AuditEvent.details)).all())
        erased = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "contact.erased")
        ).one()
    assert tenant.contact_name not in details and tenant.client_user_email not in details
    assert erased.details["contact"] == pseudonym
    assert tenant.contact_name not in json.dumps(erased.details)

    # Their browser is signed out, and they cannot sign in again.
    assert "/login" in customer.get(f"/{slug}/account").location
    assert login(app.test_client(), slug, tenant.client_user_email).status_code == 200

    # The card shows the erasure and offers no form; the log shows the pseudonym.
    shown = admin.get(f"/{slug}/contacts/{tenant.contact_id}").get_data(as_text=True)
    assert "was erased" in shown and pseudonym in shown and "Erase this contact" not in shown
    log = admin.get(f"/{slug}/admin/audit").get_data(as_text=True)
    assert pseudonym in log and tenant.contact_name not in log
    assert "Contact erased" in log

    # Erased for good: neither erased again, nor edited back, nor given access.
    again = erase_page(admin, slug, tenant.contact_id).get_data(as_text=True)
    assert "already erased" in again
    edited = admin.post(
        f"/{slug}/contacts/{tenant.contact_id}",
        data={"csrf_token": csrf_token(page), "name": "Back Again"},
        follow_redirects=True,
    )
    assert "can no longer be changed" in edited.get_data(as_text=True)
    enabled = admin.post(
        f"/{slug}/contacts/{tenant.contact_id}/access/enable",
        data={"csrf_token": csrf_token(page)},
    )
    assert enabled.status_code == 302
    db.session.expire_all()
    with bound_to(db.session, tenant.tenant_id):
        assert db.session.get(Contact, tenant.contact_id).name == pseudonym
        assert db.session.get(User, tenant.client_user_id).status is UserStatus.DISABLED


def balances() -> dict[int, tuple[int, int, int, int]]:
    db.session.expire_all()
    with cross_tenant(db.session):
        return {
            account.id: (
                account.balance_minutes,
                account.entry_count,
                account.cumulative_normal,
                account.cumulative_free,
            )
            for account in db.session.scalars(select(CreditAccount))
        }


def test_erasing_a_demo_contact_keeps_every_balance_and_the_ledger_verifies(app):
    demo.load("demo password 123")
    db.session.commit()
    before = balances()
    with cross_tenant(db.session):
        entries_before = db.session.scalars(select(LedgerEntry.credit_after)).all()
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "demo"))
    with bound_to(db.session, tenant.id):
        joseph = db.session.scalar(select(User).where(User.email == "jszczygiel@jmactions.com"))
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.test"))
        contact = joseph.contact
        requests = db.session.scalar(
            select(SupportRequest.id).where(SupportRequest.contact_id == contact.id).limit(1)
        )
        pseudonym = erasure.erase_contact(contact, actor=acting(admin))
        db.session.commit()
    assert balances() == before
    with cross_tenant(db.session):
        assert db.session.scalars(select(LedgerEntry.credit_after)).all() == entries_before
        assert credit.verify(db.session) == []
    result = run(app, "credit", "verify")
    assert result.exit_code == 0, result.output
    with bound_to(db.session, tenant.id):
        if requests is not None:  # the requests stay, under the pseudonym
            request = db.session.get(SupportRequest, requests)
            assert request.contact.name == pseudonym
        assert db.session.get(User, joseph.id).name == pseudonym


def test_erasing_needs_the_permission_and_the_password_of_the_last_ten_minutes(app, world):
    slug = world.a.slug
    tech = browser_of(app, slug, world.a.tech_email)
    page = tech.get(f"/{slug}/contacts/{world.a.contact_id}")
    assert "Erase this contact" not in page.get_data(as_text=True)
    assert erase_page(tech, slug, world.a.contact_id).status_code == 403
    refused = tech.post(
        f"/{slug}/contacts/{world.a.contact_id}/erase",
        data={"csrf_token": csrf_token(page), "confirm": "y"},
    )
    assert refused.status_code == 403

    admin = browser_of(app, slug, world.a.admin_email)
    page = erase_page(admin, slug, world.a.contact_id)
    age_the_sign_in(11)
    asked = admin.post(
        f"/{slug}/contacts/{world.a.contact_id}/erase",
        data={"csrf_token": csrf_token(page), "confirm": "y"},
    )
    assert asked.status_code == 401 and "Confirm it is you" in asked.get_data(as_text=True)
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.get(Contact, world.a.contact_id).erased_at is None


def test_a_lesser_staff_user_cannot_erase_the_contact_of_an_administrator(app, world):
    """``authority.check_user``: the contact's user holds permissions the eraser lacks."""
    slug = world.a.slug
    with bound_to(db.session, world.a.tenant_id):
        role = Role(name="Erasers")
        role.grants = [
            RolePermission(permission=name)
            for name in ("clients.view", "clients.view_all", "contacts.edit", "contacts.erase")
        ]
        eraser = create_staff_user(
            email="eraser@alpha.test", name="Eraser", password=None, role=role
        )
        eraser.password_hash, eraser.status = PASSWORD_HASH, UserStatus.ACTIVE
        db.session.get(User, world.a.admin_id).contact_id = world.a.other_contact_id
        db.session.commit()
    browser = browser_of(app, slug, "eraser@alpha.test")
    page = erase_page(browser, slug, world.a.other_contact_id)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "holds permissions you do not" in text
    assert 'name="confirm"' not in text
    browser.post(
        f"/{slug}/contacts/{world.a.other_contact_id}/erase",
        data={"csrf_token": csrf_token(browser.get(f"/{slug}/")), "confirm": "y"},
    )
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.get(Contact, world.a.other_contact_id).erased_at is None
    # The same user erases an ordinary client's contact.
    page = erase_page(browser, slug, world.a.contact_id)
    done = browser.post(
        f"/{slug}/contacts/{world.a.contact_id}/erase",
        data={"csrf_token": csrf_token(page), "confirm": "y"},
    )
    assert done.status_code == 302
    assert user_by_email(world.a.client_user_email) is None, "the address is gone"


@pytest.mark.parametrize("role", ["Sales administration", "Technician", "Staff"])
def test_only_the_administrator_holds_the_erasure_by_default(app, world, role):
    with bound_to(db.session, world.a.tenant_id):
        named = db.session.scalar(select(Role).where(Role.name == role))
        assert "contacts.erase" not in named.permissions
        admin = db.session.get(User, world.a.admin_id)
        assert "contacts.erase" in admin.role.permissions


def test_erasure_removes_second_factors_links_and_withdraws_proposals_about_the_contact(app, world):
    with bound_to(db.session, world.a.tenant_id):
        user = db.session.get(User, world.a.client_user_id)
        user.totp_secret, user.totp_enabled_at = "sealed", utcnow()
        db.session.add_all(
            [
                RecoveryCode(user_id=user.id, code_hash="0" * 64),
                Passkey(user_id=user.id, credential_id=b"key", public_key=b"pk", name="Phone"),
                Invitation(
                    user_id=user.id, nonce_hash="1" * 64, expires_at=utcnow() + timedelta(days=1)
                ),
                ContactProposal(
                    client_id=world.a.client_id,
                    contact_id=world.a.contact_id,
                    proposed_by_id=user.id,
                    values={"name": world.a.contact_name, "email": world.a.client_user_email},
                    note=f"{world.a.contact_name} moved",
                ),
            ]
        )
        db.session.commit()
        admin = db.session.get(User, world.a.admin_id)
        pseudonym = erasure.erase_contact(
            db.session.get(Contact, world.a.contact_id), actor=acting(admin)
        )
        db.session.commit()
        user = db.session.get(User, world.a.client_user_id)
        assert user.totp_secret is None and not user.has_second_factor
        assert db.session.scalars(select(RecoveryCode)).all() == []
        assert db.session.scalars(select(Passkey)).all() == []
        states = db.session.scalars(
            select(Invitation.state).where(Invitation.user_id == user.id)
        ).all()
        assert states and InvitationState.PENDING not in states
        proposal = db.session.scalar(
            select(ContactProposal).where(ContactProposal.contact_id == world.a.contact_id)
        )
        assert proposal.state is ProposalState.REJECTED
        assert proposal.values == {"name": pseudonym} and proposal.note is None
        assert (
            db.session.scalars(select(DataExport).where(DataExport.user_id == user.id)).all() == []
        )
