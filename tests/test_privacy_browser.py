"""Data care in real Chromium: the confirmation forms with the keyboard only, checked by axe."""
import re

import pytest
from conftest import axe_serious, prepared, signed_in

from toolkit.workshop import spaced_code

pytestmark = pytest.mark.browser


def test_deleting_a_workshop_with_the_keyboard(server, chromium):
    page = signed_in(chromium, server)
    code = prepared(page, server, "To be deleted")
    page.goto(f"{server}/facilitator/workshops/{code}/edit")
    assert page.get_by_role("heading", name="Data care").is_visible()
    assert axe_serious(page) == []

    # A wrong code: the page says so, the field is marked, nothing is deleted.
    page.get_by_label(re.compile("type the join code")).nth(1).focus()
    page.keyboard.type("ABC")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Nothing was changed" in page.locator("#messages").inner_text()
    assert page.locator("#f-delete_code").get_attribute("aria-invalid") == "true"
    assert axe_serious(page) == []

    page.locator("#f-delete_code").focus()
    page.keyboard.type(code.lower())
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/facilitator/$"))
    assert "To be deleted" in page.locator("#messages").inner_text()
    assert page.locator(f"text={spaced_code(code)}").count() == 0  # as the dashboard shows codes
