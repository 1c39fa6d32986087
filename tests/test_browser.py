"""A whole workshop in real Chromium against the real server: facilitator and participants side by side."""
import re

import pytest
from conftest import BROWSER_PASSWORD as PASSWORD
from conftest import axe_serious as _axe_serious

pytestmark = pytest.mark.browser
def test_a_workshop_from_preparation_to_draft(server, chromium, tmp_path):
    facilitator = chromium.new_context(locale="nl-NL").new_page()
    facilitator.goto(server + "/login")
    facilitator.fill("#f-email", "fa@example.org")
    facilitator.fill("#f-password", PASSWORD)
    facilitator.click("main button.primary")
    facilitator.click("text=Nieuwe workshop voorbereiden")
    facilitator.fill("#f-title", "Actieagenda Twente")
    facilitator.fill("#f-region", "Twente")
    facilitator.fill("#f-sector", "Maakindustrie")
    facilitator.fill("#f-dots", "3")
    facilitator.click("main button.primary")
    shown = facilitator.locator(".code").inner_text().strip()
    # Nine characters without look-alikes, shown in groups of three to read out and type.
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{3} [A-HJ-NP-Z2-9]{3} [A-HJ-NP-Z2-9]{3}", shown)
    assert _axe_serious(facilitator) == []

    # Two participants join on phones: one with the code, one with the link.
    phones = []
    for name, group in (("Anouk", "companies"), ("Daan", "education")):
        phone = chromium.new_context(locale="nl-NL", viewport={"width": 390, "height": 844}).new_page()
        phone.goto(server + "/")
        phone.fill("#f-code", shown.lower())  # typed as shown, spaces and all
        phone.click("main button.primary")
        phone.fill("#f-name", name)
        phone.fill("#f-organisation", f"{name} BV")
        phone.select_option("#f-stakeholder_group", group)
        phone.click("main button.primary")
        phones.append(phone)
    assert "Welkom" in phones[0].locator("h1").inner_text()
    assert _axe_serious(phones[0]) == []

    # The facilitator moves the room on; the phones follow without anyone reloading.
    facilitator.click("button:has-text('Drijfveren →')")
    for phone in phones:
        phone.wait_for_selector("h1:has-text('Drijfveren')", timeout=10000)

    # Someone typing is not interrupted when the room moves on: a banner offers the way.
    phones[1].fill("#f-title", "Half getypt")
    facilitator.click("button:has-text('Knelpunten en succesfactoren →')")
    phones[1].wait_for_selector("#step-banner a", timeout=10000)
    assert phones[1].locator("#f-title").input_value() == "Half getypt"
    phones[0].wait_for_selector("h1:has-text('Knelpunten')", timeout=10000)
    facilitator.click("button:has-text('← Drijfveren')")
    phones[0].wait_for_selector("h1:has-text('Drijfveren')", timeout=10000)
    phones[1].fill("#f-title", "")
    phones[1].reload()

    # Dots by keyboard and by tapping, with the budget of three enforced on screen.
    first = phones[0]
    first.locator("[id^=plus-]").first.focus()
    first.keyboard.press("Enter")
    first.wait_for_selector("#dots-left:has-text('nog 2 stippen')")
    for _ in range(2):
        first.locator("[id^=plus-]").nth(1).click()
        first.wait_for_timeout(300)
    first.wait_for_selector("#dots-left:has-text('nog 0 stippen')")
    assert first.locator("[id^=plus-]").nth(1).get_attribute("aria-disabled") == "true"
    # Focus stays on the button pressed, through the swap, for keyboard users.
    assert first.evaluate("document.activeElement.id").startswith("plus-")
    assert "stip" in first.locator("#messages").inner_text()
    assert _axe_serious(first) == []
    phones[1].locator("[id^=plus-]").first.click()
    phones[1].wait_for_selector("#dots-left:has-text('nog 2 stippen')")

    # Results per stakeholder group; adopt the leading driver.
    facilitator.reload()
    row = facilitator.locator("tbody tr").first
    assert row.locator("td").nth(0).inner_text() == "1" and row.locator("td").nth(1).inner_text() == "1"
    row.locator("button[id^=adopted-]").click()
    facilitator.wait_for_selector("tbody tr >> nth=0 >> button[id^=adopted-][aria-pressed=true]")

    # Recommendations: adopt one, then actions.
    facilitator.click("button:has-text('Knelpunten en succesfactoren →')")
    facilitator.click("button:has-text('Aanbevelingen →')")
    facilitator.locator("tbody tr").first.locator("button[id^=adopted-]").click()
    facilitator.wait_for_selector("tbody tr >> nth=0 >> button[id^=adopted-][aria-pressed=true]")
    facilitator.click("button:has-text('Acties →')")
    phone = phones[1]
    phone.wait_for_selector("h1:has-text('Acties')", timeout=10000)
    phone.select_option("#f-recommendation_id", index=1)
    phone.fill("#f-what", "Leerrecht van 40 uur per jaar")
    phone.fill("#f-lead", "Daan BV")
    phone.fill("#f-starts", "2027")
    phone.click("text=Actie voorstellen")
    phone.wait_for_selector(".action h4:has-text('Leerrecht van 40 uur per jaar')")
    assert _axe_serious(phone) == []

    # Review and export the draft in Word.
    facilitator.click("button:has-text('Bekijken en exporteren →')")
    facilitator.click("text=Concept 1 exporteren")
    assert "Concept 1 is klaar" in facilitator.locator("#messages").inner_text()
    with facilitator.expect_download() as download:
        facilitator.click("text=Concept 1 downloaden")
    path = tmp_path / "agenda.docx"
    download.value.save_as(path)
    from docx import Document

    document = Document(str(path))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert any(cell.startswith("Leerrecht van 40 uur per jaar") for cell in cells)
    assert _axe_serious(facilitator) == []


def test_english_pages_and_a_refused_vote_explained(server, chromium):
    page = chromium.new_context(locale="en-GB").new_page()
    page.goto(server + "/")
    assert page.locator("h1").inner_text() == "Join a workshop"
    page.fill("#f-code", "NOPE22")
    page.click("main button.primary")
    assert "no workshop with this code" in page.locator("#messages").inner_text()
    assert page.locator("#f-code").get_attribute("aria-invalid") == "true"
    page.click("button[lang=nl]")
    assert page.locator("h1").inner_text() == "Doe mee aan een workshop"
