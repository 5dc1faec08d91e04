"""The role editor (issue 8): roles with their users, the system roles read-only, a
role in use never deleted, and nobody granting a permission they do not hold."""

import html
import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Role, SystemRole, User
from portal.permissions import CATALOGUE
from portal.services.tenants import system_role
from portal.tenancy import bound_to
from tests.conftest import csrf_token
from tests.test_admin_users import add_staff
from tests.test_credit import signed_in


def roles_url(world, suffix: str = "") -> str:
    return f"/{world.a.slug}/admin/roles{suffix}"


def role_named(world, name: str) -> Role | None:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalar(select(Role).where(Role.name == name))


def permissions_of(world, name: str) -> frozenset[str]:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalar(select(Role).where(Role.name == name)).permissions


def role_events(world) -> list[str]:
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.startswith("role."))
            .order_by(AuditEvent.id)
        ).all()


def post(browser, url: str, data: dict):
    return browser.post(url, data={"csrf_token": csrf_token(browser.get(url)), **data})


def test_the_list_shows_each_role_with_its_users_and_the_system_roles_read_only(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    page = admin.get(roles_url(world)).get_data(as_text=True)
    for name in ("Administrator", "Client", "Technician", "Sales administration", "Staff"):
        assert f">{name}</a>" in page
    # The permissions by their explanation (issue 19: no raw keys shown to people).
    explained = "</li><li>".join(
        re.escape(html.escape(str(CATALOGUE[name])))
        for name in (
            "chat.use",
            "clients.view",
            "clients.view_all",
            "requests.notes",
            "requests.reply",
            "requests.triage",
            "requests.view",
            "support.record",
        )
    )
    assert re.search(
        rf"Technician</a></td>\s*<td><ul[^>]*><li>{explained}</li></ul></td>",
        page,
    )
    with bound_to(db.session, world.a.tenant_id):
        administrator = system_role(SystemRole.ADMINISTRATOR)
    shown = admin.get(roles_url(world, f"/{administrator.id}")).get_data(as_text=True)
    assert "cannot be changed" in shown and '<form method="post" novalidate' not in shown
    assert "Alpha Admin" in shown  # its users
    token = csrf_token(admin.get(roles_url(world, "/new")))
    assert (
        admin.post(
            roles_url(world, f"/{administrator.id}"), data={"csrf_token": token, "name": "Boss"}
        ).status_code
        == 403
    )
    assert (
        admin.post(
            roles_url(world, f"/{administrator.id}/delete"), data={"csrf_token": token}
        ).status_code
        == 403
    )
    assert role_named(world, "Administrator") is not None


def test_create_rename_regrant_and_delete_a_role(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    created = post(
        admin,
        roles_url(world, "/new"),
        {"name": "Support lead", "permissions": ["clients.view", "support.override"]},
    )
    assert created.status_code == 302
    lead = role_named(world, "Support lead")
    assert permissions_of(world, "Support lead") == {"clients.view", "support.override"}
    duplicate = post(admin, roles_url(world, "/new"), {"name": "Support lead"})
    assert "Another role already has this name." in duplicate.get_data(as_text=True)
    unknown = post(admin, roles_url(world, "/new"), {"name": "X", "permissions": ["root"]})
    assert unknown.status_code == 400 and role_named(world, "X") is None

    edit = roles_url(world, f"/{lead.id}")
    assert (
        post(
            admin,
            edit,
            {
                "name": "Support leads",
                "permissions": ["clients.view", "support.record", "support.override"],
            },
        ).status_code
        == 302
    )
    assert permissions_of(world, "Support leads") == {
        "clients.view",
        "support.record",
        "support.override",
    }

    add_staff(world, "lead@alpha.test", "Lea Lead", "Support leads")
    confirm = admin.get(roles_url(world, f"/{lead.id}/delete")).get_data(as_text=True)
    assert "give them another role first" in confirm
    refused = admin.post(
        roles_url(world, f"/{lead.id}/delete"),
        follow_redirects=True,
        data={"csrf_token": csrf_token(admin.get(roles_url(world, "/new")))},
    )
    assert "give them another role first" in refused.get_data(as_text=True)
    assert role_named(world, "Support leads") is not None

    with bound_to(db.session, world.a.tenant_id):
        db.session.scalar(
            select(User).where(User.email == "lead@alpha.test")
        ).role_id = world.a.role_id
        db.session.commit()
    assert "cannot be undone" in admin.get(roles_url(world, f"/{lead.id}/delete")).get_data(
        as_text=True
    )
    post(admin, roles_url(world, f"/{lead.id}/delete"), {})
    assert role_named(world, "Support leads") is None
    assert role_events(world) == ["role.created", "role.updated", "role.deleted"]


def test_nobody_grants_a_permission_they_do_not_hold(app, world):
    admin = signed_in(app, world, world.a.admin_email)
    post(
        admin,
        roles_url(world, "/new"),
        {"name": "Office", "permissions": ["tenant.admin", "clients.view"]},
    )
    post(
        admin,
        roles_url(world, "/new"),
        {"name": "Night desk", "permissions": ["clients.view", "support.override"]},
    )
    add_staff(world, "office@alpha.test", "Olive Office", "Office")
    office = signed_in(app, world, "office@alpha.test")
    form = office.get(roles_url(world, "/new")).get_data(as_text=True)
    assert re.search(r'<input[^>]*disabled[^>]*value="support.override"', form)

    forged = post(
        office,
        roles_url(world, "/new"),
        {"name": "Escalation", "permissions": ["clients.view", "credit.npi"]},
    )
    assert forged.status_code == 400
    assert "You can only grant permissions you hold yourself: credit.npi." in forged.get_data(
        as_text=True
    )
    assert role_named(world, "Escalation") is None


def test_nobody_changes_or_deletes_a_role_that_grants_more_than_they_hold(app, world):
    """An Office manager (tenant.admin, clients.view and the chat) once renamed the
    Night desk role, which grants support.override; now the role is read-only to them."""
    admin = signed_in(app, world, world.a.admin_email)
    for name, permissions in (
        ("Office", ["tenant.admin", "clients.view", "chat.use"]),
        ("Night desk", ["clients.view", "support.override"]),
    ):
        post(admin, roles_url(world, "/new"), {"name": name, "permissions": permissions})
    add_staff(world, "office@alpha.test", "Olive Office", "Office")
    office = signed_in(app, world, "office@alpha.test")
    night = role_named(world, "Night desk")
    staff = role_named(world, "Staff")

    listing = office.get(roles_url(world)).get_data(as_text=True)
    assert f'class="button" href="{roles_url(world, f"/{night.id}")}"' not in listing
    assert roles_url(world, f"/{night.id}/delete") not in listing
    assert f'class="button" href="{roles_url(world, f"/{staff.id}")}"' in listing
    assert roles_url(world, f"/{staff.id}/delete") in listing, "within their power: buttons"

    shown = office.get(roles_url(world, f"/{night.id}"))
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    assert "The role Night desk grants permissions you do not hold (support.override)" in page
    assert '<form method="post" novalidate' not in page and "support.override" in page
    confirm = office.get(roles_url(world, f"/{night.id}/delete")).get_data(as_text=True)
    assert "grants permissions you do not hold (support.override)" in confirm

    token = csrf_token(office.get(roles_url(world, "/new")))
    renamed = office.post(
        roles_url(world, f"/{night.id}"),
        data={"csrf_token": token, "name": "Night shift", "permissions": ["clients.view"]},
    )
    assert renamed.status_code == 403
    assert "grants permissions you do not hold" in renamed.get_data(as_text=True)
    deleted = office.post(
        roles_url(world, f"/{night.id}/delete"), data={"csrf_token": token}, follow_redirects=True
    )
    assert "grants permissions you do not hold (support.override)" in deleted.get_data(as_text=True)
    assert permissions_of(world, "Night desk") == {"clients.view", "support.override"}
    assert role_events(world) == ["role.created", "role.created"]
