"""The live room in real Chromium: a facilitator and three participants see each other within seconds."""
import pytest
from conftest import BROWSER_PASSWORD, axe_serious, joined, signed_in
from playwright.sync_api import expect

from toolkit import facilitator as facilitators
from toolkit import workshop as workshops
from toolkit.db import connect

pytestmark = pytest.mark.browser
FORM = {"title": "Live agenda", "region": "Twente", "sector": "Manufacturing", "date": "2026-12-01",
        "language": "en", "dots": "3"}
SOON = 4000  # ms: the issue asks for 2 s; the margin absorbs a loaded CI machine


def _dots(page, item_id):
    return page.locator(f"#item-{item_id} .count").inner_text()


def test_live_room(server, served_database, chromium):
    db = connect(served_database / "b.db")
    account = facilitators.authenticate(db, "fa@example.org", BROWSER_PASSWORD)
    made = workshops.create(db, account["id"], FORM)
    code = made["code"]
    drivers = workshops.items(db, made, kinds=("driver",))

    host = signed_in(chromium, server)
    host.goto(f"{server}/facilitator/workshops/{code}")
    people = [joined(chromium, server, code, name, group)
              for name, group in (("Ann", "companies"), ("Ben", "education"), ("Cas", "government"))]
    ann, ben, cas = people
    for page in [host, *people]:
        assert axe_serious(page) == [], page.url

    # The room moves to drivers; every phone follows without a reload.
    host.click("button:has-text('Drivers →')")
    for page in people:
        page.wait_for_selector("h1:has-text('Drivers')", timeout=SOON + 4000)

    # A vote appears on the facilitator's screen without a reload, per stakeholder group.
    host.goto(f"{server}/facilitator/workshops/{code}")
    ann.click(f"#plus-{drivers[0]['id']}")
    row = host.locator(f"#item-{drivers[0]['id']}")
    expect(row.locator("td").nth(0)).to_have_text("1", timeout=SOON)

    # Results stay hidden from the room until revealed, then follow every vote live.
    assert ben.locator(f"#item-{drivers[0]['id']} .result").count() == 0
    host.click("button:has-text('Reveal the results')")
    ben.wait_for_selector(f"#item-{drivers[0]['id']} .result:has-text('Total: 1')", timeout=SOON)
    cas.click(f"#plus-{drivers[0]['id']}")
    ben.wait_for_selector(f"#item-{drivers[0]['id']} .result:has-text('Total: 2')", timeout=SOON)
    assert axe_serious(ben) == []

    # A new item of one participant reaches the others, and nothing typed elsewhere is lost.
    cas.fill("#f-title", "Half typed by Cas")
    ben.fill("#f-title", "Shortage of technicians")
    ben.click("#add-item-heading ~ form button.primary")
    ann.wait_for_selector("#vote-area :text('Shortage of technicians')", timeout=SOON)
    cas.wait_for_selector("#vote-area :text('Shortage of technicians')", timeout=SOON)
    assert cas.locator("#f-title").input_value() == "Half typed by Cas"

    # A comment, while another participant is typing one of their own.
    new_item = workshops.items(db, made, kinds=("driver",))[-1]
    ann.click(f"#comment-form-{new_item['id']}-0 summary")
    ann.fill(f"#comment-{new_item['id']}-0", "Ann typing")
    ben.click(f"#comment-form-{new_item['id']}-0 summary")
    ben.fill(f"#comment-{new_item['id']}-0", "Also in schools")
    ben.click(f"#comment-form-{new_item['id']}-0 button")
    ann.wait_for_selector(f"#item-{new_item['id']} .comments:has-text('Also in schools')", timeout=SOON)
    assert ann.locator(f"#comment-{new_item['id']}-0").input_value() == "Ann typing"

    # The timer shows and counts down on every screen.
    host.fill("#timer-minutes", "2")
    host.click("button:has-text('Start the timer')")
    for page in people:
        page.wait_for_selector("#timer", timeout=SOON)
    first = ann.locator("#timer").inner_text()
    ann.wait_for_timeout(2100)
    assert ann.locator("#timer").inner_text() != first

    # Locking stops votes at once: the button says so and the server refuses.
    host.click("button:has-text('Lock the step')")
    ann.wait_for_selector("#step-status :text('This step is locked.')", timeout=SOON)
    assert ann.locator(f"#plus-{drivers[1]['id']}").get_attribute("aria-disabled") == "true"
    ann.click(f"#plus-{drivers[1]['id']}", force=True)  # aria-disabled still takes a click: refused
    ann.wait_for_selector("#messages :text('locked')", timeout=SOON)
    host.click("button:has-text('Open the step again')")
    ann.wait_for_selector(f"#plus-{drivers[1]['id']}[aria-disabled=false]", timeout=SOON)

    # Merging a duplicate keeps its supporters: Ann's dot moves along, counted once.
    ben.click(f"#plus-{new_item['id']}")
    ann.click(f"#plus-{new_item['id']}")
    ann.wait_for_selector(f"#item-{new_item['id']} .count:has-text('1 dot')", timeout=SOON)
    host.click("#merge summary")
    host.select_option("#merge-source", str(new_item["id"]))
    host.select_option("#merge-target", str(drivers[0]["id"]))
    host.click("#merge button")
    ann.wait_for_selector(f"#item-{new_item['id']}", state="detached", timeout=SOON)
    ann.wait_for_selector(f"#item-{drivers[0]['id']} .count:has-text('2 dots')", timeout=SOON)
    ben.wait_for_selector(f"#item-{drivers[0]['id']} .result:has-text('Total: 4')", timeout=SOON)
    assert "3 voters" in ben.locator(f"#item-{drivers[0]['id']} .result").inner_text()

    # "I'm done" is counted for the facilitator.
    cas.click("#done-button")
    host.wait_for_selector("#step-status :text('1 of 3 participants are done')", timeout=SOON)

    # Coming back on another device with the personal link: same person, same dots.
    link = ann.locator(".rejoin a").get_attribute("href")
    tablet = chromium.new_context(locale="en-GB").new_page()
    tablet.goto(link)
    tablet.wait_for_selector(f"#item-{drivers[0]['id']} .count:has-text('2 dots')", timeout=SOON)

    # The facilitator sees who is connected.
    host.goto(f"{server}/facilitator/workshops/{code}/participants")
    assert host.locator("text=connected").count() >= 3
    assert axe_serious(host) == []

    # A dropped connection catches up when it returns.
    ann.context.set_offline(True)
    ben.click(f"#plus-{drivers[1]['id']}")
    ann.wait_for_timeout(3000)
    ann.context.set_offline(False)
    ann.wait_for_selector(f"#item-{drivers[1]['id']} .result:has-text('Total: 1')", timeout=SOON + 2000)


def test_every_page_passes_axe(server, served_database, chromium):
    db = connect(served_database / "b.db")
    account = facilitators.authenticate(db, "fa@example.org", BROWSER_PASSWORD)
    made = workshops.create(db, account["id"], {**FORM, "language": "nl"})
    code = made["code"]
    visitor = chromium.new_context(locale="nl-NL").new_page()
    for path in ("/", "/login", f"/j/{code}", "/no-such-page", "/setup/not-a-token"):
        visitor.goto(server + path)
        assert axe_serious(visitor) == [], path
    person = joined(chromium, server, code, "Dirk", "workers")
    host = signed_in(chromium, server)
    for path in ("/facilitator/", "/facilitator/workshops/new", f"/facilitator/workshops/{code}/edit",
                 f"/facilitator/workshops/{code}/participants", f"/facilitator/workshops/{code}/present"):
        host.goto(server + path)
        assert axe_serious(host) == [], path
    for key in workshops.STEP_KEYS:
        # Off the page first: a page that follows the room reloads itself, and that reload
        # would abort the test's own navigation.
        person.goto("about:blank")
        workshops.set_step(db, made["id"], key)
        host.goto(f"{server}/facilitator/workshops/{code}?step={key}")
        assert axe_serious(host) == [], key
        person.goto(f"{server}/w/{code}")
        assert axe_serious(person) == [], key
        if key == "drivers":
            person.fill("#f-title", "Eigen punt")
            person.click("#add-item-heading ~ form button.primary")
            own = workshops.items(db, made, kinds=("driver",))[-1]
            host.goto(f"{server}/facilitator/workshops/{code}/items/{own['id']}/edit")
            assert axe_serious(host) == [], "edit item"
        host.goto(f"{server}/facilitator/workshops/{code}/present")
        assert axe_serious(host) == [], f"present {key}"
