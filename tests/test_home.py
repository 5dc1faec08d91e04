"""The home page at /<tenant>/, where signing in lands: by role, what needs attention.
A technician finds the support search first, the accounts they served lately and those
that need care; an administrator or sales the invitations not yet accepted, the client
proposals waiting, the accounts that need care and the refused sign-ins; a client's
contact their time credit first, their last interventions, what their company's card
lacks and the support desk's phone. Each block has an empty state and a link to the
full list; the page costs the same statements whatever the data's size; and staff who
see part of the tenant see only their clients' accounts."""

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Billing,
    Client,
    Contact,
    ContactProposal,
    CreditAccount,
    CreditAccountClient,
    EntryKind,
    Invitation,
    LedgerEntry,
    ProposalState,
    Role,
    SystemRole,
    Tenant,
    User,
    UserKind,
    UserStatus,
)
from portal.models.base import utcnow
from portal.services.tenants import create_staff_user, role_named, system_role
from portal.tenancy import bound_to
from tests.conftest import PASSWORD_HASH, csrf_token, login

SALES_EMAIL = "sales@alpha.test"


def browser_for(app, world, email: str):
    browser = app.test_client()
    assert login(browser, world.a.slug, email).status_code == 302
    return browser


def home_page(browser, world) -> str:
    response = browser.get(f"/{world.a.slug}/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def block(page: str, name: str) -> str:
    """The HTML of one block of the home page ('' when the page has none)."""
    match = re.search(
        rf'<section class="home-block" aria-labelledby="home-{name}">(.*?)</section>', page, re.S
    )
    return match.group(1) if match else ""


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def blocks_in_order(page: str) -> list[str]:
    return re.findall(r'aria-labelledby="home-([a-z]+)"', page)


def today() -> date:
    return utcnow().date()


def add_account(
    world,
    customer_id: str,
    *,
    client_id: int | None = None,
    balance: int = 50,
    npi: bool = False,
    valid_until: date | None = None,
) -> int:
    """An account of the client (by default the fixture client), written directly."""
    with bound_to(db.session, world.a.tenant_id):
        owner = client_id or world.a.client_id
        account = CreditAccount(
            customer_id=customer_id,
            billing_client_id=owner,
            balance_minutes=balance,
            npi=npi,
            valid_until=valid_until,
        )
        account.links.append(CreditAccountClient(client_id=owner))
        db.session.add(account)
        db.session.commit()
        return account.id


def add_entries(
    world,
    account_id: int,
    count: int,
    *,
    by: str | None = None,
    start: datetime | None = None,
    kind: EntryKind = EntryKind.INTERVENTION,
    client_id: int | None = None,
) -> None:
    """``count`` entries of 6 minutes on an account, an hour apart from ``start``,
    recorded by the user whose email is ``by``."""
    start = start or utcnow() - timedelta(days=30)
    with bound_to(db.session, world.a.tenant_id):
        account = db.session.get(CreditAccount, account_id)
        technician_id = db.session.scalar(select(User.id).where(User.email == by)) if by else None
        for number in range(count):
            account.entry_count += 1
            before = account.balance_minutes
            delta = -6 if kind is EntryKind.INTERVENTION else 6
            account.balance_minutes += delta
            db.session.add(
                LedgerEntry(
                    account_id=account.id,
                    position=account.entry_count,
                    kind=kind,
                    billing=Billing.NORMAL if kind is EntryKind.INTERVENTION else None,
                    minutes=6,
                    delta=delta,
                    credit_before=before,
                    credit_after=account.balance_minutes,
                    summary=f"{account.customer_id} work {account.entry_count}",
                    technician_id=technician_id,
                    client_id=client_id or account.billing_client_id,
                    created_at=start + timedelta(hours=number),
                )
            )
        db.session.commit()


def add_sales(world) -> str:
    with bound_to(db.session, world.a.tenant_id):
        sales = create_staff_user(
            email=SALES_EMAIL,
            name="Alpha Sales",
            password=None,
            role=role_named("Sales administration"),
        )
        sales.password_hash = PASSWORD_HASH
        sales.status = UserStatus.ACTIVE
        db.session.commit()
    return SALES_EMAIL


def add_invited(world, name: str, *, client: bool, sent: datetime, days: int = 7) -> None:
    """A user who has not chosen a password yet, with the link sent at ``sent``."""
    with bound_to(db.session, world.a.tenant_id):
        slug = re.sub(r"\W", "", name.lower())
        if client:
            contact = Contact(client_id=world.a.client_id, name=name, email=f"{slug}@client.test")
            db.session.add(contact)
            db.session.flush()
            user = User(
                code=f"C{slug}",
                email=contact.email,
                name=name,
                role=system_role(SystemRole.CLIENT),
                kind=UserKind.CLIENT,
                client_id=world.a.client_id,
                contact_id=contact.id,
                status=UserStatus.INVITED,
            )
            db.session.add(user)
        else:
            user = create_staff_user(
                email=f"{slug}@alpha.test", name=name, password=None, role=role_named("Staff")
            )
        db.session.flush()
        db.session.add(
            Invitation(
                user_id=user.id,
                nonce_hash="0" * 64,
                created_at=sent,
                expires_at=sent + timedelta(days=days),
            )
        )
        db.session.commit()


def add_refusal(world, login_name: str, *, at: datetime, action="auth.login_failed") -> None:
    with bound_to(db.session, world.a.tenant_id):
        db.session.add(
            AuditEvent(
                action=action,
                created_at=at,
                ip_address="198.51.100.7",
                details={"login": login_name, "user_id": None, "reason": "password"},
            )
        )
        db.session.commit()


def set_tenant(world, **values) -> None:
    with bound_to(db.session, world.a.tenant_id):
        tenant = db.session.get(Tenant, world.a.tenant_id)
        for name, value in values.items():
            setattr(tenant, name, value)
        db.session.commit()


# Signing in ----------------------------------------------------------------------------


def test_signing_in_lands_on_the_home_page_and_a_next_page_still_wins(app, world):
    for email in (world.a.admin_email, world.a.tech_email, world.a.client_user_email):
        browser = app.test_client()
        response = login(browser, world.a.slug, email)
        assert response.headers["Location"] == f"/{world.a.slug}/", email
        assert browser.get(f"/{world.a.slug}/").status_code == 200

    browser = app.test_client()
    page = browser.get(f"/{world.a.slug}/login?next=/{world.a.slug}/clients/")
    response = browser.post(
        f"/{world.a.slug}/login?next=/{world.a.slug}/clients/",
        data={
            "csrf_token": csrf_token(page),
            "login": world.a.tech_email,
            "password": "correct horse battery",
        },
    )
    assert response.headers["Location"] == f"/{world.a.slug}/clients/"


def test_a_visitor_is_asked_to_sign_in(client, world):
    response = client.get(f"/{world.a.slug}/")
    assert response.status_code == 302
    assert f"/{world.a.slug}/login" in response.headers["Location"]


# The technician ------------------------------------------------------------------------


def test_a_technician_finds_the_support_search_first_then_their_accounts(app, world):
    page = home_page(browser_for(app, world, world.a.tech_email), world)
    assert blocks_in_order(page) == ["search", "served", "care"]
    search = block(page, "search")
    assert f'action="/{world.a.slug}/support/"' in search and 'method="get"' in search
    assert re.search(r'<label for="q">[^<]+</label>', search)
    assert 'name="q"' in search
    # Nothing of the administration's: no invitations, proposals or refusals.
    assert "Invitations not yet accepted" not in page and "Sign-ins refused" not in page


def test_the_accounts_a_technician_served_latest_first_each_once(app, world):
    tech = browser_for(app, world, world.a.tech_email)
    served = block(home_page(tech, world), "served")
    assert "You have not recorded any intervention yet." in served
    assert f'href="/{world.a.slug}/support/"' in served

    start = utcnow() - timedelta(days=20)
    ids = [add_account(world, f"SERVED{number}") for number in range(7)]
    for number, account_id in enumerate(ids):  # SERVED6 the latest
        add_entries(
            world, account_id, 2, by=world.a.tech_email, start=start + timedelta(days=number)
        )
    # The first account served again, today: it comes first, once.
    add_entries(world, ids[0], 1, by=world.a.tech_email, start=utcnow() - timedelta(hours=1))
    # Another's work does not count as the technician's.
    other = add_account(world, "BYADMIN")
    add_entries(world, other, 3, by=world.a.admin_email, start=utcnow())

    served = text(block(home_page(tech, world), "served"))
    listed = re.findall(r"\b(SERVED\d|BYADMIN)\b", served)
    assert listed == ["SERVED0", "SERVED6", "SERVED5", "SERVED4", "SERVED3"]
    assert world.a.client_name in served
    assert "You have not recorded" not in served


def test_the_accounts_that_need_care_with_their_reason(app, world):
    tech = browser_for(app, world, world.a.tech_email)
    care = block(home_page(tech, world), "care")
    assert "No account needs care" in text(care)
    assert "1 h" in text(care), "the tenant's threshold, 60 minutes, is named"
    assert f'href="/{world.a.slug}/support/"' in care

    add_account(world, "FLAGGED", npi=True)
    add_account(world, "DEBT", balance=-61)
    add_account(world, "ATLIMIT", balance=-60)  # within the threshold: no care
    add_account(world, "PASSED", valid_until=today() - timedelta(days=1))
    add_account(world, "ENDING", valid_until=today() + timedelta(days=30))
    add_account(world, "LATER", valid_until=today() + timedelta(days=31))
    care = block(home_page(tech, world), "care")
    rows = {
        re.search(r">([A-Z]+)</a>", row).group(1): text(row)
        for row in re.findall(r"<tr>(.*?)</tr>", care.split("<tbody>")[1], re.S)
    }
    assert list(rows) == ["FLAGGED", "DEBT", "PASSED", "ENDING"]
    assert "do not intervene" in rows["FLAGGED"]
    assert "Debt beyond the 1 h allowed" in rows["DEBT"] and "-1 h 01 min" in rows["DEBT"]
    assert "Validity passed" in rows["PASSED"]
    assert "Validity ends within 30 days" in rows["ENDING"]
    assert all(world.a.client_name in row for row in rows.values())
    assert "Only the first" not in care

    set_tenant(world, credit_threshold_minutes=120)
    rows = text(block(home_page(tech, world), "care"))
    assert "DEBT" not in rows, "a debt within the tenant's threshold needs no care"


def test_at_most_ten_accounts_needing_care_are_listed_the_most_pressing_first(app, world):
    for number in range(12):
        add_account(world, f"END{number:02d}", valid_until=today() + timedelta(days=2))
    add_account(world, "FLAGGED", npi=True)
    care = block(home_page(browser_for(app, world, world.a.tech_email), world), "care")
    listed = re.findall(r">(FLAGGED|END\d\d)</a>", care)
    assert len(listed) == 10 and listed[0] == "FLAGGED"
    assert "Only the first 10 are shown." in care


# The administrator and sales -----------------------------------------------------------


def test_an_administrator_sees_invitations_proposals_care_and_refusals(app, world):
    admin = browser_for(app, world, world.a.admin_email)
    page = home_page(admin, world)
    assert blocks_in_order(page) == [
        "search",  # the fixture's administrator may also record interventions
        "served",
        "invitations",
        "proposals",
        "care",
        "refusals",
    ]
    # The fixture's two proposals wait, each with a link to its review.
    proposals = block(page, "proposals")
    assert f'href="/{world.a.slug}/proposals/{world.a.proposal_id}"' in proposals
    assert f'href="/{world.a.slug}/proposals/{world.a.other_proposal_id}"' in proposals
    assert f"New contact: {world.a.client_name} Newcomer" in text(proposals)
    assert f'href="/{world.a.slug}/clients/"' in proposals
    # Nobody invited, no refusal yet.
    assert "Everyone invited has chosen a password." in block(page, "invitations")
    assert f'href="/{world.a.slug}/admin/users?state=invited"' in block(page, "invitations")
    assert "No sign-in was refused in the last 7 days." in block(page, "refusals")
    assert f'href="/{world.a.slug}/admin/audit?action=auth.login_failed"' in block(page, "refusals")


def test_the_invitations_not_yet_accepted_pending_and_expired(app, world):
    now = utcnow()
    add_invited(world, "Pending Contact", client=True, sent=now - timedelta(days=1))
    add_invited(world, "Expired Staff", client=False, sent=now - timedelta(days=10))
    admin = browser_for(app, world, world.a.admin_email)
    invitations = block(home_page(admin, world), "invitations")
    rows = re.findall(r"<tr>(.*?)</tr>", invitations.split("<tbody>")[1], re.S)
    assert [text(row).split(" ")[0:2] for row in rows] == [
        ["Pending", "Contact"],
        ["Expired", "Staff"],
    ]
    assert "Pending" in text(rows[0]).split("until")[0] and world.a.client_name in text(rows[0])
    assert "Expired" in re.sub(r"^Expired Staff", "", text(rows[1]))
    assert "Staff" in text(rows[1])
    contact_id = re.search(r'href="/alpha/contacts/(\d+)"', rows[0])
    assert contact_id, "the contact's card, where the link is sent again"

    # A resent link replaces the old one: the user is listed once, by the latest link.
    with bound_to(db.session, world.a.tenant_id):
        user = db.session.scalar(select(User).where(User.name == "Expired Staff"))
        db.session.add(
            Invitation(
                user_id=user.id,
                nonce_hash="1" * 64,
                created_at=now,
                expires_at=now + timedelta(days=7),
            )
        )
        db.session.commit()
    invitations = text(block(home_page(admin, world), "invitations"))
    assert invitations.count("Expired Staff") == 1
    assert invitations.split("Expired Staff")[1].split("Pending Contact")[0].count("Pending") == 1

    # Accepted: no longer listed.
    with bound_to(db.session, world.a.tenant_id):
        for user in db.session.scalars(select(User).where(User.status == UserStatus.INVITED)):
            user.status = UserStatus.ACTIVE
        db.session.commit()
    assert "Everyone invited has chosen a password." in block(
        home_page(admin, world), "invitations"
    )


def test_sales_see_the_invitations_of_client_contacts_only_and_no_refusals(app, world):
    now = utcnow()
    add_invited(world, "Pending Contact", client=True, sent=now - timedelta(days=1))
    add_invited(world, "Invited Staff", client=False, sent=now)
    add_refusal(world, "someone@alpha.test", at=now)
    page = home_page(browser_for(app, world, add_sales(world)), world)
    assert blocks_in_order(page) == ["invitations", "proposals", "care"]
    invitations = text(block(page, "invitations"))
    assert "Pending Contact" in invitations and "Invited Staff" not in invitations
    assert "/admin/" not in page.split('id="content"')[1], "no link sales may not follow"
    assert "someone@alpha.test" not in page


def test_the_sign_in_refusals_of_the_last_seven_days(app, world):
    now = utcnow()
    intruder = app.test_client()
    login(intruder, world.a.slug, world.a.tech_email, "wrong password")
    add_refusal(world, "old@alpha.test", at=now - timedelta(days=8))
    add_refusal(world, "network@alpha.test", at=now, action="auth.network_refused")
    refusals = block(home_page(browser_for(app, world, world.a.admin_email), world), "refusals")
    rows = [text(row) for row in re.findall(r"<tr>(.*?)</tr>", refusals.split("<tbody>")[1], re.S)]
    assert len(rows) == 2
    assert "network@alpha.test" in rows[0] and "outside the allowed network" in rows[0]
    assert world.a.tech_email in rows[1] and "wrong password" in rows[1]
    assert "old@alpha.test" not in refusals

    for number in range(12):
        add_refusal(world, f"guess{number}@alpha.test", at=now)
    refusals = block(home_page(browser_for(app, world, world.a.admin_email), world), "refusals")
    assert len(re.findall(r"<tr>", refusals.split("<tbody>")[1])) == 10
    assert "Only the first 10 are shown." in refusals


# The client's contact ------------------------------------------------------------------


def test_a_client_contact_sees_their_time_credit_first(app, world):
    add_entries(world, world.a.account_id, 2)  # 50 - 12
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(CreditAccount, world.a.account_id).valid_until = date(2030, 7, 30)
        db.session.commit()
    page = home_page(browser_for(app, world, world.a.client_user_email), world)
    assert blocks_in_order(page) == ["credit", "interventions", "company", "support"]
    credit = text(block(page, "credit"))
    assert "Balance 38 min" in credit and "Valid until 7/30/30" in credit
    assert f'href="/{world.a.slug}/statement"' in block(page, "credit")
    # Never another company's account.
    assert world.a.other_client_name not in page
    assert f">{world.a.other_client_name[:3].upper()}2<" not in page


def test_the_client_reads_the_seed_words_in_french(app, world):
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(User, world.a.client_user_id).locale = "fr"
        db.session.commit()
    credit = text(
        block(home_page(browser_for(app, world, world.a.client_user_email), world), "credit")
    )
    assert "Solde CT 50 min" in credit and "Validité CT" in credit


def test_the_client_is_warned_of_a_negative_passed_or_ending_credit(app, world):
    with bound_to(db.session, world.a.tenant_id):
        account = db.session.get(CreditAccount, world.a.account_id)
        account.balance_minutes, account.valid_until = -10, today() - timedelta(days=2)
        db.session.commit()
    browser = browser_for(app, world, world.a.client_user_email)
    credit = text(block(home_page(browser, world), "credit"))
    assert "your time credit is negative" in credit and "expired" in credit
    assert "has passed" in credit
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(CreditAccount, world.a.account_id).valid_until = today() + timedelta(days=3)
        db.session.commit()
    assert "ends soon" in text(block(home_page(browser, world), "credit"))


def test_the_client_sees_their_last_five_interventions_newest_first(app, world):
    browser = browser_for(app, world, world.a.client_user_email)
    interventions = block(home_page(browser, world), "interventions")
    assert "No intervention recorded yet." in interventions
    assert f'href="/{world.a.slug}/statement"' in interventions

    add_entries(world, world.a.account_id, 8, by=world.a.tech_email)
    add_entries(world, world.a.account_id, 1, kind=EntryKind.PURCHASE, start=utcnow())
    interventions = text(block(home_page(browser, world), "interventions"))
    listed = re.findall(r"work (\d+)", interventions)
    assert listed == ["9", "8", "7", "6", "5"], "the purchase (entry 10) is not an intervention"
    assert "Alpha Tech" in interventions and "Normal" in interventions
    assert "6 min" in interventions


def test_the_interventions_of_every_account_the_company_uses(app, world):
    second = add_account(world, "SECOND")
    add_entries(world, world.a.account_id, 3, start=utcnow() - timedelta(days=3))
    add_entries(world, second, 3, start=utcnow() - timedelta(days=1))
    # An account of the other company stays out of sight.
    add_entries(world, world.a.other_account_id, 3, start=utcnow())
    page = home_page(browser_for(app, world, world.a.client_user_email), world)
    interventions = text(block(page, "interventions"))
    assert re.findall(r"(\w+) work (\d+)", interventions) == [
        ("SECOND", "3"),
        ("SECOND", "2"),
        ("SECOND", "1"),
        ("ALP1", "4"),
        ("ALP1", "3"),
    ]
    assert "SECOND" in text(block(page, "credit"))


def test_the_client_sees_what_their_company_card_lacks(app, world):
    browser = browser_for(app, world, world.a.client_user_email)
    company = block(home_page(browser, world), "company")
    needed = re.findall(r"<li>(.*?)</li>", company)
    assert needed == ["a phone number", "an email address"], "the fixture has an address"
    assert f'href="/{world.a.slug}/account/company"' in company
    with bound_to(db.session, world.a.tenant_id):
        client = db.session.get(Client, world.a.client_id)
        client.phone, client.email = "+15145550100", "office@client.test"
        client.billing_address = None
        db.session.commit()
    company = block(home_page(browser, world), "company")
    assert re.findall(r"<li>(.*?)</li>", company) == ["an address"]
    assert "+15145550100" in company
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(Client, world.a.client_id).billing_address = "1 Main Street"
        db.session.commit()
    assert "Your company's card is complete." in block(home_page(browser, world), "company")


def test_the_client_sees_the_support_desk_phone(app, world):
    browser = browser_for(app, world, world.a.client_user_email)
    support = text(block(home_page(browser, world), "support"))
    assert "has not published a support phone number" in support
    set_tenant(world, support_phone="+1 514 555 0199")
    support = block(home_page(browser, world), "support")
    assert 'href="tel:+15145550199"' in support and "+1 514 555 0199" in support
    # Seed 001's week until the tenant sets its own, in words and as "open now" or not.
    support = text(block(home_page(browser, world), "support"))
    assert "Monday to Friday: 9:00 to 18:00" in support
    assert "Saturday: 9:00 to 12:00, urgent matters only" in support
    assert "Open now" in support or "Reopens" in support
    always_closed = [None] * 7
    set_tenant(world, opening_hours=always_closed)
    support = text(block(home_page(browser, world), "support"))
    assert "Monday to Sunday: closed" in support and "Open now" not in support


def test_a_user_whose_role_gives_no_page_is_told_so(app, world):
    with bound_to(db.session, world.a.tenant_id):
        role = Role(name="Nothing yet")
        db.session.add(role)
        user = create_staff_user(email="nobody@alpha.test", name="Nobody", password=None, role=role)
        user.password_hash, user.status = PASSWORD_HASH, UserStatus.ACTIVE
        db.session.commit()
    page = home_page(browser_for(app, world, "nobody@alpha.test"), world)
    assert "Your role does not give access to any page yet." in page
    assert blocks_in_order(page) == []


# Staff who see part of the tenant ------------------------------------------------------


@pytest.mark.parametrize("who", ["branch-limited", "assignment-limited"])
def test_limited_staff_see_only_their_clients_accounts(app, shared_world, who):
    world = shared_world.world
    email = (
        shared_world.branch_tech_email
        if who == "branch-limited"
        else shared_world.assigned_tech_email
    )
    # The other company's own account needs care, and the limited technician once
    # served it (before the limit): neither shows.
    with bound_to(db.session, world.a.tenant_id):
        db.session.get(CreditAccount, world.a.other_account_id).npi = True
        db.session.get(CreditAccount, shared_world.account_id).npi = True
        db.session.get(CreditAccount, world.a.account_id).valid_until = today()
        db.session.commit()
    add_entries(world, world.a.other_account_id, 2, by=email)
    add_entries(world, world.a.account_id, 1, by=email, start=utcnow() - timedelta(days=2))
    page = home_page(browser_for(app, world, email), world)
    care, served = text(block(page, "care")), text(block(page, "served"))
    assert "SHARED" in care and "ALP1" in care
    assert "ALP2" not in care and "ALP2" not in served
    assert "ALP1" in served
    for name in shared_world.hidden_names:
        assert name not in page
    # The shared account shows under the company they see.
    assert world.a.client_name in care


# The statements it costs ---------------------------------------------------------------


def statements(browser, url: str) -> int:
    seen = []
    listener = event.listens_for(db.engine, "before_cursor_execute")(
        lambda *args: seen.append(args[2])
    )
    try:
        assert browser.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def grow_for_everyone(world, scale: int) -> None:
    """Data every block reads, ``scale`` times over."""
    now = utcnow()
    for number in range(scale):
        account_id = add_account(
            world,
            f"GROW{scale}-{number}",
            npi=number % 2 == 0,
            valid_until=today() + timedelta(days=number),
        )
        add_entries(world, account_id, 3, by=world.a.tech_email)
        add_entries(world, world.a.account_id, 2, by=world.a.tech_email)
        add_invited(world, f"Invited {scale} {number}", client=number % 2 == 0, sent=now)
        add_refusal(world, f"guess{scale}-{number}@alpha.test", at=now)
        with bound_to(db.session, world.a.tenant_id):
            client_user = db.session.get(User, world.a.client_user_id)
            db.session.add(
                ContactProposal(
                    client_id=world.a.client_id,
                    proposed_by_id=client_user.id,
                    values={"name": f"Newcomer {scale} {number}"},
                )
            )
            db.session.commit()
    # The client's company uses one more account for each scale.
    add_entries(world, add_account(world, f"MORE{scale}"), scale * 2)


def test_every_home_page_costs_the_same_statements_whatever_the_data(app, world):
    users = {
        "administrator": world.a.admin_email,
        "technician": world.a.tech_email,
        "sales": add_sales(world),
        "client contact": world.a.client_user_email,
    }
    url = f"/{world.a.slug}/"
    grow_for_everyone(world, 2)
    small = {who: statements(browser_for(app, world, email), url) for who, email in users.items()}
    grow_for_everyone(world, 15)
    large = {who: statements(browser_for(app, world, email), url) for who, email in users.items()}
    assert large == small
    assert max(small.values()) <= 14, small


def test_no_proposal_waiting_says_so(app, world):
    with bound_to(db.session, world.a.tenant_id):
        for proposal in db.session.scalars(select(ContactProposal)):
            proposal.state = ProposalState.REJECTED
        db.session.commit()
    proposals = block(home_page(browser_for(app, world, world.a.admin_email), world), "proposals")
    assert "No proposal from a client waits for a decision." in proposals
    assert f'href="/{world.a.slug}/clients/"' in proposals
