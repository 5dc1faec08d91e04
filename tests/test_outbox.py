"""The mail outbox: queued with the change that causes it, delivered by the worker
over a real SMTP server (aiosmtpd), retried while the server is down, never twice."""

import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import MailState, OutboxMail, Tenant
from portal.models.base import utcnow
from portal.tenancy import bound_to, cross_tenant


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SMTP_PORT = free_port()
SMTP = {
    "MAIL_BACKEND": "smtp",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": SMTP_PORT,
    "MAIL_TIMEOUT": 5,
}


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield inbox
    controller.stop()


def queue_mails(world, count: int = 1, prefix: str = "person") -> None:
    with bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        for number in range(count):
            outbox.queue(
                tenant,
                kind="test",
                to=f"{prefix}{number}@example.test",
                subject=f"Hello {number}",
                text=f"Plain text {number}",
                html=f"<p>HTML {number}</p>",
            )
        db.session.commit()


def mails() -> list[OutboxMail]:
    db.session.expire_all()
    with cross_tenant(db.session):
        return db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()


def test_a_mail_is_queued_only_if_the_change_commits(app, world):
    with bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        outbox.queue(tenant, kind="test", to="a@example.test", subject="s", text="t", html="h")
        db.session.rollback()
    assert mails() == []
    queue_mails(world)
    assert [mail.state for mail in mails()] == [MailState.PENDING]


def test_send_delivers_each_due_mail_once(app, world):
    queue_mails(world, 3)
    assert outbox.deliver_due() == outbox.Report(sent=3)
    assert outbox.deliver_due() == outbox.Report()
    assert len(app.extensions["mailman"].outbox) == 3
    assert {mail.state for mail in mails()} == {MailState.SENT}


@pytest.mark.parametrize("app_config", [SMTP])
def test_a_real_smtp_server_receives_text_and_html_in_the_tenants_name(
    app, app_config, world, smtp_server
):
    queue_mails(world)
    assert outbox.deliver_due().sent == 1
    (received,) = smtp_server.messages
    assert received["To"] == "person0@example.test"
    assert received["From"].addresses[0].display_name == world.a.name
    assert received.get_body(("plain",)).get_content().strip() == "Plain text 0"
    assert received.get_body(("html",)).get_content().strip() == "<p>HTML 0</p>"


@pytest.mark.parametrize("app_config", [SMTP])
def test_mail_waits_while_smtp_is_down_and_is_delivered_once_when_it_is_back(
    app, app_config, world
):
    queue_mails(world, 2)
    assert outbox.deliver_due() == outbox.Report(retried=2)
    waiting = mails()
    assert all(m.state is MailState.PENDING and m.attempts == 1 and m.last_error for m in waiting)
    assert outbox.deliver_due() == outbox.Report(), "nothing is due during the back-off"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    try:
        later = utcnow() + timedelta(minutes=2)
        assert outbox.deliver_due(now=later) == outbox.Report(sent=2)
        assert outbox.deliver_due(now=later + timedelta(hours=1)) == outbox.Report()
    finally:
        controller.stop()
    assert sorted(m["To"] for m in inbox.messages) == [
        "person0@example.test",
        "person1@example.test",
    ]


@pytest.mark.parametrize("app_config", [SMTP])
def test_a_mail_is_marked_failed_after_the_last_attempt(app, app_config, world):
    queue_mails(world)
    moment = utcnow()
    for _attempt in range(outbox.MAX_ATTEMPTS):
        outbox.deliver_due(now=moment)
        moment += outbox.MAX_BACKOFF + timedelta(seconds=1)
    (failed,) = mails()
    assert failed.state is MailState.FAILED and failed.attempts == outbox.MAX_ATTEMPTS
    assert outbox.deliver_due(now=moment) == outbox.Report()


def test_backoff_grows_and_is_capped():
    assert [outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert outbox.backoff(40) == outbox.MAX_BACKOFF


def test_two_workers_at_once_never_send_a_mail_twice(app, world):
    queue_mails(world, 40)
    errors = []

    def worker():
        try:
            with app.app_context():
                outbox.deliver_due()
        except Exception as error:  # surfaced below; a thread cannot fail the test itself
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    recipients = [message.to[0] for message in app.extensions["mailman"].outbox]
    assert len(recipients) == 40 and len(set(recipients)) == 40
    assert {mail.state for mail in mails()} == {MailState.SENT}


def test_outbox_send_command_reports_what_it_did(app, world):
    queue_mails(world, 2)
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0
    assert "sent 2, to retry 0, failed 0" in result.output


def queue_as_stored(world, **columns) -> None:
    """A mail row as an older version may have written it, straight into the table."""
    with bound_to(db.session, world.a.tenant_id):
        row = {
            "kind": "test",
            "to_address": "stored@example.test",
            "from_address": "Alpha Services <portal@example.test>",
            "subject": "Stored",
            "text_body": "Plain text",
            "html_body": "<p>HTML</p>",
        }
        db.session.add(OutboxMail(tenant_id=world.a.tenant_id, **(row | columns)))
        db.session.commit()


@pytest.mark.parametrize("app_config", [SMTP])
def test_a_mail_that_cannot_be_built_fails_at_once_with_the_reason_and_the_others_go(
    app, app_config, world, smtp_server
):
    queue_mails(world, prefix="before")
    queue_as_stored(world, subject="Your credit\r\nBcc: everyone@example.test")
    queue_as_stored(world, from_address="Alpha\nServices <portal@example.test>")
    queue_mails(world, prefix="after")

    assert outbox.deliver_due() == outbox.Report(sent=2, failed=2)
    failed = [mail for mail in mails() if mail.state is MailState.FAILED]
    assert [mail.attempts for mail in failed] == [1, 1]
    for mail in failed:
        assert mail.last_error.startswith("Cannot be built: BadHeaderError: "), mail.last_error
        assert "newlines" in mail.last_error
    assert sorted(message["To"] for message in smtp_server.messages) == [
        "after0@example.test",
        "before0@example.test",
    ]
    assert outbox.deliver_due(now=utcnow() + timedelta(days=3)) == outbox.Report()


def test_a_subject_is_queued_on_one_line_cut_to_fit(app, world):
    with bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        queued = outbox.queue(
            tenant,
            kind="test",
            to="a@example.test",
            subject="Acme\r\n\u2028Ltd: " + "x" * 300,
            text="t",
            html="h",
        )
    assert queued.subject == "Acme Ltd: " + "x" * 244 + "…"
    assert len(queued.subject) == OutboxMail.subject.type.length


def test_a_sender_address_that_does_not_parse_fails_the_mail_not_the_request(app, world):
    """An address kept from before it was checked: queueing still works (the request that
    queues answers), and the mail is failed with the reason when the worker builds it."""
    with bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        tenant.support_sender_email = "help desk@"
        outbox.queue(tenant, kind="test", to="a@example.test", subject="s", text="t", html="h")
        outbox.queue(
            tenant, kind="test", to="b@example.test", subject="s", text="t", html="h", support=True
        )
        db.session.commit()
    assert outbox.deliver_due() == outbox.Report(sent=1, failed=1)
    sent, failed = mails()
    assert sent.state is MailState.SENT
    assert failed.state is MailState.FAILED
    assert failed.last_error.startswith("Cannot be built: ValueError: "), failed.last_error


def test_support_mails_come_from_the_support_desk_when_set_else_from_the_portal(app, world):
    """The recap (a support mail) comes from the tenant's support address, which customers
    reply to; without one, and for account mails, from MAIL_DEFAULT_SENDER in the
    tenant's name."""
    portal = app.config["MAIL_DEFAULT_SENDER"]
    with bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        parts = {"kind": "test", "to": "a@example.test", "subject": "s", "text": "t", "html": "h"}
        unset = outbox.queue(tenant, **parts, support=True)
        tenant.support_sender_name = "Alpha Helpdesk"
        tenant.support_sender_email = "help@alpha-services.example"
        support = outbox.queue(tenant, **parts, support=True)
        account = outbox.queue(tenant, **parts)
        tenant.support_sender_name = None
        unnamed = outbox.queue(tenant, **parts, support=True)
        db.session.rollback()
    assert unset.from_address == f"Alpha Services <{portal}>"
    assert support.from_address == "Alpha Helpdesk <help@alpha-services.example>"
    assert account.from_address == f"Alpha Services <{portal}>"
    assert unnamed.from_address == "Alpha Services <help@alpha-services.example>"
