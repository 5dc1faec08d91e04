"""Issue 22's story for an authenticator app, in Chromium: the demo's administrator turns
two-factor sign-in on with the secret the page shows (the codes computed from it, as an
app would), signs out, cannot get past the password without a code, signs in with one,
cannot use the same code again, signs in once with a recovery code, and turns it off
again (the stories after this one sign him in with his password alone). The code page,
which the width sweep cannot reach, passes axe-core at both widths."""

import re
import time

import pyotp
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_stories import ADMIN
from tests.e2e.test_widths import AXE, check_with_axe

say = ADMIN


def password_step(page: Page, base: str) -> None:
    page.goto(f"{base}/demo/login")
    page.get_by_label(say("User code or email")).fill("admin@demo.test")
    page.get_by_label(say("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=say("Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Two-factor sign-in"))


def give_code(page: Page, code: str) -> None:
    page.get_by_label(say("Code"), exact=True).fill(code)
    page.get_by_role("button", name=say("Sign in"), exact=True).click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name=say("Sign out")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Sign in"))


def test_an_authenticator_app_guards_the_administrators_sign_in(live, pages):
    page = pages("two-factor", locale="fr-CA")
    page.goto(f"{live}/demo/login")
    page.get_by_label(say("User code or email")).fill("admin@demo.test")
    page.get_by_label(say("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=say("Sign in"), exact=True).click()

    page.get_by_role("link", name=say("Two-factor"), exact=True).click()
    page.get_by_role("link", name=say("Set up an authenticator app")).click()
    expect(page.locator("img.qr")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label(say("Code shown by the app")).fill(totp.now())
    page.get_by_role("button", name=say("Turn on"), exact=True).click()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", c) for c in codes)
    page.get_by_role("link", name=say("I have kept them")).click()
    sign_out(page)

    # The password alone opens nothing.
    password_step(page, live)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert check_with_axe(page, AXE.read_text(), f"code page at {width}") == []
    page.goto(f"{live}/demo/")
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Sign in"))

    # The app's next code (within the drift allowed) signs in, once.
    password_step(page, live)
    code = totp.at(time.time() + 30)
    give_code(page, code)
    expect(page.get_by_role("button", name=say("Sign out"))).to_be_visible()
    page.get_by_role("link", name=say("Sessions"), exact=True).click()
    expect(page.get_by_text(say("Password and authenticator app"))).to_be_visible()
    sign_out(page)
    password_step(page, live)
    give_code(page, code)
    expect(page.get_by_role("alert")).to_have_text(
        say("This code is not right, or it was used already.")
    )

    # A recovery code, once.
    give_code(page, codes[0])
    expect(page.get_by_role("button", name=say("Sign out"))).to_be_visible()
    expect(page.locator(".flash").first).to_contain_text("9")
    sign_out(page)
    password_step(page, live)
    give_code(page, codes[0])
    expect(page.get_by_role("alert")).to_be_visible()

    # Off again, with the password.
    give_code(page, codes[1])
    page.get_by_role("link", name=say("Two-factor"), exact=True).click()
    page.locator("#off-password").fill(PASSWORD)
    page.get_by_role("button", name=say("Turn off the authenticator app")).click()
    expect(page.get_by_text(say("Your authenticator app is turned off."))).to_be_visible()
    sign_out(page)
    page.get_by_label(say("User code or email")).fill("admin@demo.test")
    page.get_by_label(say("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=say("Sign in"), exact=True).click()
    expect(page.get_by_role("button", name=say("Sign out"))).to_be_visible()
