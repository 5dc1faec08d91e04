"""A client's contact proposes a new colleague, a correction or a departure; staff
accept (the change is applied as their edit) or reject (the client sees why)."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Contact, ContactProposal, ProposalState
from portal.services import proposals
from portal.tenancy import bound_to
from tests.conftest import csrf_token, login
from tests.test_clients import log_of, post_form

NEWCOMER = {
    "name": "Anne Nouvelle",
    "title": "Comptable",
    "department": "Finance",
    "email": "anne@alpha-client.example",
    "phone": "514 555 0123",
    "mobile": "",
    "location": "",
    "note": "She replaces Paul.",
}


@pytest.fixture
def colleague(world) -> int:
    """A second contact of the client user's company."""
    with bound_to(db.session, world.a.tenant_id):
        person = Contact(
            client_id=world.a.client_id,
            name="Paul Ancien",
            title="Comptable",
            email="paul@alpha-client.example",
            phone="+1 514-555-0100",
        )
        db.session.add(person)
        db.session.commit()
        return person.id


def signed_in(app, world, who: str):
    browser = app.test_client()
    login(browser, world.a.slug, world.a.client_user_email if who == "client" else who)
    return browser


def proposal_rows(world) -> list[ContactProposal]:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.scalars(
            select(ContactProposal)
            .where(ContactProposal.client_id == world.a.client_id)
            .order_by(ContactProposal.id)
        ).all()


def contact_row(world, contact_id: int) -> Contact:
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        return db.session.get(Contact, contact_id)


def decide(browser, world, proposal_id: int, verdict: str, **data):
    page = browser.get(f"/{world.a.slug}/proposals/{proposal_id}")
    assert page.status_code == 200
    return browser.post(
        f"/{world.a.slug}/proposals/{proposal_id}/{verdict}",
        data={"csrf_token": csrf_token(page), **data},
    )


def test_a_new_colleague_is_proposed_seen_by_staff_and_accepted(app, world, colleague):
    client_user = signed_in(app, world, "client")
    page = client_user.get(f"/{world.a.slug}/account/colleagues").get_data(as_text=True)
    assert "Paul Ancien" in page and "paul@alpha-client.example" in page
    assert (
        post_form(client_user, f"/{world.a.slug}/account/colleagues/new", NEWCOMER).status_code
        == 302
    )
    proposal = proposal_rows(world)[-1]
    assert proposal.state is ProposalState.PENDING and proposal.contact_id is None
    assert proposal.values["phone"] == "+1 514-555-0123" and proposal.note == "She replaces Paul."

    staff = signed_in(app, world, world.a.admin_email)
    client_page = staff.get(f"/{world.a.slug}/clients/{world.a.client_id}").get_data(as_text=True)
    assert "New contact: Anne Nouvelle" in client_page
    assert decide(staff, world, proposal.id, "accept").status_code == 302
    with bound_to(db.session, world.a.tenant_id):
        anne = db.session.scalar(select(Contact).where(Contact.name == "Anne Nouvelle"))
        assert (anne.client_id, anne.email, anne.title) == (
            world.a.client_id,
            "anne@alpha-client.example",
            "Comptable",
        )
    assert proposal_rows(world)[-1].state is ProposalState.ACCEPTED
    actions = [(e.action, e.actor_id) for e in log_of(world.a.tenant_id, world.a.client_id)]
    assert actions[-3:] == [
        ("proposal.created", world.a.client_user_id),
        ("contact.created", world.a.admin_id),
        ("proposal.accepted", world.a.admin_id),
    ]
    colleagues = client_user.get(f"/{world.a.slug}/account/colleagues").get_data(as_text=True)
    assert "Anne Nouvelle" in colleagues and "Accepted" in colleagues


def test_a_correction_keeps_only_what_differs_and_leaves_staff_edits_alone(app, world, colleague):
    client_user = signed_in(app, world, "client")
    url = f"/{world.a.slug}/account/colleagues/{colleague}/correction"
    assert (
        post_form(
            client_user,
            url,
            {
                "name": "Paul Ancien",
                "title": "Directeur financier",
                "department": "",
                "email": "paul@alpha-client.example",
                "phone": "514 555 0100",
                "mobile": "",
                "location": "",
                "note": "",
            },
        ).status_code
        == 302
    )
    proposal = proposal_rows(world)[-1]
    assert proposal.values == {"title": "Directeur financier"}
    with bound_to(db.session, world.a.tenant_id):  # staff edit the phone meanwhile
        db.session.get(Contact, colleague).phone = "+1 514-555-0199"
        db.session.commit()
    staff = signed_in(app, world, world.a.admin_email)
    review = staff.get(f"/{world.a.slug}/proposals/{proposal.id}").get_data(as_text=True)
    assert "Comptable" in review and "Directeur financier" in review
    decide(staff, world, proposal.id, "accept")
    paul = contact_row(world, colleague)
    assert (paul.title, paul.phone) == ("Directeur financier", "+1 514-555-0199")


def test_a_departure_archives_the_contact_once_accepted(app, world, colleague):
    client_user = signed_in(app, world, "client")
    url = f"/{world.a.slug}/account/colleagues/{colleague}/correction"
    page = client_user.get(url)
    form = {
        "name": "Paul Ancien",
        "email": "paul@alpha-client.example",
        "title": "Comptable",
        "phone": "+1 514-555-0100",
        "departed": "y",
    }
    client_user.post(url, data={"csrf_token": csrf_token(page), **form})
    assert contact_row(world, colleague).archived_at is None
    staff = signed_in(app, world, world.a.admin_email)
    decide(staff, world, proposal_rows(world)[-1].id, "accept")
    assert contact_row(world, colleague).archived_at is not None
    page = client_user.get(f"/{world.a.slug}/account/colleagues").get_data(as_text=True)
    assert "Paul Ancien has left the company" in page


def test_a_rejection_changes_nothing_and_the_client_sees_why(app, world, colleague):
    client_user = signed_in(app, world, "client")
    post_form(client_user, f"/{world.a.slug}/account/colleagues/new", NEWCOMER)
    proposal = proposal_rows(world)[-1]
    staff = signed_in(app, world, world.a.admin_email)
    decide(staff, world, proposal.id, "reject", reason="We already have Anne as a supplier.")
    assert proposal_rows(world)[-1].state is ProposalState.REJECTED
    with bound_to(db.session, world.a.tenant_id):
        assert db.session.scalar(select(Contact).where(Contact.name == "Anne Nouvelle")) is None
    event = log_of(world.a.tenant_id, world.a.client_id)[-1]
    assert event.action == "proposal.rejected" and event.actor_id == world.a.admin_id
    page = client_user.get(f"/{world.a.slug}/account/colleagues").get_data(as_text=True)
    assert "Rejected: We already have Anne as a supplier." in page


def test_a_proposal_is_decided_once(app, world, colleague):
    client_user = signed_in(app, world, "client")
    post_form(client_user, f"/{world.a.slug}/account/colleagues/new", NEWCOMER)
    proposal = proposal_rows(world)[-1]
    first, second = (signed_in(app, world, world.a.admin_email) for _ in range(2))
    url = f"/{world.a.slug}/proposals/{proposal.id}"
    first_token, second_token = (csrf_token(browser.get(url)) for browser in (first, second))
    first.post(f"{url}/accept", data={"csrf_token": first_token})
    late = second.post(f"{url}/reject", data={"csrf_token": second_token}, follow_redirects=True)
    assert "already decided" in late.get_data(as_text=True)
    assert proposal_rows(world)[-1].state is ProposalState.ACCEPTED
    with bound_to(db.session, world.a.tenant_id):
        assert (
            len(db.session.scalars(select(Contact).where(Contact.name == "Anne Nouvelle")).all())
            == 1
        )


def test_bad_input_is_refused_at_the_field_and_nothing_is_stored(app, world, colleague):
    client_user = signed_in(app, world, "client")
    before = len(proposal_rows(world))
    response = post_form(
        client_user,
        f"/{world.a.slug}/account/colleagues/new",
        {**NEWCOMER, "name": " ", "email": "not an address", "note": "x" * 600},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="name-error"' in body
    assert 'id="email-error"' in body and 'id="note-error"' in body
    unchanged = post_form(
        client_user,
        f"/{world.a.slug}/account/colleagues/{colleague}/correction",
        {
            "name": "Paul Ancien",
            "title": "Comptable",
            "email": "paul@alpha-client.example",
            "phone": "+1 514-555-0100",
        },
    )
    assert "Nothing differs from the card" in unchanged.get_data(as_text=True)
    assert len(proposal_rows(world)) == before


def test_waiting_proposals_are_capped(app, world, monkeypatch):
    monkeypatch.setattr(proposals, "MAX_PENDING", 2)  # the fixture already holds one
    client_user = signed_in(app, world, "client")
    url = f"/{world.a.slug}/account/colleagues/new"
    assert post_form(client_user, url, NEWCOMER).status_code == 302
    refused = post_form(client_user, url, {**NEWCOMER, "name": "Third Person"})
    assert "already waiting for a decision" in refused.get_data(as_text=True)
    assert len(proposal_rows(world)) == 2


def test_staff_without_contacts_edit_cannot_decide(app, world):
    tech = signed_in(app, world, world.a.tech_email)
    assert tech.get(f"/{world.a.slug}/proposals/{world.a.proposal_id}").status_code == 403
    tech_token = csrf_token(tech.get(f"/{world.a.slug}/password/change"))
    assert (
        tech.post(
            f"/{world.a.slug}/proposals/{world.a.proposal_id}/accept",
            data={"csrf_token": tech_token},
        ).status_code
        == 403
    )
    assert proposal_rows(world)[0].state is ProposalState.PENDING
