"""The support screen's stopwatch in a real browser (issue 19): it shows that it runs
(the time ticks every second beside a running mark, and the state is written out for
screen readers), survives a reload, paused or running, and is forgotten once the
intervention is recorded or the stopwatch stopped. And past its validity date, an
account reads an amber reminder to renew, not a green "go ahead".

It records on S2M's account (8005553) only: the stories expect JM-ACTIONS (4996) as the
demo leaves it, and this file only reads that one."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.words import words

#: The demo's technician, Hervé Rayon, reads English.
say = words("en")


def technician_on(pages, live: str, customer_id: str) -> Page:
    tech = pages("technician", locale="en-US")
    tech.goto(f"{live}/demo/login")
    tech.get_by_label(say("User code or email")).fill("tech@demo.test")
    tech.get_by_label(say("Password"), exact=True).fill(PASSWORD)
    tech.get_by_role("button", name=say("Sign in"), exact=True).click()
    expect(tech.get_by_role("button", name=say("Sign out"))).to_be_visible()
    tech.goto(f"{live}/demo/support/?q={customer_id}")  # one match: straight to the account
    expect(tech.get_by_role("heading", level=1)).to_contain_text(customer_id)
    return tech


def seconds(text: str) -> int:
    *hours, minutes, rest = (int(part) for part in text.split(":"))
    return (hours[0] if hours else 0) * 3600 + minutes * 60 + rest


def shows_at_least(clock, least: int) -> None:
    """Wait until the clock shows ``least`` seconds or more (it ticks every second)."""
    expect(clock).to_have_text(
        re.compile("|".join(f"^00:{second:02d}$" for second in range(least, 60)))
    )


def test_the_stopwatch_ticks_survives_a_reload_and_is_forgotten_once_recorded(live, pages):
    tech = technician_on(pages, live, "8005553")
    watch = tech.locator("[data-stopwatch]")
    clock = watch.get_by_role("timer")
    state = watch.locator("[data-state]")
    expect(clock).to_have_text("00:00")
    expect(state).to_have_attribute("aria-live", "polite")
    expect(state).to_have_text("")

    # Started: it ticks every second, with a running mark and "Running" written out.
    watch.get_by_role("button", name=say("Start")).click()
    expect(state).to_have_text(say("Running"))
    expect(watch).to_have_class(re.compile(r"\brunning\b"))
    expect(watch.locator(".running-mark")).to_be_visible()
    shows_at_least(clock, 2)
    key = tech.evaluate("Object.keys(localStorage).filter(k => k.startsWith('portal.stopwatch'))")
    assert len(key) == 1 and key[0].startswith("portal.stopwatch:demo:"), key

    # Reloaded: the time goes on from where it was, still running.
    before = seconds(clock.inner_text())
    tech.reload()
    expect(state).to_have_text(say("Running"))
    assert seconds(clock.inner_text()) >= before
    shows_at_least(clock, before + 1)

    # Paused, then reloaded: the same time, paused, not ticking.
    watch.get_by_role("button", name=say("Pause")).click()
    expect(state).to_have_text(say("Paused"))
    paused = clock.inner_text()
    tech.reload()
    expect(state).to_have_text(say("Paused"))
    expect(clock).to_have_text(paused)
    tech.wait_for_timeout(1500)
    expect(clock).to_have_text(paused)

    # Running again; a form sent back with an error keeps it running.
    watch.get_by_role("button", name=say("Start")).click()
    expect(state).to_have_text(say("Running"))
    tech.get_by_label(say("Summary")).fill("Paramétrage de l'imprimante")
    tech.get_by_role("button", name=say("Normal")).click()
    expect(tech.get_by_text(say("Give the duration in minutes."))).to_be_visible()
    expect(state).to_have_text(say("Running"))
    shows_at_least(clock, seconds(paused) + 1)

    # Recorded with a typed duration: the stopwatch is forgotten.
    tech.get_by_label(say("Duration (min)")).fill("3")
    tech.get_by_role("button", name=say("Normal")).click()
    recorded = say("Recorded: the balance is now %(balance)s.", balance="-18 min")  # -15 - 3
    expect(tech.get_by_text(recorded)).to_be_visible()
    expect(clock).to_have_text("00:00")
    expect(state).to_have_text("")
    tech.reload()
    expect(clock).to_have_text("00:00")

    # Stopped: the minutes go to the duration field, and a reload starts afresh.
    watch.get_by_role("button", name=say("Start")).click()
    shows_at_least(clock, 1)
    watch.get_by_role("button", name=say("Stop")).click()
    expect(tech.get_by_label(say("Duration (min)"))).to_have_value("1")
    expect(state).to_have_text(say("Stopped: the elapsed time is in the duration field."))
    tech.reload()
    expect(clock).to_have_text("00:00")
    expect(state).to_have_text("")


def test_past_its_validity_jm_actions_reads_an_amber_reminder_to_renew(live, pages):
    tech = technician_on(pages, live, "4996")  # valid until 7/30/21, 50 min left
    policy = tech.locator("#policy")
    expect(policy).to_have_class(re.compile(r"\bpolicy-warning\b"))
    expect(policy).to_contain_text("remind the customer to renew")
    expect(policy).not_to_contain_text("go ahead")
    expect(tech.get_by_role("button", name=say("Normal"))).to_be_enabled()
