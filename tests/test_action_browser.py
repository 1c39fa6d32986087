"""Planning actions in real Chromium: a collision settled with the keyboard, ratings by keyboard that
live updates leave alone, the impact and effort matrix once revealed, and axe-core on every page."""
import re

import pytest
from conftest import BROWSER_PASSWORD, axe_serious, joined, signed_in
from playwright.sync_api import expect

from toolkit import action as actions
from toolkit import agenda
from toolkit import facilitator as facilitators
from toolkit import participant as participants
from toolkit import workshop as workshops
from toolkit.db import connect

pytestmark = pytest.mark.browser
FORM = {"title": "Action plan", "region": "Twente", "sector": "Manufacturing", "date": "2026-12-01",
        "language": "en", "dots": "3"}
SOON = 4000  # ms: a change reaches another screen within one or two polls of 1.5 s


@pytest.fixture
def plan(server, served_database):
    """An English workshop at the actions step with two adopted recommendations and an action for each."""
    db = connect(served_database / "b.db")
    account = facilitators.authenticate(db, "fa@example.org", BROWSER_PASSWORD)
    made = workshops.create(db, account["id"], FORM)
    recommendations = workshops.items(db, made, kinds=("recommendation",))[:2]
    for recommendation in recommendations:
        workshops.set_adopted(db, made, recommendation["id"], True)
    workshops.set_step(db, made["id"], "actions")
    made = workshops.get(db, made["id"])
    proposed = [
        actions.propose(db, made, {"recommendation_id": recommendations[0]["id"], "what": "Learning rights",
                                   "lead": "Union"}, facilitator_id=account["id"]),
        actions.propose(db, made, {"recommendation_id": recommendations[1]["id"], "what": "Open workshops",
                                   "lead": ""}, facilitator_id=account["id"]),
    ]
    yield db, made, proposed
    db.close()


def _id(db, made, name):
    """The participant id of the person of that name in the workshop."""
    return db.execute("SELECT id FROM participants WHERE workshop_id = ? AND name = ?",
                      [made["id"], name]).fetchone()[0]


def _focused(page, selector):
    return page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector)


def _tab_to(page, selector, limit=60):
    """Press Tab until the element matching selector has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page, selector):
            return
    pytest.fail(f"{selector} cannot be reached with Tab")


def _focus_ring(page):
    """The outline the focused element shows: a keyboard user must see where they are."""
    return page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")


def test_a_collision_is_settled_with_the_keyboard(server, chromium, plan):
    db, made, (first, _second) = plan
    code = made["code"]
    ann = joined(chromium, server, code, "Ann", "companies")
    ben = joined(chromium, server, code, "Ben", "education")
    edit = f"{server}/w/{code}/actions/{first['id']}/edit"
    ann.goto(edit)
    ben.goto(edit)
    assert axe_serious(ben) == [], "edit page"

    # Ann saves first; Ben saves his own wording (and a lead) from the version he opened.
    ann.fill("#f-what", "Learning rights of 40 hours")
    ann.click("main form.card button.primary")
    ann.wait_for_url(re.compile(f"/w/{code}#action-{first['id']}"))
    ben.fill("#f-what", "Learning rights for everyone")
    ben.fill("#f-lead", "Regional college")
    with ben.expect_response(lambda r: r.request.method == "POST") as answer:
        ben.click("main form.card button.primary")
    assert answer.value.status == 409

    # The conflict view shows both versions; nothing of Ben's is lost.
    summary = ben.get_by_role("alert")
    expect(summary).to_contain_text("Someone else saved this action while you were editing")
    expect(summary).to_contain_text("Saved by Ann")
    box = ben.locator(".conflict", has=ben.locator("input[name=choose_what]"))
    expect(box.locator("blockquote")).to_have_text("Learning rights of 40 hours")
    expect(ben.locator("#f-what")).to_have_value("Learning rights for everyone")
    expect(ben.locator("#f-lead")).to_have_value("Regional college")
    assert axe_serious(ben) == [], "conflict view"

    # With the keyboard only: Tab to the choice, arrow to "Theirs", Tab to Save, Enter.
    _tab_to(ben, "input[name=choose_what]")
    assert _focused(ben, "input[name=choose_what][value=mine]:checked")
    assert _focus_ring(ben) != "none"
    ben.keyboard.press("ArrowDown")
    assert _focused(ben, "input[name=choose_what][value=theirs]:checked")
    _tab_to(ben, "main form.card button.primary")
    assert _focus_ring(ben) != "none"
    ben.keyboard.press("Enter")
    ben.wait_for_url(re.compile(f"/w/{code}#action-{first['id']}"))
    expect(ben.locator("#messages")).to_contain_text("was saved")

    # Stored: Ann's wording, Ben's lead; the history names both.
    stored = actions.get(db, made, first["id"])
    assert (stored["what"], stored["lead"]) == ("Learning rights of 40 hours", "Regional college")
    ben.goto(f"{server}/w/{code}/actions/{first['id']}/history")
    entries = ben.locator("ol.history > li")
    expect(entries).to_have_count(3)
    expect(entries.nth(0)).to_contain_text("Ben (Ben Ltd) changed the action")
    expect(entries.nth(0).locator("dl.changes")).to_contain_text("Lead organisation")
    expect(entries.nth(0).locator("ins")).to_have_text("after: Regional college")
    expect(entries.nth(1)).to_contain_text("Ann (Ann Ltd) changed the action")
    expect(entries.nth(1).locator("ins")).to_have_text("after: Learning rights of 40 hours")
    expect(entries.nth(1).locator("del")).to_have_text("before: Learning rights")
    expect(entries.nth(2)).to_contain_text("Fa proposed the action")
    assert axe_serious(ben) == [], "history"


def _pick(page, scale, value):
    """With the radio group of scale focused: Space picks the first, arrow keys move to value."""
    assert _focused(page, f"input[name={scale}]")
    page.keyboard.press("Space")
    for _ in range(value - 1):
        page.keyboard.press("ArrowRight")
    assert _focused(page, f"input[name={scale}][value='{value}']:checked")


def test_rating_with_the_keyboard_survives_live_updates(server, chromium, plan):
    db, made, (first, second) = plan
    code = made["code"]
    ann = joined(chromium, server, code, "Ann", "companies")
    ben = joined(chromium, server, code, "Ben", "education")
    assert axe_serious(ann) == [], "actions step"

    # Ann: Tab to the impact scale of the first action, arrows to 4, on to effort 2, Enter on Save.
    card = f"#action-{first['id']}"
    _tab_to(ann, f"{card} input[name=impact]")
    assert _focus_ring(ann) != "none"
    _pick(ann, "impact", 4)
    ann.keyboard.press("Tab")
    _pick(ann, "effort", 2)
    ann.keyboard.press("Tab")
    assert _focused(ann, f"{card} form button")
    ann.keyboard.press("Enter")
    status = ann.locator(f"#rating-status-{first['id']}")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("Your rating is saved: impact 4, effort 2.")
    assert actions.my_ratings(db, _id(db, made, "Ann"))[first["id"]]["impact"] == 4
    # The rating changed the room: the next poll brings the new summary line, and leaves the
    # confirmation and the focus where they were.
    expect(ann.locator(f"{card} details.rating summary")).to_contain_text(
        "Your rating: impact 4, effort 2", timeout=SOON)
    expect(status).to_have_text("Your rating is saved: impact 4, effort 2.")
    assert _focused(ann, f"{card} form button")

    # Ben picks a rating with the keyboard and has not sent it when Ann's offer reaches his screen.
    _tab_to(ben, f"{card} input[name=impact]")
    _pick(ben, "impact", 3)
    ben.keyboard.press("Tab")
    _pick(ben, "effort", 5)
    ann.click(f"{card} button[name=role][value=lead]")
    expect(ben.locator(card)).to_contain_text("offers to lead: Ann Ltd", timeout=SOON)
    assert ben.locator(f"{card} input[name=impact]:checked").get_attribute("value") == "3"
    assert _focused(ben, f"{card} input[name=effort][value='5']:checked")
    assert ben.locator(f"{card} details.rating").get_attribute("open") is not None
    ben.keyboard.press("Tab")
    ben.keyboard.press("Enter")
    expect(ben.locator(f"#rating-status-{first['id']}")).to_have_text("Your rating is saved: impact 3, effort 5.")
    assert actions.my_ratings(db, _id(db, made, "Ben"))[first["id"]]["effort"] == 5

    # A keyboard user keeps their place on any control of a card while the room changes around it.
    _tab_to(ben, f"#action-{second['id']} button[name=role][value=partner]")
    ann.click(f"#action-{second['id']} button[name=role][value=lead]")
    expect(ben.locator(f"#action-{second['id']}")).to_contain_text("offers to lead: Ann Ltd", timeout=SOON)
    assert _focused(ben, f"#action-{second['id']} button[name=role][value=partner]")
    ben.keyboard.press("Enter")
    ben.wait_for_url(re.compile(f"#action-{second['id']}$"))
    expect(ben.locator(f"#action-{second['id']}")).to_contain_text("offers to take part: Ben Ltd")
    assert axe_serious(ben) == [], "actions step, rated and offered"

    # When the room moves on, a page whose rating was sent follows; one with a rating picked but
    # not sent stays, with a banner to go when ready.
    other = f"#action-{second['id']}"
    _tab_to(ben, f"{other} input[name=impact]")
    _pick(ben, "impact", 2)
    ben.keyboard.press("Tab")
    _pick(ben, "effort", 1)
    ben.keyboard.press("Tab")
    ben.keyboard.press("Enter")
    expect(ben.locator(f"#rating-status-{second['id']}")).to_have_text("Your rating is saved: impact 2, effort 1.")
    ann.locator(f"{other} input[name=impact][value='5']").check()
    workshops.set_step(db, made["id"], "review")
    expect(ben.locator("h1")).to_have_text("Review and export", timeout=SOON)
    expect(ann.locator("#step-banner")).to_contain_text("The room has moved on to: Review and export", timeout=SOON)
    assert ann.locator(f"{other} input[name=impact][value='5']").is_checked()



def test_the_matrix_shows_once_the_facilitator_reveals_it(server, chromium, plan):
    db, made, (first, second) = plan
    code = made["code"]
    ann = joined(chromium, server, code, "Ann", "companies")
    ben = participants.join(db, made, {"name": "Ben", "organisation": "Ben Ltd", "stakeholder_group": "education"})
    actions.rate(db, made, first["id"], _id(db, made, "Ann"), {"impact": 5, "effort": 1})
    actions.rate(db, made, first["id"], ben["id"], {"impact": 4, "effort": 2})
    actions.rate(db, made, second["id"], _id(db, made, "Ann"), {"impact": 2, "effort": 5})

    # The facilitator sees the drawing and the same content as a table.
    host = signed_in(chromium, server)
    host.goto(f"{server}/facilitator/workshops/{code}?step=actions")
    matrix = host.locator("#matrix")
    drawing = matrix.locator("svg[role=img]")
    expect(drawing).to_be_visible()
    box = drawing.bounding_box()
    assert box["width"] > 200 and box["height"] > 200  # drawn at a readable size, not collapsed
    expect(drawing.locator("circle")).to_have_count(2)
    expect(drawing).to_have_accessible_name("Impact and effort of the actions")
    expect(drawing).to_have_accessible_description(re.compile(r"^1: Learning rights"))
    rows = matrix.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Quick wins")
    expect(rows.nth(0)).to_contain_text("1. Learning rights")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("4.5")
    expect(rows.nth(1)).to_contain_text("Reconsider")
    expect(rows.nth(1)).to_contain_text("2. Open workshops")

    # The room sees no ratings until the facilitator reveals them, then without a reload.
    expect(ann.locator("#matrix")).to_contain_text("The ratings are shown when the facilitator reveals the results.")
    expect(ann.locator("#matrix svg")).to_have_count(0)
    expect(ann.locator(f"#action-{first['id']} .action-fields")).not_to_contain_text("impact 4.5")
    reveal = host.get_by_role("button", name="Reveal the results")
    expect(reveal).to_be_visible()
    reveal.click()
    expect(ann.locator("#matrix svg[role=img]")).to_be_visible(timeout=SOON)
    expect(ann.locator("#matrix table tbody tr")).to_have_count(2)
    expect(ann.locator(f"#action-{first['id']} .action-fields")).to_contain_text("impact 4.5, effort 1.5 (2 ratings)")
    assert axe_serious(ann) == [], "actions step, revealed"
    assert axe_serious(host) == [], "facilitator's actions step"
    host.get_by_role("button", name="Hide the results").click()
    expect(ann.locator("#matrix svg")).to_have_count(0, timeout=SOON)


def test_texts_and_the_review_step_in_a_browser(server, chromium, plan):
    db, made, (first, _second) = plan
    code = made["code"]
    ann = joined(chromium, server, code, "Ann", "companies")
    ben = joined(chromium, server, code, "Ben", "education")
    actions.rate(db, made, first["id"], _id(db, made, "Ann"), {"impact": 4, "effort": 2})

    # Two people write the vision at once; the second combines both, with the keyboard only.
    vision = f"{server}/w/{code}/texts/vision"
    ann.goto(vision)
    ben.goto(vision)
    assert axe_serious(ann) == [], "text edit page"
    ann.fill("#f-body", "Everyone keeps learning.")
    ann.click("#text-form button.primary")
    ann.wait_for_url(re.compile(f"/w/{code}#text-vision"))
    ben.fill("#f-body", "We learn together.")
    with ben.expect_response(lambda r: r.request.method == "POST") as answer:
        ben.click("#text-form button.primary")
    assert answer.value.status == 409
    conflict = ben.get_by_role("alert")
    expect(conflict).to_contain_text("Saved by Ann")
    expect(conflict.locator("blockquote")).to_have_text("Everyone keeps learning.")
    expect(ben.locator("#f-body")).to_have_value("We learn together.")
    assert axe_serious(ben) == [], "text conflict view"
    _tab_to(ben, "input[name=choose_body]")
    assert _focused(ben, "input[name=choose_body][value=mine]:checked")  # keep mine, and combine
    _tab_to(ben, "#f-body")
    ben.keyboard.press("End")
    ben.keyboard.type(" Everyone keeps learning.")
    ben.keyboard.press("Tab")
    assert _focused(ben, "#text-form button.primary")
    ben.keyboard.press("Enter")
    ben.wait_for_url(re.compile(f"/w/{code}#text-vision"))
    expect(ben.locator("#text-vision .prose")).to_have_text("We learn together. Everyone keeps learning.")

    # The history of everything names both writers, newest first.
    ben.goto(f"{server}/w/{code}/history")
    entries = ben.locator("ol.history > li")
    expect(entries.nth(0)).to_contain_text("Ben (Ben Ltd) changed Our vision")
    expect(entries.nth(0).locator("ins")).to_have_text("after: We learn together. Everyone keeps learning.")
    expect(entries.nth(1)).to_contain_text("Ann (Ann Ltd) wrote Our vision")
    assert axe_serious(ben) == [], "history of all changes"

    # The facilitator's review step: two drafts with what changed between them, the close form,
    # the matrix and the texts.
    workshops.set_step(db, made["id"], "review")
    made = workshops.get(db, made["id"])
    agenda.export_draft(db, made)
    actions.edit(db, made, first["id"], {**actions.get(db, made, first["id"]), "lead": "Regional college"},
                 facilitator_id=made["facilitator_id"])
    agenda.export_draft(db, made)
    host = signed_in(chromium, server)
    host.goto(f"{server}/facilitator/workshops/{code}?step=review")
    expect(host.locator("ul.drafts > li")).to_have_count(2)
    host.locator(".drafts details summary").click()
    expect(host.locator(".drafts ul.changes")).to_contain_text("Learning rights")
    expect(host.locator("#matrix svg[role=img]")).to_be_visible()
    expect(host.locator("#text-vision .prose")).to_have_text("We learn together. Everyone keeps learning.")
    expect(host.get_by_role("button", name="Close the workshop")).to_be_visible()
    assert axe_serious(host) == [], "facilitator's review step"
    ben.goto(f"{server}/w/{code}")
    expect(ben.locator("#matrix svg[role=img]")).to_be_visible()
    assert axe_serious(ben) == [], "participant's review step"
