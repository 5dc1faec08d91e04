"""Issue 22's story for a customer's data (GDPR articles 15 and 20), in Chromium with the
outbox worker running as in production: Joseph asks for his data, the progress page
refreshes itself until the worker has built the file, and the ZIP he downloads opens,
with his own account and his company's statement in it."""

import csv
import io
import json
import zipfile

from playwright.sync_api import expect

from tests.e2e.test_stories import JOSEPH, sign_in

say = JOSEPH


def test_a_customer_downloads_his_data_and_the_file_opens(live, pages):
    page = pages("data", locale="fr-FR")
    sign_in(page, live, "jszczygiel@jmactions.com", form=say, user=say)
    page.goto(f"{live}/demo/account")
    page.get_by_role("link", name=say("Your data")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Your data"))
    page.get_by_role("button", name=say("Prepare my data")).click()
    # "Download my data (ZIP, 12.3 kB)": the size is the worker's to know.
    label = say("Download my data (ZIP, %(size)s kB)", size="").split("(")[0].strip()
    download_link = page.get_by_role("link", name=label)
    expect(download_link).to_be_visible(timeout=60_000)  # the page refreshes until ready
    with page.expect_download() as waiting:
        download_link.click()
    download = waiting.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        names = set(archive.namelist())
        assert {"README.txt", "me.json", "contact.json", "company.json"} <= names
        me = json.loads(archive.read("me.json"))
        entries = list(csv.reader(io.TextIOWrapper(archive.open("time-credit.csv"), "utf-8")))
    assert me["email"] == "jszczygiel@jmactions.com"
    assert len(entries) > 1, "the company's statement, a header and its entries"
