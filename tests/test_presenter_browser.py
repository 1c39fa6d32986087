"""The presenter view in real Chromium against the real server: accessible, and live without a reload."""
import pytest
from conftest import BROWSER_PASSWORD as PASSWORD
from conftest import axe_serious as _axe_serious

from toolkit import facilitator as facilitators
from toolkit import step as steps
from toolkit import workshop as workshops
from toolkit.db import connect

pytestmark = pytest.mark.browser
WORKSHOP = {"title": "Action agenda <Twente> & partners", "region": "Twente", "sector": "Manufacturing",
            "date": "2026-12-01", "language": "en", "dots": "3"}


def test_the_projector_follows_the_room_without_a_reload(server, served_database, chromium):
    db = connect(served_database / "b.db")
    account = facilitators.authenticate(db, "fa@example.org", PASSWORD)
    workshop = workshops.create(db, account["id"], WORKSHOP)
    code = workshop["code"]

    projector = chromium.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    projector.goto(server + "/login")
    projector.fill("#f-email", "fa@example.org")
    projector.fill("#f-password", PASSWORD)
    projector.click("main button.primary")
    projector.goto(f"{server}/facilitator/workshops/{code}/present")
    assert projector.locator(".join-code").inner_text().replace(" ", "") == code
    assert projector.locator("h1").inner_text() == WORKSHOP["title"]
    assert projector.locator(".qr svg[role=img]").count() == 1
    projector.evaluate("window.notReloaded = true")

    # Someone joins: the projector counts them without anyone touching it.
    phone = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.goto(f"{server}/j/{code}")
    phone.fill("#f-name", "Anouk")
    phone.fill("#f-organisation", "Anouk BV")
    phone.select_option("#f-stakeholder_group", "education")
    phone.click("main button.primary")
    projector.wait_for_selector(".present-room-total strong:text-is('1')", timeout=10000)
    assert _axe_serious(projector) == []

    # The room moves on to the drivers: results stay hidden until the facilitator reveals them.
    workshops.set_step(db, workshop["id"], "drivers")
    projector.wait_for_selector(".present-hidden", timeout=10000)
    assert projector.locator("svg.chart").count() == 0
    steps.set_revealed(db, workshop, "drivers", True)
    projector.wait_for_selector("svg.chart", timeout=10000)
    first = workshops.items(db, workshop, kinds=("driver",))[0]["title"]
    assert f"{first}: 0 dots" in projector.locator("#chart-driver-desc").text_content()

    # A vote on the phone appears on the projector's chart, still the same page.
    phone.goto(f"{server}/w/{code}")
    phone.locator("[id^=plus-]").first.click()
    projector.wait_for_function(
        "text => document.querySelector('#chart-driver-desc').textContent.includes(text)",
        arg=f"{first}: 1 dots", timeout=10000)
    assert "Education and training 1" in projector.locator("#chart-driver-desc").text_content()
    assert projector.evaluate("window.notReloaded") is True
    assert _axe_serious(projector) == []
    db.close()
