"""Support requests below the pages: references per tenant and year, the state rules,
the mails each step sends, and the scoping hook that keeps another client's requests
and every internal note away from a client's user."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Client,
    Contact,
    OutboxMail,
    Priority,
    RequestAttachment,
    RequestKind,
    RequestMessage,
    RequestState,
    SupportRequest,
    User,
)
from portal.services import attachments, requests
from portal.services.requests import NewRequest, RequestRefused
from portal.tenancy import ClientVisibility, bound_to, cross_tenant
from tests.conftest import acting


def png(size=(4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return buffer.getvalue()


PNG = png()


def opened(world, *, kind=RequestKind.MALFUNCTION, by="client", subject="Invoices do not print"):
    """A request of the fixture's client, opened by its contact (or by the technician)."""
    with bound_to(db.session, world.a.tenant_id):
        client = db.session.get(Client, world.a.client_id)
        contact = db.session.get(Contact, world.a.contact_id)
        user = db.session.scalar(
            select(User).where(
                User.email == (world.a.client_user_email if by == "client" else world.a.tech_email)
            )
        )
        request = requests.open_request(
            client,
            NewRequest(kind, subject, "Nothing happens when I click Print."),
            contact=contact,
            actor=acting(user),
        )
        db.session.commit()
        return request.id


def user_named(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def mails(kind_prefix: str = "request_") -> list[OutboxMail]:
    db.session.expire_all()
    with cross_tenant(db.session):
        return list(
            db.session.scalars(
                select(OutboxMail)
                .where(OutboxMail.kind.startswith(kind_prefix))
                .order_by(OutboxMail.id)
            )
        )


@pytest.fixture
def desk(world):
    """The desk has an address, and the contact who asks one too."""
    from portal.models import Tenant

    with cross_tenant(db.session):
        db.session.get(Tenant, world.a.tenant_id).support_sender_email = "desk@alpha.test"
        db.session.commit()
    return world


def test_references_count_per_tenant_and_year(app, world):
    first, second = opened(world), opened(world)
    with bound_to(db.session, world.a.tenant_id):
        one, two = (db.session.get(SupportRequest, i) for i in (first, second))
        year = datetime.now(UTC).year
        # The fixture's two requests took numbers 1 and 2.
        assert (one.reference, two.reference) == (f"R-{year}-00003", f"R-{year}-00004")
    with bound_to(db.session, world.b.tenant_id):
        client = db.session.scalar(select(Client))
        user = db.session.scalar(select(User).where(User.email == world.b.tech_email))
        other = requests.open_request(
            client, NewRequest(RequestKind.HELP, "How?", "?"), contact=None, actor=acting(user)
        )
        assert other.reference == f"R-{year}-00003", "each tenant counts its own"
        db.session.rollback()


def test_a_new_request_tells_the_desk_and_acknowledging_tells_the_customer(app, desk):
    world = desk
    request_id = opened(world)
    (new,) = mails()
    assert new.to_address == "desk@alpha.test" and new.kind == "request_new"
    assert new.subject.startswith("[R-")
    with bound_to(db.session, world.a.tenant_id):
        request = db.session.get(SupportRequest, request_id)
        tech = user_named(world.a.tech_email)
        with pytest.raises(RequestRefused, match="priority"):
            requests.acknowledge(request, priority=None, assignee=tech, actor=acting(tech))
        requests.acknowledge(request, priority=Priority.FLASH, assignee=tech, actor=acting(tech))
        db.session.commit()
    acknowledgement = mails()[-1]
    assert acknowledgement.kind == "request_acknowledged"
    assert acknowledgement.to_address == world.a.client_user_email
    assert "Priority: Flash" in acknowledgement.text_body
    assert "within the hour to three weeks" in acknowledgement.text_body
    with bound_to(db.session, world.a.tenant_id):
        request = db.session.get(SupportRequest, request_id)
        assert (request.state, request.priority_rank) == (RequestState.ACKNOWLEDGED, 1)
        with pytest.raises(RequestRefused):
            requests.move(request, RequestState.CLOSED, actor=acting(tech))
        requests.move(request, RequestState.RESOLVED, actor=acting(tech))
        db.session.commit()
    assert mails()[-1].kind == "request_resolved"
    assert "the fix is available" in mails()[-1].text_body


def test_an_internal_note_is_never_mailed_nor_read_by_the_client(app, desk):
    world = desk
    request_id = opened(world)
    with bound_to(db.session, world.a.tenant_id):
        request = db.session.get(SupportRequest, request_id)
        tech = user_named(world.a.tech_email)
        checked = attachments.check("screen.png", PNG)
        requests.reply(
            request,
            "Customer is rude; the bug is in the driver.",
            actor=acting(tech),
            internal=True,
            files=[checked],
        )
        requests.reply(request, "We are looking into it.", actor=acting(tech))
        db.session.commit()
    assert [mail.kind for mail in mails()] == ["request_new", "request_reply"]
    assert all("rude" not in mail.text_body + mail.html_body for mail in mails(""))
    client_view = ClientVisibility(client_id=world.a.client_id)
    with bound_to(db.session, world.a.tenant_id, client_view):
        bodies = db.session.scalars(
            select(RequestMessage.body).where(RequestMessage.request_id == request_id)
        ).all()
        files = db.session.scalars(
            select(RequestAttachment.filename).where(RequestAttachment.request_id == request_id)
        ).all()
    assert bodies == ["We are looking into it."]
    assert files == [], "the note's screenshot stays with the note"
    with bound_to(db.session, world.a.tenant_id):
        staff_read = db.session.scalars(
            select(RequestMessage).where(RequestMessage.request_id == request_id)
        ).all()
        assert len(staff_read) == 2, "staff read both"


def test_a_client_user_sees_only_their_company_and_their_branch(app, world):
    mine = opened(world)
    with bound_to(db.session, world.a.tenant_id):
        other_client = db.session.get(Client, world.a.other_client_id)
        tech = user_named(world.a.tech_email)
        theirs = requests.open_request(
            other_client,
            NewRequest(RequestKind.HELP, "Other", "?"),
            contact=None,
            actor=acting(tech),
        ).id
        db.session.commit()
    with bound_to(db.session, world.a.tenant_id, ClientVisibility(client_id=world.a.client_id)):
        assert mine in db.session.scalars(select(SupportRequest.id)).all()
        assert db.session.get(SupportRequest, theirs) is None
    limited = ClientVisibility(client_id=world.a.client_id, contact_branch_id=world.a.branch_id)
    with bound_to(db.session, world.a.tenant_id, limited):
        assert db.session.scalars(select(SupportRequest.id)).all() == [], "another branch's"
    with bound_to(db.session, world.a.tenant_id, ClientVisibility(client_id=world.a.client_id)):
        seen = db.session.scalars(select(SupportRequest.client_id)).all()
        assert set(seen) == {world.a.client_id}


def test_the_customer_answering_gives_the_desk_work_again(app, desk):
    world = desk
    request_id = opened(world)
    with bound_to(db.session, world.a.tenant_id):
        request = db.session.get(SupportRequest, request_id)
        tech = user_named(world.a.tech_email)
        requests.acknowledge(request, priority=Priority.HIGH, assignee=tech, actor=acting(tech))
        requests.move(request, RequestState.WAITING, actor=acting(tech))
        customer = user_named(world.a.client_user_email)
        with pytest.raises(RequestRefused):
            requests.reply(request, "secret", actor=acting(customer), internal=True)
        requests.reply(request, "Here is the file.", actor=acting(customer))
        assert request.state is RequestState.IN_PROGRESS
        db.session.commit()
    answered = mails()[-1]
    assert answered.kind == "request_answered" and answered.to_address == world.a.tech_email


def test_an_improvement_is_quoted_at_the_day_rate_and_answered(app, desk):
    world = desk
    request_id = opened(world, kind=RequestKind.IMPROVEMENT, subject="Export to Excel")
    with bound_to(db.session, world.a.tenant_id):
        request = db.session.get(SupportRequest, request_id)
        tech = user_named(world.a.tech_email)
        requests.quote(request, Decimal("1.5"), actor=acting(tech))
        assert request.quote_amount == Decimal("720.00")
        with pytest.raises(RequestRefused):
            requests.accept_for_everyone(request, actor=acting(tech))
        requests.answer_quote(request, True, actor=acting(user_named(world.a.client_user_email)))
        assert request.state is RequestState.IN_PROGRESS
        db.session.commit()
    assert [mail.kind for mail in mails()][-2:] == ["request_quoted", "request_answered"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.png", b"", "is empty"),
        ("fake.png", b"<script>alert(1)</script>", "neither an image"),
        ("big.pdf", b"%PDF-" + b"0" * (attachments.MAX_BYTES + 1), "larger than 10 MB"),
    ],
)
def test_files_are_checked_from_their_content(name, data, message):
    with pytest.raises(attachments.FileRefused, match=message):
        attachments.check(name, data)


def test_an_image_is_re_encoded_and_named_for_what_it_is():
    checked = attachments.check("../../etc/passwd.exe", PNG)
    assert (checked.filename, checked.content_type) == ("passwd.png", "image/png")
    assert checked.data.startswith(b"\x89PNG")
