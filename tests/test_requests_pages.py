"""Support requests through the pages: the customer opens, follows, answers and closes
their requests; the desk's queue and triage; files served safely; and an internal note
that reaches no client by any channel (page, file, mail, CSV, search)."""

import io
import re

from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.mail import outbox
from portal.models import OutboxMail, RequestState, SupportRequest, Tenant
from portal.tenancy import cross_tenant
from tests.conftest import PASSWORD, csrf_token, login


def signed_in(app, world, email):
    browser = app.test_client()
    assert login(browser, world.a.slug, email).status_code == 302
    return browser


def screenshot() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(buffer, format="PNG")
    return buffer.getvalue()


def request_row(request_id: int) -> SupportRequest:
    db.session.expire_all()
    with cross_tenant(db.session):
        return db.session.get(SupportRequest, request_id)


def sent_mails() -> list[OutboxMail]:
    db.session.expire_all()
    with cross_tenant(db.session):
        return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def test_a_customer_opens_a_malfunction_with_a_screenshot_and_follows_it(app, world):
    browser = signed_in(app, world, world.a.client_user_email)
    base = f"/{world.a.slug}/requests"
    form = browser.get(f"{base}/new")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.get_data(True)
    response = browser.post(
        f"{base}/new",
        data={
            "csrf_token": csrf_token(form),
            "kind": "malfunction",
            "subject": "Invoices do not print",
            "description": "Since this morning, Print does nothing.",
            "files": [(io.BytesIO(screenshot()), "écran 1.png")],
            "remote_access_id": "123 456 789",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = browser.get(response.location).get_data(as_text=True)
    assert "Your request R-" in page and "is sent" in page
    assert "Invoices do not print" in page and "écran 1.png" in page
    link = re.search(r'href="([^"]+/files/\d+)"', page).group(1)
    served = browser.get(link)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    listing = browser.get(f"{base}/").get_data(as_text=True)
    assert "Invoices do not print" in listing and "New" in listing


def test_a_file_that_is_no_image_is_refused_and_nothing_is_opened(app, world):
    browser = signed_in(app, world, world.a.client_user_email)
    base = f"/{world.a.slug}/requests"
    form = browser.get(f"{base}/new")
    with cross_tenant(db.session):
        before = db.session.scalar(select(SupportRequest.id).order_by(SupportRequest.id.desc()))
    response = browser.post(
        f"{base}/new",
        data={
            "csrf_token": csrf_token(form),
            "kind": "help",
            "subject": "How do I export?",
            "description": "?",
            "files": [(io.BytesIO(b"<html><script>alert(1)</script>"), "shot.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "neither an image" in response.get_data(as_text=True)
    with cross_tenant(db.session):
        after = db.session.scalar(select(SupportRequest.id).order_by(SupportRequest.id.desc()))
    assert after == before


def test_the_internal_note_reaches_no_client_page_nor_file(app, world):
    browser = signed_in(app, world, world.a.client_user_email)
    page = browser.get(f"/{world.a.slug}/requests/{world.a.request_id}").get_data(as_text=True)
    assert "We are looking into it." in page, "the public reply is shown"
    assert world.a.note_text not in page and "note.pdf" not in page
    note_file = f"/{world.a.slug}/requests/{world.a.request_id}/files/{world.a.note_file_id}"
    assert browser.get(note_file).status_code == 404
    staff = signed_in(app, world, world.a.tech_email)
    desk_page = staff.get(f"/{world.a.slug}/desk/{world.a.request_id}").get_data(as_text=True)
    assert world.a.note_text in desk_page and "internal note" in desk_page
    assert staff.get(f"/{world.a.slug}/desk/{world.a.request_id}/files/{world.a.note_file_id}")


def test_the_internal_note_reaches_no_mail(app, world):
    with cross_tenant(db.session):
        db.session.get(Tenant, world.a.tenant_id).support_sender_email = "desk@alpha.test"
        db.session.commit()
    staff = signed_in(app, world, world.a.tech_email)
    url = f"/{world.a.slug}/desk/{world.a.request_id}"
    page = staff.get(url)
    staff.post(
        f"{url}/reply",
        data={
            "csrf_token": csrf_token(page),
            "body": "Secret: the driver is broken",
            "internal": "y",
        },
    )
    staff.post(f"{url}/reply", data={"csrf_token": csrf_token(page), "body": "Fixed soon."})
    customer = signed_in(app, world, world.a.client_user_email)
    customer_page = customer.get(f"/{world.a.slug}/requests/{world.a.request_id}")
    customer.post(
        f"/{world.a.slug}/requests/{world.a.request_id}/reply",
        data={"csrf_token": csrf_token(customer_page), "body": "Thanks"},
    )
    mails = sent_mails()
    assert {mail.kind for mail in mails} == {"request_reply", "request_answered"}
    for mail in mails:
        for text in (mail.subject, mail.text_body, mail.html_body):
            assert "Secret" not in text and world.a.note_text not in text
    assert "Secret" not in customer_page.get_data(as_text=True)


def test_the_internal_note_reaches_no_search(app, world):
    customer = signed_in(app, world, world.a.client_user_email)
    url = f"/{world.a.slug}/requests/?show=all&q="
    found = customer.get(url + "cannot print").get_data(as_text=True)
    assert f'/requests/{world.a.request_id}"' in found, "the subject's words find it"
    note_words = world.a.note_text.split(": ", 1)[1]  # words of the internal note only
    hidden = customer.get(url + note_words).get_data(as_text=True)
    assert f'/requests/{world.a.request_id}"' not in hidden
    assert "No request matches" in hidden


def test_the_internal_note_reaches_no_statement_csv(app, world):
    customer = signed_in(app, world, world.a.client_user_email)
    export = customer.get(f"/{world.a.slug}/statement.csv")
    assert export.status_code == 200
    assert world.a.note_text not in export.get_data(as_text=True)


def test_the_desk_queue_sorts_by_priority_then_age_and_counts_states(app, world):
    staff = signed_in(app, world, world.a.tech_email)
    url = f"/{world.a.slug}/desk/{world.a.other_request_id}"
    page = staff.get(url)
    response = staff.post(
        f"{url}/acknowledge",
        data={"csrf_token": csrf_token(page), "priority": "flash"},
    )
    assert response.status_code == 302
    assert request_row(world.a.other_request_id).state is RequestState.ACKNOWLEDGED
    queue = staff.get(f"/{world.a.slug}/desk/").get_data(as_text=True)
    first, second = (
        queue.index(f'/desk/{i}"') for i in (world.a.other_request_id, world.a.request_id)
    )
    assert first < second, "the flash malfunction comes first"
    only_new = staff.get(f"/{world.a.slug}/desk/?state=new").get_data(as_text=True)
    assert f'/desk/{world.a.other_request_id}"' not in only_new
    assert re.search(r"Acknowledged <span class=\"count\">1</span>", only_new)
    # The other tenant's two new requests are not counted: the hook scopes the counts too.
    assert re.search(r"New <span class=\"count\">1</span>", only_new)
    reference = request_row(world.a.request_id).reference
    search = staff.get(f"/{world.a.slug}/desk/?q={reference}").get_data(as_text=True)
    assert f'/desk/{world.a.request_id}"' in search
    assert f'/desk/{world.a.other_request_id}"' not in search


def test_a_malfunction_needs_its_priority_and_nothing_changes_without(app, world):
    staff = signed_in(app, world, world.a.tech_email)
    url = f"/{world.a.slug}/desk/{world.a.request_id}"
    page = staff.get(url)
    response = staff.post(f"{url}/acknowledge", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 409
    assert "Give the malfunction its priority." in response.get_data(as_text=True)
    assert request_row(world.a.request_id).state is RequestState.NEW


def test_the_customer_closes_a_request_they_consider_done(app, world):
    customer = signed_in(app, world, world.a.client_user_email)
    url = f"/{world.a.slug}/requests/{world.a.request_id}"
    page = customer.get(url)
    assert customer.post(f"{url}/close", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert request_row(world.a.request_id).state is RequestState.CLOSED
    assert "This request is finished" in customer.get(url).get_data(as_text=True)


def test_an_acknowledgement_mail_arrives_with_priority_and_delay(app, world):
    staff = signed_in(app, world, world.a.tech_email)
    url = f"/{world.a.slug}/desk/{world.a.request_id}"
    page = staff.get(url)
    staff.post(
        f"{url}/acknowledge",
        data={"csrf_token": csrf_token(page), "priority": "high"},
    )
    # The request's pages say the priority, what it means and the delay.
    for page in (
        staff.get(url),
        signed_in(app, world, world.a.client_user_email).get(
            f"/{world.a.slug}/requests/{world.a.request_id}"
        ),
    ):
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "Major malfunction, not blocking." in text
        assert "3 or 4 versions" in text
    assert outbox.deliver_due().sent == 1
    (mail,) = app.extensions["mailman"].outbox
    assert mail.to == [world.a.client_user_email]
    assert mail.subject.startswith(f"[{request_row(world.a.request_id).reference}]")
    assert "Priority: High" in mail.body and "3 or 4 versions" in mail.body


def test_time_recorded_from_a_request_shows_on_it_and_on_the_statement(app, world):
    staff = signed_in(app, world, world.a.tech_email)
    desk_page = staff.get(f"/{world.a.slug}/desk/{world.a.request_id}").get_data(as_text=True)
    record_link = re.search(r'href="([^"]+/support/accounts/\d+\?request=\d+)"', desk_page)
    assert record_link, "the request page offers to record time from it"
    form_page = staff.get(record_link.group(1).replace("&amp;", "&"))
    body = form_page.get_data(as_text=True)
    reference = request_row(world.a.request_id).reference
    assert f"For the request {reference}" in body
    assert f"{reference} – " in body, "the summary opens with the reference"
    account_url = record_link.group(1).split("?")[0]
    response = staff.post(
        f"{account_url}/interventions",
        data={
            "csrf_token": csrf_token(form_page),
            "summary": f"{reference} – printer driver reinstalled",
            "minutes": "15",
            "normal": "Normal",
            "request_id": str(world.a.request_id),
            "client_id": str(world.a.client_id),
        },
    )
    assert response.status_code == 302 and response.location.endswith(f"/desk/{world.a.request_id}")
    assert request_row(world.a.request_id).minutes_normal == 15
    customer = signed_in(app, world, world.a.client_user_email)
    page = customer.get(f"/{world.a.slug}/requests/{world.a.request_id}").get_data(as_text=True)
    assert re.search(r'id="time-spent">\s*15 min', page)
    statement = customer.get(f"/{world.a.slug}/statement").get_data(as_text=True)
    assert f">{reference}</a>" in statement
    filtered = customer.get(
        f"/{world.a.slug}/statement/{world.a.account_id}?request={world.a.request_id}"
    ).get_data(as_text=True)
    assert "printer driver reinstalled" in filtered and "Opening purchase" not in filtered
    # Its "Download CSV" keeps the filter: the request's interventions only.
    export = customer.get(
        f"/{world.a.slug}/statement/{world.a.account_id}.csv?request={world.a.request_id}"
    ).get_data(as_text=True)
    assert "printer driver reinstalled" in export and "Opening purchase" not in export


def test_a_request_of_another_client_cannot_take_the_time(app, world):
    staff = signed_in(app, world, world.a.tech_email)
    url = f"/{world.a.slug}/support/accounts/{world.a.account_id}"
    page = staff.get(f"{url}?request={world.a.other_request_id}")
    assert "For the request" not in page.get_data(as_text=True)
    staff.post(
        f"{url}/interventions",
        data={
            "csrf_token": csrf_token(page),
            "summary": "Forged",
            "minutes": "5",
            "normal": "Normal",
            "request_id": str(world.a.other_request_id),
        },
    )
    assert request_row(world.a.other_request_id).minutes_spent == 0


def set_week(world, week) -> None:
    with cross_tenant(db.session):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        tenant.opening_hours, tenant.support_sender_email = week, "desk@alpha.test"
        db.session.commit()


def test_the_customer_hears_when_a_closed_desk_will_read_the_request(app, world):
    monday_only = [{"opens": "00:00", "closes": "00:01", "reduced": False}] + [None] * 6
    set_week(world, monday_only)
    browser = signed_in(app, world, world.a.client_user_email)
    form = browser.get(f"/{world.a.slug}/requests/new")
    assert "The desk is closed now: your request will be read when it reopens, " in (
        form.get_data(as_text=True)
    )


def test_a_blocking_malfunction_is_flagged_to_the_desk_on_a_reduced_day(app, world):
    all_day = {"opens": "00:00", "closes": "23:59", "reduced": True}
    set_week(world, [all_day] * 7)
    browser = signed_in(app, world, world.a.client_user_email)
    form = browser.get(f"/{world.a.slug}/requests/new")
    assert "Today the desk handles urgent matters only" in form.get_data(as_text=True)
    browser.post(
        f"/{world.a.slug}/requests/new",
        data={
            "csrf_token": csrf_token(form),
            "kind": "malfunction",
            "subject": "Nothing works",
            "description": "The server is down.",
            "blocking": "y",
        },
    )
    (told,) = [mail for mail in sent_mails() if mail.kind == "request_new"]
    assert "Blocking malfunction at" in told.subject and told.to_address == "desk@alpha.test"
    queue = signed_in(app, world, world.a.tech_email).get(f"/{world.a.slug}/desk/")
    assert ">blocking</span>" in queue.get_data(as_text=True)


def test_a_mails_link_to_the_request_signs_in_first_then_opens_it(app, world):
    link = f"/{world.a.slug}/requests/{world.a.request_id}"
    visitor = app.test_client()
    asked = visitor.get(link)
    assert asked.status_code == 302 and "/login" in asked.location
    form = visitor.get(asked.location)
    signed = visitor.post(
        asked.location,
        data={
            "csrf_token": csrf_token(form),
            "login": world.a.client_user_email,
            "password": PASSWORD,
        },
    )
    assert signed.status_code == 302 and signed.location.endswith(link)
