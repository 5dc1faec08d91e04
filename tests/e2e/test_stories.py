"""The stories of the seeds, as users live them in a real browser (issue 9)."""

import time

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD

NEW_PASSWORD = "Lavoie-croissants-2026"  # noqa: S105 - a password the contact chooses


def sign_in(page: Page, base: str, login: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/demo/login")
    page.get_by_label("User code or email").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def grant_a_new_contact(
    staff: Page,
    base: str,
    mailbox,
    contact_page: Page,
    *,
    company: str,
    name: str,
    email: str,
    network: str,
) -> str:
    """Seed 004: create client and contact, open the card, the key, limits, "Save and
    send email"; the contact chooses a password from the mail. Returns the client's URL."""
    staff.goto(f"{base}/demo/clients/new")
    staff.get_by_label("Name", exact=True).fill(company)
    staff.get_by_role("button", name="Save").click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text(company)
    client_url = staff.url
    staff.goto(f"{client_url}/contacts")
    staff.get_by_role("link", name="Add a contact").click()
    staff.get_by_label("Name", exact=True).fill(name)
    staff.get_by_label("Email").fill(email)
    staff.get_by_role("button", name="Save").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(name)  # the contact's card
    staff.get_by_role("link", name="Grant portal access").click()
    staff.get_by_label("Limit access to this IP address (optional)").fill(network)
    staff.get_by_label("Limit access to this branch (optional)").select_option(
        label="Actif Montréal"
    )
    staff.get_by_role("button", name="Save and send email").click()

    (mail,) = mailbox.wait_for(email)
    contact_page.goto(mailbox.link(mail))
    contact_page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    contact_page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    contact_page.get_by_role("button", name="Save my password").click()
    expect(contact_page.get_by_text("Your password is saved. Welcome!")).to_be_visible()
    return client_url


def test_seed_004_staff_grants_access_and_the_contact_keeps_the_company_current(
    live, mailbox, pages
):
    staff, contact = pages("staff"), pages("contact")
    sign_in(staff, live, "admin@demo.test")
    client_url = grant_a_new_contact(
        staff,
        live,
        mailbox,
        contact,
        company="Boulangerie Lavoie",
        name="Émilie Lavoie",
        email="emilie@boulangerie-lavoie.example",
        network="127.0.0.0/8",
    )
    expect(contact.get_by_role("button", name="Sign out")).to_be_visible()  # signed in
    contact.goto(f"{live}/demo/account/company")
    contact.get_by_label("Phone", exact=True).fill("+1 514-555-0177")
    contact.get_by_role("button", name="Save").click()
    expect(contact.get_by_text("Saved.")).to_be_visible()

    staff.goto(f"{client_url}/log")
    log = staff.locator("table.log")
    expect(log).to_contain_text("changed by the client")
    expect(log).to_contain_text("+1 514-555-0177")
    expect(log).to_contain_text("Émilie Lavoie")


def test_seed_002_technician_records_with_the_stopwatch_and_the_customer_follows(
    live, mailbox, pages
):
    tech = pages("technician")
    sign_in(tech, live, "tech@demo.test")
    tech.goto(f"{live}/demo/support/")
    search = tech.get_by_label("Client name, client code, customer ID, contact email or phone")
    search.fill("JM-ACTIONS")
    search.press("Enter")
    expect(tech.locator("#balance")).to_have_text("50 min")

    tech.get_by_label("Summary").fill("Réglage de la sauvegarde du poste comptable")
    tech.get_by_role("button", name="Start").click()
    time.sleep(1.5)
    tech.get_by_role("button", name="Stop").click()
    expect(tech.get_by_label("Duration (min)")).to_have_value("1")
    tech.get_by_role("button", name="Normal").click()
    expect(tech.get_by_text("Recorded: the balance is now 49 min.")).to_be_visible()

    tech.get_by_label("Summary").fill("Question sur la facture de mars")
    tech.get_by_label("Duration (min)").fill("4")
    tech.get_by_role("button", name="Free").click()
    expect(tech.get_by_text("Recorded: the balance is now 49 min.")).to_be_visible()

    normal, free = mailbox.wait_for("jszczygiel@jmactions.com", count=2)
    assert "Time credit balance: 49 minutes." in mailbox.text(normal)
    assert "This intervention was done free of charge." in mailbox.text(free)

    customer = pages("customer")
    sign_in(customer, live, "jszczygiel@jmactions.com")
    customer.goto(f"{live}/demo/statement")
    expect(customer.locator("[id^=balance-]")).to_have_text("49 min")
    history = customer.locator("table.history")
    expect(history).to_contain_text("Réglage de la sauvegarde du poste comptable")
    expect(history).to_contain_text("Question sur la facture de mars")

    customer.goto(mailbox.link(free))
    expect(customer.get_by_role("heading", level=1)).to_be_visible()
    customer.get_by_role("button", name="Unsubscribe").click()
    expect(customer.get_by_role("button", name="Receive them again")).to_be_visible()


def test_a_contact_outside_their_network_is_refused_with_the_reason(live, mailbox, pages):
    staff, contact = pages("staff"), pages("contact")
    sign_in(staff, live, "admin@demo.test")
    grant_a_new_contact(
        staff,
        live,
        mailbox,
        contact,
        company="Garage Côté",
        name="Hugo Côté",
        email="hugo@garage-cote.example",
        network="127.0.0.0/8",
    )
    # The same contact, through the proxy, from an address outside 127.0.0.0/8.
    elsewhere = pages("elsewhere", extra_http_headers={"X-Forwarded-For": "203.0.113.50"})
    elsewhere.goto(f"{live}/demo/login")
    elsewhere.get_by_label("User code or email").fill("hugo@garage-cote.example")
    elsewhere.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    elsewhere.get_by_role("button", name="Sign in").click()
    refusal = elsewhere.get_by_role("alert")
    expect(refusal).to_contain_text(
        "Access to this account is not allowed from your network address. It is limited "
        "to 127.0.0.0/8 and this request comes from 203.0.113.50."
    )
    expect(elsewhere.get_by_role("button", name="Sign out")).to_have_count(0)
