"""The trust pages in real Chromium under the CSP: team, invitation, participants, removal, audit log."""
import re

import pytest
from conftest import axe_serious, joined, prepared, signed_in

pytestmark = pytest.mark.browser


def test_sharing_a_workshop_removing_someone_and_reading_the_log(server, chromium):
    page = signed_in(chromium, server)
    code = prepared(page, server, "Trust in the room")

    # A colleague without an account gets a one-time link to make one.
    page.get_by_role("link", name="Facilitators").click()
    assert axe_serious(page) == []
    page.fill("#f-email", "colleague@example.org")
    page.click("main button.primary")
    link = page.locator("#invitation-link").input_value()
    assert "/invite/" in link and axe_serious(page) == []
    colleague = chromium.new_context(locale="en-GB").new_page()
    colleague.goto(link)
    assert "Trust in the room" in colleague.locator("main").inner_text()
    assert axe_serious(colleague) == []
    colleague.fill("#f-name", "Colleague")
    colleague.fill("#f-password", "a long enough password")
    colleague.click("main button.primary")
    colleague.wait_for_url(re.compile(f"/facilitator/workshops/{code}"))

    # Someone joins; the facilitator removes them, and their phone is taken to the join page.
    phone = joined(chromium, server, code, "Troll", "companies")
    page.goto(f"{server}/facilitator/workshops/{code}/participants")
    assert axe_serious(page) == []
    page.get_by_role("link", name=re.compile("Remove Troll")).click()
    assert "Remove Troll" in page.locator("h1").inner_text()
    assert axe_serious(page) == []
    page.get_by_role("button", name="Remove").press("Enter")
    page.wait_for_url(re.compile("/participants$"))
    assert "Nobody has joined yet." in page.locator("main").inner_text()
    phone.wait_for_url(re.compile(f"/j/{code}$"), timeout=10_000)

    # Joining closed: the join page says so and offers no form.
    page.get_by_role("button", name="Close joining").press("Enter")
    page.wait_for_url(re.compile("/participants$"))
    newcomer = chromium.new_context(locale="en-GB").new_page()
    newcomer.goto(f"{server}/j/{code}")
    assert "closed joining" in newcomer.locator("main").inner_text()
    assert newcomer.locator("#f-organisation").count() == 0

    # The log names all of it.
    page.goto(f"{server}/facilitator/workshops/{code}/audit")
    log = page.locator("main").inner_text()
    for said in ("Workshop created", "Co-facilitator invited", "Co-facilitator added", "Joined",
                 "Participant removed", "Joining closed"):
        assert said in log, said
    assert axe_serious(page) == []
