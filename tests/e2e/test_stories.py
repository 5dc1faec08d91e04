"""The stories of the seeds, as users live them in a real browser (issue 9), each user
reading the pages in their own language (issue 18): the demo's admin in the tenant's
Québec French, its technician Hervé Rayon in the English he chose, the new contacts of
a Québec client in Québec's French, Joseph Szczygiel (JM-ACTIONS) in France's."""

import time

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.words import Words, words

NEW_PASSWORD = "Lavoie-croissants-2026"  # noqa: S105 - a password the contact chooses

#: The languages the demo's users read: the admin has no preference and reads the
#: tenant's fr_CA; the technician prefers en; Joseph prefers fr; a client created
#: through the form gets the tenant's French and country, so its contacts read fr_CA.
ADMIN = CONTACT = words("fr_CA")
TECHNICIAN = words("en")
JOSEPH = words("fr")


def sign_in(page: Page, base: str, login: str, *, form: Words, user: Words) -> None:
    """Signs in through the form, read in the browser's language (``form``); the pages
    that follow are in the user's (``user``), whatever the browser's."""
    page.goto(f"{base}/demo/login")
    page.get_by_label(form("User code or email")).fill(login)
    page.get_by_label(form("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=form("Sign in"), exact=True).click()
    expect(page.get_by_role("button", name=user("Sign out"))).to_be_visible()


def sign_in_as_admin(pages, base: str) -> Page:
    """The demo's admin, in a browser set to English: his pages read the tenant's
    fr_CA all the same, for the browser never chooses a signed-in user's language."""
    admin = pages("staff", locale="en-US")
    sign_in(admin, base, "admin@demo.test", form=words("en"), user=ADMIN)
    return admin


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
    send email"; the contact chooses a password from the mail. Returns the client's URL.
    The staff page reads the admin's fr_CA; the contact's, opened in a browser set to
    fr-CA, reads the new client's fr_CA."""
    say = ADMIN
    staff.goto(f"{base}/demo/clients/new")
    staff.get_by_label(say("Name"), exact=True).fill(company)
    staff.get_by_role("button", name=say("Save")).click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text(company)
    client_url = staff.url
    staff.goto(f"{client_url}/contacts")
    staff.get_by_role("link", name=say("Add a contact")).click()
    staff.get_by_label(say("Name"), exact=True).fill(name)
    staff.get_by_label(say("Email")).fill(email)
    staff.get_by_role("button", name=say("Save")).click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(name)  # the contact's card
    staff.get_by_role("link", name=say("Grant portal access")).click()
    staff.get_by_label(say("Limit access to this IP address (optional)")).fill(network)
    staff.get_by_label(say("Limit access to this branch (optional)")).select_option(
        label="Actif Montréal"
    )
    staff.get_by_role("button", name=say("Save and send email")).click()

    say = CONTACT
    (mail,) = mailbox.wait_for(email)
    contact_page.goto(mailbox.link(mail))
    contact_page.get_by_label(say("Choose a password")).fill(NEW_PASSWORD)
    contact_page.get_by_label(say("Repeat the password")).fill(NEW_PASSWORD)
    contact_page.get_by_role("button", name=say("Save my password")).click()
    expect(contact_page.get_by_text(say("Your password is saved. Welcome!"))).to_be_visible()
    return client_url


def test_seed_004_staff_grants_access_and_the_contact_keeps_the_company_current(
    live, mailbox, pages
):
    staff = sign_in_as_admin(pages, live)
    contact = pages("contact", locale="fr-CA")
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
    say = CONTACT
    expect(contact.get_by_role("button", name=say("Sign out"))).to_be_visible()  # signed in
    contact.goto(f"{live}/demo/account/company")
    contact.get_by_label(say("Phone"), exact=True).fill("+1 514-555-0177")
    contact.get_by_role("button", name=say("Save")).click()
    expect(contact.get_by_text(say("Saved."))).to_be_visible()

    say = ADMIN
    staff.goto(f"{client_url}/log")
    log = staff.locator("table.log")
    expect(log).to_contain_text(say("changed by the client"))
    expect(log).to_contain_text("+1 514-555-0177")
    expect(log).to_contain_text("Émilie Lavoie")


def test_seed_002_technician_records_with_the_stopwatch_and_the_customer_follows(
    live, mailbox, pages
):
    # Hervé Rayon's browser is set to Québec's French; he chose English, so reads English.
    say = TECHNICIAN
    tech = pages("technician", locale="fr-CA")
    sign_in(tech, live, "tech@demo.test", form=words("fr_CA"), user=say)
    tech.goto(f"{live}/demo/support/")
    search = tech.get_by_label(say("Client name, client code, customer ID, contact email or phone"))
    search.fill("JM-ACTIONS")
    search.press("Enter")
    expect(tech.locator("#balance")).to_have_text(say("%(minutes)s min", minutes=50))

    tech.get_by_label(say("Summary")).fill("Réglage de la sauvegarde du poste comptable")
    tech.get_by_role("button", name=say("Start")).click()
    time.sleep(1.5)
    tech.get_by_role("button", name=say("Stop")).click()
    expect(tech.get_by_label(say("Duration (min)"))).to_have_value("1")
    tech.get_by_role("button", name=say("Normal")).click()
    recorded = say("Recorded: the balance is now %(balance)s.", balance="49 min")
    expect(tech.get_by_text(recorded)).to_be_visible()

    tech.get_by_label(say("Summary")).fill("Question sur la facture de mars")
    tech.get_by_label(say("Duration (min)")).fill("4")
    tech.get_by_role("button", name=say("Free")).click()
    expect(tech.get_by_text(recorded)).to_be_visible()

    # The recaps reach Joseph in his French, not in the technician's English.
    say = JOSEPH
    # Joseph also hears of his support requests (the demo's): the recaps are these two.
    normal, free = mailbox.wait_for(
        "jszczygiel@jmactions.com", count=2, subject=say("Your time credit situation")
    )
    assert say("Time credit balance: %(minutes)s minutes.", minutes=49) in mailbox.text(normal)
    assert say("This intervention was done free of charge.") in mailbox.text(free)

    customer = pages("customer", locale="fr-FR")
    sign_in(customer, live, "jszczygiel@jmactions.com", form=say, user=say)
    customer.goto(f"{live}/demo/statement")
    expect(customer.locator("[id^=balance-]")).to_have_text("49 min")
    history = customer.locator("table.history")
    expect(history).to_contain_text("Réglage de la sauvegarde du poste comptable")
    expect(history).to_contain_text("Question sur la facture de mars")

    customer.goto(mailbox.link(free))
    expect(customer.get_by_role("heading", level=1)).to_be_visible()
    customer.get_by_role("button", name=say("Unsubscribe")).click()
    expect(customer.get_by_role("button", name=say("Receive them again"))).to_be_visible()


def test_seed_002_in_quebec_french_the_support_screen_and_the_sign_in_read_as_the_seeds(
    live, pages
):
    """The seeds' own words, written out rather than read from the catalogues: the
    support screen of seed 002 as the demo's admin (fr_CA) sees it, and the sign-in
    form in Québec's French and in France's."""
    admin = sign_in_as_admin(pages, live)
    admin.goto(f"{live}/demo/support/")
    search = admin.get_by_label(
        ADMIN("Client name, client code, customer ID, contact email or phone")
    )
    search.fill("JM-ACTIONS")
    search.press("Enter")  # the one account found opens
    expect(admin.get_by_role("heading", level=1)).to_contain_text("JM-ACTIONS")
    facts = admin.locator("dl.facts")
    expect(facts.get_by_text("Solde CT", exact=True)).to_be_visible()
    expect(facts.get_by_text("Validité CT", exact=True)).to_be_visible()
    expect(admin.get_by_label("Nature de l'intervention")).to_be_visible()
    expect(admin.get_by_label("Notre conseil")).to_be_visible()
    expect(admin.get_by_label("Durée (mn)")).to_be_visible()
    expect(admin.get_by_role("button", name="Normal", exact=True)).to_be_visible()
    expect(admin.get_by_role("button", name="Gratuit", exact=True)).to_be_visible()

    for locale, label in (
        ("fr-CA", "Code d'utilisateur ou adresse courriel"),
        ("fr-FR", "Code utilisateur ou adresse e-mail"),
    ):
        visitor = pages(f"sign-in-{locale}", locale=locale)
        visitor.goto(f"{live}/demo/login")
        expect(visitor.get_by_label(label, exact=True)).to_be_visible()


def test_a_contact_outside_their_network_is_refused_with_the_reason(live, mailbox, pages):
    staff = sign_in_as_admin(pages, live)
    contact = pages("contact", locale="fr-CA")
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
    # The same contact, through the proxy, from an address outside 127.0.0.0/8, in a
    # browser set to Québec's French as theirs is.
    say = CONTACT
    elsewhere = pages(
        "elsewhere", locale="fr-CA", extra_http_headers={"X-Forwarded-For": "203.0.113.50"}
    )
    elsewhere.goto(f"{live}/demo/login")
    elsewhere.get_by_label(say("User code or email")).fill("hugo@garage-cote.example")
    elsewhere.get_by_label(say("Password"), exact=True).fill(NEW_PASSWORD)
    elsewhere.get_by_role("button", name=say("Sign in"), exact=True).click()
    refusal = elsewhere.get_by_role("alert")
    expect(refusal).to_contain_text(
        say(
            "Access to this account is not allowed from your network address. It is limited "
            "to %(network)s and this request comes from %(address)s. Sign in from your usual "
            "network, or ask your contact at %(tenant)s to change the limit.",
            network="127.0.0.0/8",
            address="203.0.113.50",
            tenant="M. Répare Tout",
        )
    )
    expect(elsewhere.get_by_role("button", name=say("Sign out"))).to_have_count(0)
