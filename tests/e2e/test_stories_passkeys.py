"""Issue 22's story for a passkey, in Chromium with its virtual authenticator (the
DevTools protocol's WebAuthn domain, a platform authenticator that checks its user):
the demo's technician adds a passkey from his two-factor page, signs out, signs in with
the passkey alone, then with his password and the passkey, sees how each session signed
in, and removes the passkey (the stories after this one sign him in with his password
alone)."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_stories import TECHNICIAN
from tests.e2e.test_widths import AXE, check_with_axe

say = TECHNICIAN


def virtual_authenticator(page: Page) -> tuple[object, str]:
    """A passkey device for ``page``'s browser; its id and the protocol session."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    added = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return devtools, added["authenticatorId"]


def sign_out(page: Page) -> None:
    page.get_by_role("button", name=say("Sign out")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Sign in"))


def test_a_passkey_signs_the_technician_in_with_and_without_his_password(live, pages):
    page = pages("passkeys", locale="en-US")
    devtools, device = virtual_authenticator(page)
    page.goto(f"{live}/demo/login")
    page.get_by_label(say("User code or email")).fill("tech@demo.test")
    page.get_by_label(say("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=say("Sign in"), exact=True).click()

    page.get_by_role("link", name=say("Two-factor"), exact=True).click()
    expect(page.get_by_text(say("No passkey yet."))).to_be_visible()
    page.get_by_role("link", name=say("Add a passkey")).click()
    create = page.get_by_role("button", name=say("Create the passkey"))
    create.click()  # without a name the server says so at the field
    expect(page.get_by_text(say("Give this passkey a name."))).to_be_visible()
    page.get_by_label(say("Name of this passkey")).fill("Chromium on the bench")
    page.get_by_role("button", name=say("Create the passkey")).click()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10, "a first second factor brings recovery codes"
    credentials = devtools.send("WebAuthn.getCredentials", {"authenticatorId": device})
    assert len(credentials["credentials"]) == 1
    assert credentials["credentials"][0]["isResidentCredential"]
    page.get_by_role("link", name=say("I have kept them")).click()
    expect(page.get_by_role("cell", name="Chromium on the bench", exact=True)).to_be_visible()
    sign_out(page)

    # The passkey alone: no login, no password.
    page.get_by_role("button", name=say("Sign in with a passkey")).click()
    expect(page.get_by_role("button", name=say("Sign out"))).to_be_visible()
    page.get_by_role("link", name=say("Sessions"), exact=True).click()
    expect(page.get_by_role("cell", name=say("Passkey"), exact=True)).to_be_visible()
    sign_out(page)

    # The password, then the passkey as the second factor.
    page.get_by_label(say("User code or email")).fill("tech@demo.test")
    page.get_by_label(say("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=say("Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Two-factor sign-in"))
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert check_with_axe(page, AXE.read_text(), f"passkey step at {width}") == []
    page.get_by_role("button", name=say("Use a passkey")).click()
    expect(page.get_by_role("button", name=say("Sign out"))).to_be_visible()
    page.get_by_role("link", name=say("Sessions"), exact=True).click()
    expect(page.get_by_role("cell", name=say("Password and passkey"))).to_be_visible()

    # Removed, after a confirmation: the password alone signs him in again.
    page.get_by_role("link", name=say("Two-factor"), exact=True).click()
    page.get_by_role("link", name=say("Remove") + " Chromium on the bench").click()
    page.get_by_role("button", name=say("Remove this passkey")).click()
    expect(page.get_by_text(say("No passkey yet."))).to_be_visible()
    sign_out(page)
    page.get_by_label(say("User code or email")).fill("tech@demo.test")
    page.get_by_label(say("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=say("Sign in"), exact=True).click()
    expect(page.get_by_role("button", name=say("Sign out"))).to_be_visible()
