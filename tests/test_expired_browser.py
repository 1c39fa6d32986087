"""In real Chromium: a participant whose session ends mid-workshop is told to reload and keeps what they typed."""
import pytest
from conftest import BROWSER_PASSWORD, joined
from playwright.sync_api import expect

from toolkit import facilitator as facilitators
from toolkit import step as steps
from toolkit import vote
from toolkit import workshop as workshops
from toolkit.db import connect

pytestmark = pytest.mark.browser
FORM = {"title": "Expiry agenda", "region": "Twente", "sector": "Manufacturing", "date": "2026-12-01",
        "language": "en", "dots": "3"}
RELOAD = "This page has expired. Please reload it and try again"


def test_a_lost_session_says_reload_and_keeps_the_comment_and_the_vote(server, served_database, chromium):
    db = connect(served_database / "b.db")
    account = facilitators.authenticate(db, "fa@example.org", BROWSER_PASSWORD)
    made = workshops.create(db, account["id"], FORM)
    workshops.set_step(db, made["id"], "drivers")
    steps.configure(db, made, "drivers", {"method": "points"})
    driver = workshops.items(db, made, kinds=("driver",))[0]["id"]

    page = joined(chromium, server, made["code"], "Dee", "workers")
    page.fill(f"#points-{driver}-0", "30")
    page.click(f"#comment-form-{driver}-0 summary")
    page.fill(f"#comment-{driver}-0", "Typed over ten minutes")
    # The session cookie, and with it the CSRF token's secret, is gone (a long pause, a cleared browser).
    page.context.clear_cookies()

    page.click(f"#save-{driver}")
    expect(page.locator("#messages")).to_contain_text(RELOAD, timeout=4000)
    assert page.locator(f"#points-{driver}-0").input_value() == "30"

    page.click(f"#comment-form-{driver}-0 button")
    expect(page.locator("#messages")).to_contain_text(RELOAD, timeout=4000)
    assert page.locator("#messages").get_attribute("role") in ("status", "alert")
    # Polls keep running; what they say must not replace the message or anything typed.
    page.wait_for_timeout(2000)
    expect(page.locator("#messages")).to_contain_text(RELOAD)
    assert page.locator(f"#comment-{driver}-0").input_value() == "Typed over ten minutes"
    assert page.locator(f"#points-{driver}-0").input_value() == "30"
    assert vote.tallies(db, made) == {} and db.execute(
        "SELECT count(*) FROM comments WHERE workshop_id = ?", [made["id"]]).fetchone()[0] == 0
    page.context.close()
    db.close()
