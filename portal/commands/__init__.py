"""``flask --app portal ...`` commands. They cross tenants explicitly or bind one."""

import secrets
import signal
import sys
import time

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from portal.commands import demo
from portal.extensions import db
from portal.mail import alerts, outbox
from portal.models import CreditAccount, SystemRole, Tenant
from portal.services import credit, data_export
from portal.services.audit import retention
from portal.services.tenants import TenantError, create_staff_user, create_tenant, system_role
from portal.services.users import MIN_PASSWORD_LENGTH
from portal.tenancy import bound_to, cross_tenant

tenant_cli = click.Group("tenant", help="Manage tenants.")
outbox_cli = click.Group("outbox", help="Deliver queued mail.")
user_cli = click.Group("user", help="Manage users.")
credit_cli = click.Group("credit", help="Time credit ledgers.")
audit_cli = click.Group("audit", help="The audit log.")
data_cli = click.Group("data", help="The customers' data rights.")


def fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


def check_password_length(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        fail(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")


@tenant_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The business's name, shown to its users.")
def tenant_create(slug: str, name: str) -> None:
    """Create a tenant reachable at /SLUG/ with its default roles."""
    try:
        tenant = create_tenant(slug, name)
    except TenantError as error:
        fail(str(error))
    db.session.commit()
    click.echo(f"Tenant {tenant.slug} created: {tenant.name}")


@user_cli.command("create-admin")
@click.argument("slug")
@click.argument("email")
@click.option("--name", default=None, help="Full name (defaults to the email's local part).")
@click.password_option(help="The password (asked for when not given).")
def user_create_admin(slug: str, email: str, name: str | None, password: str) -> None:
    """Create an active Administrator in the tenant SLUG."""
    check_password_length(password)
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        fail(f"There is no tenant {slug!r}.")
    with bound_to(db.session, tenant.id):
        try:
            user = create_staff_user(
                email=email,
                name=name or email.split("@", 1)[0],
                password=password,
                role=system_role(SystemRole.ADMINISTRATOR),
            )
        except TenantError as error:
            fail(str(error))
        db.session.commit()
        click.echo(f"Administrator {user.email} (code {user.code}) created in {slug}.")


@click.command("demo")
@click.option("--password", default=None, help="The one password of every demo user.")
def demo_command(password: str | None) -> None:
    """Load the demo tenants into an upgraded database (again: resets passwords)."""
    generated = password is None
    password = password or secrets.token_urlsafe(9)
    check_password_length(password)
    sign_ins = demo.load(password)
    db.session.commit()
    click.echo("Demo data loaded. Sign in at /demo/login or /acme/login with:")
    for sign_in in sign_ins:
        click.echo(f"  /{sign_in.tenant}/login  {sign_in.email:<34} {sign_in.role}")
    click.echo(f"Password for all of them: {password}" + ("  (generated)" if generated else ""))
    if current_app.config["PORTAL_ENV"] == "development":
        click.echo("Mails (Mireille Couture's invitation is waiting): /demo/dev/mailbox")


def echo_report(report: outbox.Report) -> None:
    click.echo(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")


@outbox_cli.command("send")
def outbox_send() -> None:
    """Deliver the mails that are due, once."""
    echo_report(outbox.deliver_due(limit=10_000))


@outbox_cli.command("work")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
def outbox_work(interval: float) -> None:
    """Deliver due mails again and again until stopped (Ctrl-C or SIGTERM)."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    click.echo(f"Delivering mail every {interval:g} s; Ctrl-C stops.")
    erased_at = 0.0
    try:
        while True:
            try:
                report = outbox.deliver_due()
                build_exports()
                if time.monotonic() - erased_at > ERASE_EVERY:
                    erased = retention.erase_old_addresses()
                    db.session.commit()
                    erased_at = time.monotonic()
                    if erased:
                        click.echo(f"{erased} audit addresses erased (retention).")
            except Exception:  # the database may be restarting: log, wait, go on
                db.session.rollback()
                current_app.logger.exception("outbox pass failed")
            else:
                if report.sent or report.retried or report.failed:
                    echo_report(report)
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("Stopped.")


def build_exports() -> tuple[int, int, int]:
    """Build the data exports waiting, then delete the expired ones; committed as it goes.
    Returns how many were built, failed and deleted."""
    built, failed = data_export.build_due(db.session.commit, db.session.rollback)
    removed = data_export.remove_expired()
    db.session.commit()
    if built or failed or removed:
        click.echo(f"data exports: {built} built, {failed} failed, {removed} expired removed")
    return built, failed, removed


@data_cli.command("build-exports")
def data_build_exports() -> None:
    """Build the customers' data exports waiting, and delete the expired ones (one pass;
    the outbox worker does it at each of its passes)."""
    built, failed, removed = build_exports()
    if not (built or failed or removed):
        click.echo("data exports: nothing to do")
    if failed:
        sys.exit(1)


#: How often the outbox worker applies the audit log's address retention, in seconds.
ERASE_EVERY = 3600


@audit_cli.command("erase-addresses")
def audit_erase_addresses() -> None:
    """Erase the audit log's network addresses older than each tenant's retention."""
    erased = retention.erase_old_addresses()
    db.session.commit()
    click.echo(f"{erased} audit addresses erased.")


@credit_cli.command("verify")
def credit_verify() -> None:
    """Check every ledger chain of every tenant; exit 1 at the first broken entry."""
    with cross_tenant(db.session):  # explicitly every tenant: an operator's check
        breaks = credit.verify(db.session)
        accounts = db.session.scalar(select(func.count()).select_from(CreditAccount))
    db.session.rollback()
    if breaks:
        for found in breaks:
            click.echo(
                f"account {found.account}, entry {found.position}: {found.problem}", err=True
            )
        sys.exit(1)
    click.echo(f"{accounts} accounts verified: every chain holds.")


@credit_cli.command("alerts")
def credit_alerts() -> None:
    """Mail the credit alerts that time sets off (validity dates 30 days away or less).
    Run it daily; the balance's alerts go out with the entries that move it."""
    with cross_tenant(db.session):  # explicitly every tenant, then each one bound
        tenants = db.session.scalars(select(Tenant).order_by(Tenant.id)).all()
    queued = 0
    for tenant in tenants:
        with bound_to(db.session, tenant.id):
            queued += alerts.send_due(tenant)
            db.session.commit()
    click.echo(f"{queued} credit alerts queued.")


def register(app: Flask) -> None:
    app.cli.add_command(tenant_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(data_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(credit_cli)
    app.cli.add_command(demo_command)
