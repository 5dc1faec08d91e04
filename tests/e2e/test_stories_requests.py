"""Seed 001's support process in a real browser, over a real SMTP server (issue 20):
Joseph Szczygiel (JM-ACTIONS, reading France's French) reports a malfunction with a
screenshot; the technician (reading English) acknowledges it as flash, adds an internal
note and answers, records 15 minutes from it, then resolves it. Joseph receives the
acknowledgement with the priority and the delay, sees the answer and the 15 minutes on
the request and on his statement, never the note, and receives the resolution."""

import re

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.test_stories import JOSEPH, TECHNICIAN, sign_in
from tests.e2e.words import words

NOTE = "Note interne : le pilote d'impression du client est obsolète"
REPLY = "Nous avons reproduit le problème ; une correction arrive."


def screenshot(folder) -> str:
    path = folder / "ecran-impression.png"
    Image.new("RGB", (320, 200), "white").save(path)
    return str(path)


def test_seed_001_a_malfunction_from_report_to_fix(live, mailbox, pages, tmp_path):
    say = JOSEPH
    joseph = pages("customer-requests", locale="fr-FR")
    sign_in(joseph, live, "jszczygiel@jmactions.com", form=say, user=say)
    joseph.get_by_role("link", name=say("Requests"), exact=True).first.click()
    joseph.get_by_role("link", name=say("New request")).first.click()
    joseph.get_by_label(say("What do you need?")).select_option("malfunction")
    joseph.get_by_label(say("Subject")).fill("Les factures ne s'impriment plus")
    joseph.get_by_label(say("Description")).fill("Le bouton Imprimer ne fait rien depuis ce matin.")
    joseph.get_by_label(say("Files")).set_input_files(screenshot(tmp_path))
    joseph.get_by_role("button", name=say("Send the request")).click()
    sent = joseph.locator(".flash-success")
    expect(sent).to_contain_text("R-")
    reference = re.search(r"R-\d{4}-\d{5}", sent.inner_text()).group(0)
    expect(joseph.get_by_role("link", name="ecran-impression.png")).to_be_visible()

    say = TECHNICIAN
    tech = pages("technician-requests", locale="en-US")
    sign_in(tech, live, "tech@demo.test", form=say, user=say)
    tech.get_by_role("link", name=say("Requests"), exact=True).first.click()
    tech.get_by_role("link", name=reference).click()
    tech.get_by_label(say("Priority"), exact=True).select_option("flash")
    tech.get_by_role("button", name=say("Acknowledge")).click()
    expect(tech.get_by_text(say("Acknowledged: the customer is told."))).to_be_visible()

    # The acknowledgement of seed 001: the priority, what it means, the delay.
    (acknowledgement,) = mailbox.wait_for("jszczygiel@jmactions.com", subject=reference)
    text = mailbox.text(acknowledgement)
    assert words("fr")("Priority: %(priority)s", priority="Flash") in text
    assert "trois semaines" in text, "the flash delay of seed 001"

    tech.get_by_label(say("Message")).fill(NOTE)
    tech.get_by_label(
        say("Internal note: staff only, never shown or mailed to the customer")
    ).check()
    tech.get_by_role("button", name=say("Send")).click()
    expect(tech.get_by_text(say("Internal note added."))).to_be_visible()
    tech.get_by_label(say("Message")).fill(REPLY)
    tech.get_by_role("button", name=say("Send")).click()
    expect(tech.get_by_text(say("Reply sent to the customer."))).to_be_visible()

    tech.get_by_role("link", name=say("Record time from this request")).click()
    expect(tech.get_by_label(say("Summary"))).to_have_value(re.compile(reference))
    tech.get_by_label(say("Duration (min)")).fill("15")
    tech.get_by_role("button", name=say("Normal")).click()
    expect(tech.locator("#time-spent")).to_have_text(say("%(minutes)s min", minutes=15))

    say = JOSEPH
    joseph.reload()
    expect(joseph.get_by_text(REPLY)).to_be_visible()
    expect(joseph.locator("#time-spent")).to_have_text(say("%(minutes)s min", minutes=15))
    assert NOTE not in joseph.content()
    joseph.get_by_role("link", name=say("Time credit")).first.click()
    expect(joseph.locator("table.history")).to_contain_text(reference)
    assert NOTE not in joseph.content()

    say = TECHNICIAN
    tech.get_by_label(say("New state")).select_option("resolved")
    tech.get_by_role("button", name=say("Change the state")).click()
    # The acknowledgement, the answer, and seed 001's second mail: the fix is available.
    texts = [
        mailbox.text(mail)
        for mail in mailbox.wait_for("jszczygiel@jmactions.com", count=3, subject=reference)
    ]
    assert any(words("fr")("Your request is resolved: the fix is available.") in t for t in texts)
    assert all(NOTE not in t for t in texts)
