"""Time credit: the policy of seed 002 at the service and in the browser flow, the
intervention form's validation, the recap mail over SMTP with its unsubscribe link,
and ``credit verify``."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from portal.extensions import db
from portal.mail import outbox
from portal.models import (
    AuditEvent,
    Billing,
    Client,
    Contact,
    CreditAccount,
    LedgerEntry,
    OutboxMail,
    Tenant,
    User,
)
from portal.services import credit
from portal.services.credit import Verdict
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import acting, csrf_token, login
from tests.test_cli import DEMO_PASSWORD, run, tenant_named
from tests.test_outbox import SMTP, smtp_server  # noqa: F401 - the fixture is used by name

INTERVENTION = {
    "summary": "Reset the mail password",
    "advice": "",
    "minutes": "12",
    "normal": "Normal",
}


def account_row(world, account_id: int | None = None) -> CreditAccount:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.get(CreditAccount, account_id or world.a.account_id)


def entries(world) -> list[LedgerEntry]:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.account_id == world.a.account_id)
            .order_by(LedgerEntry.position)
        ).all()


def set_balance(world, balance: int, *, npi: bool = False, called_before: bool = True):
    """Bring the fixture account to ``balance`` by an adjustment, as sales would."""
    with bound_to(db.session, world.a.tenant_id):
        admin = db.session.get(User, world.a.admin_id)
        account = credit.lock(world.a.account_id)
        if balance != account.balance_minutes:
            credit.adjust(
                account,
                delta=balance - account.balance_minutes,
                reason="Test",
                actor=acting(admin),
            )
        account.npi = npi
        account.first_intervention_at = datetime(2024, 1, 1, tzinfo=UTC) if called_before else None
        db.session.commit()


def signed_in(app, world, email: str):
    browser = app.test_client()
    assert login(browser, world.a.slug, email).status_code == 302
    return browser


def record(browser, world, account_id: int | None = None, **fields):
    url = f"/{world.a.slug}/support/accounts/{account_id or world.a.account_id}"
    page = browser.get(url)
    data = {"csrf_token": csrf_token(page), **INTERVENTION, **fields}
    data = {key: value for key, value in data.items() if value is not None}
    return browser.post(f"{url}/interventions", data=data)


@pytest.mark.parametrize(
    ("balance", "npi", "called_before", "verdict"),
    [
        (50, False, True, Verdict.GO),
        (0, False, False, Verdict.GO_FIRST_CALL),
        (0, False, True, Verdict.GO_REMIND),
        (-30, False, True, Verdict.GO_REMIND),
        (-60, False, True, Verdict.GO_REMIND),
        (-75, False, True, Verdict.REFUSED_DEBT),
        (-30, True, True, Verdict.REFUSED_NPI),
        (0, True, False, Verdict.REFUSED_NPI),
        (20, True, True, Verdict.GO),
    ],
)
def test_the_policy_of_seed_002(balance, npi, called_before, verdict):
    account = CreditAccount(
        balance_minutes=balance,
        npi=npi,
        first_intervention_at=(datetime(2024, 1, 1, tzinfo=UTC) if called_before else None),
    )
    assert credit.evaluate(account, threshold=60).verdict is verdict


@pytest.mark.parametrize(
    ("balance", "npi", "called_before", "who", "reason", "recorded"),
    [
        (0, False, False, "tech", None, True),  # first call: go, it is a paid service
        (-30, False, True, "tech", None, True),  # reasonably negative: go, remind
        (-75, False, True, "tech", None, False),  # beyond the threshold: refused
        (-75, False, True, "tech", "Server down", False),  # no support.override
        (-75, False, True, "admin", None, False),  # an override needs a reason
        (-75, False, True, "admin", "Server down", True),
        (-30, True, True, "admin", "Server down", False),  # NPI: never overridden
        (20, True, True, "tech", None, True),  # NPI, but credit is positive again
    ],
)
def test_the_policy_in_the_browser_flow(
    app, world, balance, npi, called_before, who, reason, recorded
):
    set_balance(world, balance, npi=npi, called_before=called_before)
    browser = signed_in(app, world, world.a.tech_email if who == "tech" else world.a.admin_email)
    page = browser.get(f"/{world.a.slug}/support/accounts/{world.a.account_id}")
    assert 'id="policy"' in page.get_data(as_text=True)
    before = len(entries(world))
    response = record(browser, world, override_reason=reason)
    assert (response.status_code == 302) is recorded, response.status_code
    assert len(entries(world)) == before + recorded
    if recorded:
        assert account_row(world).balance_minutes == balance - 12
    else:
        assert response.status_code in (400, 409)
        assert account_row(world).balance_minutes == balance
    if recorded and reason:
        with bound_to(db.session, world.a.tenant_id):
            event = db.session.scalar(
                select(AuditEvent).where(AuditEvent.action == "credit.intervention")
            )
        assert event.details["override_reason"] == "Server down"
        assert entries(world)[-1].override_reason == "Server down"


def test_the_banner_tells_the_technician_what_to_do(app, world):
    browser = signed_in(app, world, world.a.tech_email)
    url = f"/{world.a.slug}/support/accounts/{world.a.account_id}"
    for balance, called_before, words, disabled in (
        (0, False, "tell the customer this is a paid service", False),
        (-30, True, "remind the customer", False),
        (-75, True, "refuse until the account is topped up", True),
    ):
        set_balance(world, balance, called_before=called_before)
        body = browser.get(url).get_data(as_text=True)
        banner = re.search(r'<div class="policy[^>]*>(.*?)</div>', body, re.S).group(1)
        assert words in banner
        (button,) = re.findall(r'<input[^>]*name="normal"[^>]*>', body)
        assert (" disabled" in button) is disabled


def declarations(stylesheet: str, selector: str) -> dict[str, str]:
    """The declarations a rule naming ``selector`` (among others) sets, later ones winning."""
    found: dict[str, str] = {}
    for selectors, body in re.findall(
        r"([^{}]+)\{([^{}]*)\}", re.sub(r"/\*.*?\*/", "", stylesheet, flags=re.S)
    ):
        if selector in (name.strip() for name in selectors.split(",")):
            for declaration in body.split(";"):
                if ":" in declaration:
                    name, value = declaration.split(":", 1)
                    found[name.strip()] = value.strip()
    return found


def test_refused_buttons_look_disabled_and_are_announced_with_the_reason(app, world):
    set_balance(world, -75)
    browser = signed_in(app, world, world.a.tech_email)
    body = browser.get(f"/{world.a.slug}/support/accounts/{world.a.account_id}").get_data(
        as_text=True
    )
    for name in ("normal", "free"):
        (button,) = re.findall(rf'<input[^>]*name="{name}"[^>]*>', body)
        assert " disabled" in button and 'aria-describedby="policy"' in button, button
    stylesheet = browser.get("/static/portal.css").get_data(as_text=True)
    disabled = declarations(stylesheet, ".button:disabled")
    assert disabled.get("cursor") == "not-allowed"
    for enabled in (".button", ".button.primary"):
        look = declarations(stylesheet, enabled)
        assert disabled["background"] != look["background"], enabled
        assert disabled["color"] != look["color"], enabled


def expire(world, days: int = 1) -> None:
    """The fixture account's validity date, ``days`` ago (negative: to come)."""
    with bound_to(db.session, world.a.tenant_id):
        account = db.session.get(CreditAccount, world.a.account_id)
        account.valid_until = datetime.now(UTC).date() - timedelta(days=days)
        db.session.commit()


def banner(body: str) -> tuple[str, str]:
    """The policy banner's level class and its text."""
    found = re.search(r'<div class="policy policy-(\w+)"[^>]*>(.*?)</div>', body, re.S)
    return found.group(1), found.group(2)


@pytest.mark.parametrize(
    ("balance", "npi", "called_before", "verdict", "level"),
    [
        (50, False, True, Verdict.GO, "warning"),
        (0, False, False, Verdict.GO_FIRST_CALL, "warning"),
        (-30, False, True, Verdict.GO_REMIND, "warning"),
        (-75, False, True, Verdict.REFUSED_DEBT, "danger"),
        (-30, True, True, Verdict.REFUSED_NPI, "danger"),
    ],
)
def test_past_its_validity_the_policy_reminds_to_renew_and_keeps_its_verdict(
    balance, npi, called_before, verdict, level
):
    account = CreditAccount(
        balance_minutes=balance,
        npi=npi,
        first_intervention_at=(datetime(2024, 1, 1, tzinfo=UTC) if called_before else None),
        valid_until=datetime.now(UTC).date() - timedelta(days=1),
    )
    policy = credit.evaluate(account, threshold=60)
    assert (policy.verdict, policy.level, policy.renew) == (verdict, level, True)
    assert "remind the customer to renew" in policy.message
    assert "go ahead" not in policy.message
    account.valid_until = datetime.now(UTC).date()  # valid through today
    assert not credit.evaluate(account, threshold=60).renew


def test_past_its_validity_the_support_screen_is_amber_as_the_statement_is_red(app, world):
    """JM-ACTIONS in seed 002: "Validité CT 30/07/2021" beside a positive balance. The
    technician reads an amber reminder (not a green "go ahead"), the customer a red
    "expired"; the intervention is recorded all the same (the seed's rule is the
    balance and NPI)."""
    browser = signed_in(app, world, world.a.tech_email)
    url = f"/{world.a.slug}/support/accounts/{world.a.account_id}"
    level, text = banner(browser.get(url).get_data(as_text=True))
    assert (level, "go ahead" in text) == ("ok", True)  # valid: green, go ahead

    expire(world)
    body = browser.get(url).get_data(as_text=True)
    level, text = banner(body)
    assert level == "warning"
    assert "remind the customer to renew" in text and "go ahead" not in text
    assert re.search(r"expired</span>", body)
    (button,) = re.findall(r'<input[^>]*name="normal"[^>]*>', body)
    assert " disabled" not in button
    assert 'class="record"' in body
    stylesheet = browser.get("/static/portal.css").get_data(as_text=True)
    assert (
        declarations(stylesheet, ".policy-warning")["background"]
        != (declarations(stylesheet, ".policy-ok")["background"])
    )
    assert record(browser, world).status_code == 302
    assert account_row(world).balance_minutes == 50 - 12

    customer = signed_in(app, world, world.a.client_user_email)
    statement = customer.get(f"/{world.a.slug}/statement/{world.a.account_id}")
    assert statement.status_code == 200
    statement = statement.get_data(as_text=True)
    assert re.search(r'class="badge danger">expired</span>', statement)
    assert "The validity date of this credit has passed: ask us about renewing it." in statement


def form_tag(body: str) -> str:
    (tag,) = re.findall(r'<form method="post" action="[^"]*/interventions"[^>]*>', body)
    return tag


def controls(body: str) -> dict[str, str]:
    """The intervention form's controls by name (the stopwatch's by its data- mark)."""
    form = re.search(r'<form method="post" action="[^"]*/interventions".*?</form>', body, re.S)
    found = {}
    for tag in re.findall(r"<(?:input|textarea|select|button)\b[^>]*>", form.group(0)):
        name = re.search(r'name="(\w+)"', tag) or re.search(r"data-(start|pause|stop)\b", tag)
        if name and name.group(1) != "csrf_token":
            found[name.group(1)] = tag
    return found


@pytest.mark.parametrize(
    ("balance", "npi", "who", "refused"),
    [
        (-75, False, "tech", True),  # beyond the threshold, no support.override
        (-30, True, "admin", True),  # NPI: nobody overrides it
        (-75, False, "admin", False),  # a supervisor may override, with a reason
        (-30, False, "tech", False),  # reasonably negative: go, remind
    ],
)
def test_a_refused_form_is_greyed_and_disabled_but_an_override_stays_usable(
    app, world, balance, npi, who, refused
):
    set_balance(world, balance, npi=npi)
    browser = signed_in(app, world, world.a.tech_email if who == "tech" else world.a.admin_email)
    body = browser.get(f"/{world.a.slug}/support/accounts/{world.a.account_id}").get_data(
        as_text=True
    )
    assert (" refused" in form_tag(body)) is refused
    found = controls(body)
    for name in ("summary", "advice", "minutes", "review", "normal", "free", "start", "stop"):
        assert (" disabled" in found[name]) is refused, (name, found[name])
    if who == "admin" and not npi:
        assert " disabled" not in found["override_reason"]
    else:
        assert "override_reason" not in found
    stylesheet = browser.get("/static/portal.css").get_data(as_text=True)
    greyed = declarations(stylesheet, "form.record.refused")
    assert greyed.get("background") and "dashed" in greyed.get("border", "")


def test_the_stopwatch_is_keyed_to_its_account_and_speaks_politely(app, world):
    browser = signed_in(app, world, world.a.tech_email)
    body = browser.get(f"/{world.a.slug}/support/accounts/{world.a.account_id}").get_data(
        as_text=True
    )
    watch = re.search(r"<div[^>]*data-stopwatch[^>]*>", body).group(0)
    assert f'data-key="{world.a.slug}:{world.a.account_id}"' in watch
    assert 'data-running="Running"' in watch and 'data-paused="Paused"' in watch
    assert re.search(r'<span[^>]*aria-live="polite"[^>]*data-state', body)
    assert re.search(r'<span[^>]*role="timer"[^>]*data-display', body)
    assert 'class="running-mark"' in body
    script = browser.get("/static/stopwatch.js").get_data(as_text=True)
    assert "localStorage" in script and "setInterval(show, 1000)" in script


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"minutes": "0"}, "Between 1 and 1440 minutes."),
        ({"minutes": "-5"}, "Between 1 and 1440 minutes."),
        ({"minutes": "100000"}, "Between 1 and 1440 minutes."),
        ({"minutes": "twelve"}, "Not a valid integer value."),
        ({"minutes": ""}, "Give the duration in minutes."),
        ({"summary": "  "}, "This field is required."),
    ],
)
def test_wrong_input_gets_a_field_message_and_writes_nothing(app, world, fields, error):
    browser = signed_in(app, world, world.a.tech_email)
    response = record(browser, world, **fields)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert len(entries(world)) == 1 and account_row(world).balance_minutes == 50


def test_an_account_of_another_tenant_answers_404_and_is_untouched(app, world):
    browser = signed_in(app, world, world.a.tech_email)
    token = csrf_token(browser.get(f"/{world.a.slug}/support/accounts/{world.a.account_id}"))
    response = browser.post(
        f"/{world.a.slug}/support/accounts/{world.b.account_id}/interventions",
        data={"csrf_token": token, **INTERVENTION},
    )
    assert response.status_code == 404
    with bound_to(db.session, world.b.tenant_id):
        assert db.session.get(CreditAccount, world.b.account_id).balance_minutes == 50


def test_a_free_intervention_leaves_the_balance_and_the_recap_says_so(app, world):
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(Client, world.a.client_id).email = "billing@alpha-client.example"
        db.session.commit()
    browser = signed_in(app, world, world.a.tech_email)
    response = record(browser, world, normal=None, free="Free")
    assert response.status_code == 302
    last = entries(world)[-1]
    assert (last.billing, last.delta, last.credit_after) == (Billing.FREE, 0, 50)
    assert outbox.deliver_due().sent == 1
    (mail,) = app.extensions["mailman"].outbox
    assert mail.to == ["billing@alpha-client.example"]
    assert "free of charge" in mail.body and "Time credit balance: 50 minutes." in mail.body


def test_sales_record_a_purchase_correct_flag_and_link(app, world):
    browser = signed_in(app, world, world.a.admin_email)
    base = f"/{world.a.slug}/support/accounts/{world.a.account_id}"
    for path, data in (
        (
            "purchase",
            {"minutes": "120", "amount": "180.00", "reference": "F-1", "valid_until": "2027-12-31"},
        ),
        ("adjust", {"delta": "-5", "reason": "Duplicate entry"}),
        ("npi", {"reason": "Unpaid invoices"}),
    ):
        page = browser.get(f"{base}/{path}")
        assert (
            browser.post(
                f"{base}/{path}", data={"csrf_token": csrf_token(page), **data}
            ).status_code
            == 302
        )
    account = account_row(world)
    assert (account.balance_minutes, account.npi, account.valid_until.isoformat()) == (
        165,
        True,
        "2027-12-31",
    )
    assert [entry.kind.value for entry in entries(world)] == ["purchase", "purchase", "adjustment"]
    page = browser.get(base)
    browser.post(f"{base}/links", data={"csrf_token": csrf_token(page), "code": "ALP2"})
    with bound_to(db.session, world.a.tenant_id):
        linked = {link.client_id for link in account_row(world).links}
    assert linked == {world.a.client_id, world.a.other_client_id}
    bad = browser.post(
        f"{base}/adjust", data={"csrf_token": csrf_token(page), "delta": "0", "reason": "Nothing"}
    )
    assert "changes nothing" in bad.get_data(as_text=True)
    tech = signed_in(app, world, world.a.tech_email)
    assert tech.get(f"{base}/purchase").status_code == 403


@pytest.mark.parametrize("app_config", [SMTP])
def test_the_demo_technician_records_on_jm_actions_and_the_recap_arrives(
    app,
    app_config,
    smtp_server,  # noqa: F811
):
    run(app, "demo", "--password", DEMO_PASSWORD)
    outbox.deliver_due()
    smtp_server.messages.clear()
    tech = app.test_client()
    assert login(tech, "demo", "tech@demo.test", DEMO_PASSWORD).status_code == 302
    found = tech.get("/demo/support/?q=jm")
    assert found.status_code == 302  # one match: straight to the account
    account_page = tech.get(found.location).get_data(as_text=True)
    assert "4996" in account_page and "JM-ACTIONS" in account_page
    assert "Paramétrage Gmail pour accepter connexions Gestan" in account_page
    assert re.search(r'id="balance">\s*50 min', account_page)
    assert re.search(r"7/30/21\s*<span[^>]*>expired</span>", account_page)
    token = csrf_token(tech.get(found.location))
    response = tech.post(
        f"{found.location}/interventions",
        data={
            "csrf_token": token,
            "summary": "Paramétrage de la sauvegarde",
            "advice": "Attention aux sauvegardes !",
            "minutes": "12",
            "review": "y",
            "normal": "Normal",
        },
    )
    assert response.status_code == 302
    assert re.search(r'id="balance">\s*38 min', tech.get(found.location).get_data(as_text=True))
    assert outbox.deliver_due().sent == 1
    (mail,) = smtp_server.messages
    assert mail["To"] == "jszczygiel@jmactions.com"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/demo/unsubscribe/" in mail["List-Unsubscribe"]
    text = mail.get_body(("plain",)).get_content()
    # JM-ACTIONS is in France and Joseph reads French: the recap is seed 002's own.
    for expected in (
        "Vous\u00a0: JM-ACTIONS",
        "Paramétrage de la sauvegarde",
        "Notre conseil\u00a0: Attention aux sauvegardes !",
        "Durée de l'intervention\u00a0: 12 minutes",
        "Crédit-temps précédent\u00a0: 50 minutes",
        "Solde de crédit-temps\u00a0: 38 minutes.",
        "Hervé Rayon",
        "L'équipe M. Répare Tout",
        "+1 514-555-0100",
        "https://reviews.example.com/m-repare-tout",
    ):
        assert expected in text, expected
    assert "à titre gratuit" not in text and "négatif" not in text
    html = mail.get_body(("html",)).get_content()
    assert "<strong>Solde de crédit-temps\u00a0: 38 minutes.</strong>" in html
    # Seed 002: sent from the support desk's address, signed by the technician, with the
    # unsubscribe link on top and at the bottom.
    (sender,) = mail["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "M. Répare Tout",
        "support@mreparetout.example",
    )
    assert "<strong>Hervé Rayon</strong>" in html
    assert html.count("Se désinscrire à la réception de ces messages.</a>") == 2

    response = tech.post(
        f"{found.location}/interventions",
        data={
            "csrf_token": token,
            "summary": "Question sur la facture",
            "minutes": "4",
            "free": "Free",
        },
    )
    assert response.status_code == 302
    assert outbox.deliver_due().sent == 1
    free_text = smtp_server.messages[-1].get_body(("plain",)).get_content()
    assert "Cette intervention a été effectuée à titre gratuit." in free_text
    assert "Solde de crédit-temps\u00a0: 38 minutes." in free_text


def test_unsubscribe_asks_for_a_click_works_in_one_click_and_can_be_reversed(app, world):
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(Client, world.a.client_id).email = "billing@alpha-client.example"
        db.session.commit()
    tech = signed_in(app, world, world.a.tech_email)
    record(tech, world)
    with cross_tenant(db.session):
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.kind == "recap"))
    link = re.search(r"<http://portal\.test(\S+)>", mail.headers["List-Unsubscribe"]).group(1)

    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200 and "billing@alpha-client.example" in page.get_data(as_text=True)
    assert client_receives(world), "a GET (a link scanner) changes nothing"
    one_click = visitor.post(link, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and not client_receives(world)
    record(tech, world)
    with cross_tenant(db.session):
        assert (
            db.session.scalar(select(OutboxMail.id).where(OutboxMail.kind == "recap").offset(1))
            is None
        )
    staff = signed_in(app, world, world.a.admin_email)
    assert "Unsubscribed" in staff.get(f"/{world.a.slug}/clients/{world.a.client_id}").get_data(
        as_text=True
    )
    visitor.post(link, data={"subscribe": "1"})
    assert client_receives(world)
    assert visitor.get(link.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 404
    assert visitor.get(link.replace(f"/{world.a.slug}/", f"/{world.b.slug}/")).status_code == 404


@pytest.mark.parametrize("kind", ["client", "contact"])
def test_an_unsubscribe_link_stops_working_once_its_address_changed(app, world, kind):
    """The link belongs to the address it was mailed to: after the billing address or
    the contact's address changed, it shows neither address and switches nothing."""
    model, record_id = (
        (Client, world.a.client_id) if kind == "client" else (Contact, world.a.contact_id)
    )
    with bound_to(db.session, world.a.tenant_id):
        recipient = db.session.get(model, record_id)
        recipient.email, recipient.recap_mails = "first@alpha-client.example", True
        db.session.commit()
    record(signed_in(app, world, world.a.tech_email), world)
    with cross_tenant(db.session):
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.kind == "recap"))
    assert mail.to_address == "first@alpha-client.example"
    link = re.search(r"<http://portal\.test(\S+)>", mail.headers["List-Unsubscribe"]).group(1)
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(model, record_id).email = "second@alpha-client.example"
        db.session.commit()

    visitor = app.test_client()
    page = visitor.get(link)
    text = page.get_data(as_text=True)
    assert page.status_code == 410 and "no longer on file" in text
    assert "@alpha-client.example" not in text and "<form" not in text.split("<main", 1)[-1]
    assert visitor.post(link, data={"subscribe": "0"}).status_code == 410
    one_click = visitor.post(link, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 410 and "second@" not in one_click.get_data(as_text=True)
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.get(model, record_id).recap_mails, "the new address still receives"
    with cross_tenant(db.session):
        assert not db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action.like("mailing.%"))
        )

    with bound_to(db.session, world.a.tenant_id):
        db.session.get(model, record_id).email = "FIRST@alpha-client.example"
        db.session.commit()
    assert "FIRST@alpha-client.example" in visitor.get(link).get_data(as_text=True), (
        "the same address, whatever its case, is still the one the link was mailed to"
    )


def client_receives(world) -> bool:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.get(Client, world.a.client_id).recap_mails


def test_credit_verify_passes_on_the_demo_and_names_an_altered_entry(app):
    run(app, "demo", "--password", DEMO_PASSWORD)
    result = run(app, "credit", "verify")
    assert result.exit_code == 0 and "every chain holds" in result.output
    demo = tenant_named("demo")
    with cross_tenant(db.session):
        account_id = db.session.scalar(
            select(CreditAccount.id).where(
                CreditAccount.customer_id == "4996", CreditAccount.tenant_id == demo.id
            )
        )
        db.session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.account_id == account_id, LedgerEntry.position == 4)
            .values(credit_after=LedgerEntry.credit_after + 10)
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["credit", "verify"])
    assert result.exit_code == 1
    assert "account 4996, entry 4:" in result.output


def test_totals_come_from_the_running_sums(app):
    run(app, "demo", "--password", DEMO_PASSWORD)
    with bound_to(db.session, tenant_named("demo").id):
        account = db.session.scalar(
            select(CreditAccount).where(CreditAccount.customer_id == "4996")
        )
        totals = credit.totals(account, now=datetime(2022, 6, 1, tzinfo=UTC))
        tenant = db.session.get(Tenant, account.tenant_id)
        assert tenant.credit_threshold_minutes == 60
    assert (totals.normal, totals.free, totals.total) == (43, 3, 46)
    assert totals.last_year == 15  # 30/07/2021 and 01/02/2022
    assert totals.last.date().isoformat() == "2022-02-01"


def test_the_account_page_and_a_recording_read_the_same_whatever_the_companies(app, world):
    """The companies an account serves come with it in one statement: linking a second
    one adds no statement to the account page or to a recording (issue 10's budget)."""
    browser = signed_in(app, world, world.a.tech_email)
    url = f"/{world.a.slug}/support/accounts/{world.a.account_id}"

    def statements() -> tuple[int, int]:
        counted = []
        count = lambda *_args: counted.append(1)  # noqa: E731
        page = browser.get(url)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert browser.get(url).status_code == 200
            viewing = len(counted)
            counted.clear()
            data = {"csrf_token": csrf_token(page), **INTERVENTION, "client_id": world.a.client_id}
            assert browser.post(f"{url}/interventions", data=data).status_code == 302
            return viewing, len(counted)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)

    one_company = statements()
    admin = signed_in(app, world, world.a.admin_email)
    page = admin.get(url)
    admin.post(f"{url}/links", data={"csrf_token": csrf_token(page), "code": "ALP2"})
    with bound_to(db.session, world.a.tenant_id):
        assert len(account_row(world).links) == 2
    assert statements() == one_company
    viewing, recording = one_company
    assert viewing <= 8
    assert recording <= 8


def test_a_customer_id_another_account_has_is_said_at_the_field_and_opens_nothing(app, world):
    with bound_to(db.session, world.a.tenant_id):
        newcomer = Client(code="ALP9", name="Newcomer Inc")
        db.session.add(newcomer)
        db.session.commit()
        newcomer_id = newcomer.id

    def newcomers_account() -> CreditAccount | None:
        db.session.expire_all()
        with bound_to(db.session, world.a.tenant_id):
            return db.session.scalar(
                select(CreditAccount).where(CreditAccount.billing_client_id == newcomer_id)
            )

    browser = signed_in(app, world, world.a.admin_email)
    url = f"/{world.a.slug}/support/clients/{newcomer_id}/open-account"
    taken = {"csrf_token": csrf_token(browser.get(url)), "customer_id": "ALP2"}
    response = browser.post(url, data=taken)
    assert response.status_code == 200
    assert "Another account already has this customer ID." in response.get_data(as_text=True)
    assert newcomers_account() is None
    with bound_to(db.session, world.a.tenant_id):
        audited = select(AuditEvent).where(AuditEvent.client_id == newcomer_id)
        assert db.session.scalar(audited) is None
    opened = browser.post(url, data=taken | {"customer_id": "ALP9"})
    assert opened.location == f"/{world.a.slug}/support/accounts/{newcomers_account().id}"
