"""Data care: deleting a workshop, anonymising its participants, retention; library, pages and CLI."""
import datetime
import io
import json
import zipfile

import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import WORKSHOP_FORM, make_facilitator, person
from toolkit import action, agenda, audit, cli, comment, demo, privacy, step, vote
from toolkit import workshop as workshops
from toolkit.catalogue import SEED_DIR
from toolkit.db import connect, writing

NAMES = [p["name"] for p in yaml.safe_load((SEED_DIR / "demo.yaml").read_text("utf-8"))["participants"]]
UTC = datetime.timezone.utc


def full_workshop(db) -> dict:
    """The demo workshop (named participants, votes, actions, ratings, volunteers, texts, a draft) and more."""
    code = demo.create(db, "nl")["code"]
    workshop = workshops.by_code(db, code)
    people = list(db.query("SELECT * FROM participants WHERE workshop_id = ? ORDER BY id", [workshop["id"]]))
    item = workshops.items(db, workshop, kinds=("driver",))[0]
    workshops.set_step(db, workshop["id"], "drivers")
    comment.add(db, workshop, item["id"], {"body": "Dit speelt ook bij ons."}, participant_id=people[0]["id"])
    step.set_revealed(db, workshop, "drivers", True)
    step.set_done(db, workshop, people[1]["id"], "review", True)
    workshops.set_step(db, workshop["id"], "actions")
    # The history of an edited action and the log keep names of their own.
    first = action.for_workshop(db, workshop)[0]
    action.edit(db, workshop, first["id"], {**first, "first_step": f"{NAMES[0]} belt de school",
                                            "version": first["version"]}, participant_id=people[0]["id"])
    first = action.get(db, workshop, first["id"])
    action.edit(db, workshop, first["id"], {**first, "first_step": "De school bellen",
                                            "version": first["version"]}, participant_id=people[1]["id"])
    audit.act_as("participant", people[0]["id"], f"{NAMES[0]} ({people[0]['organisation']})")
    try:
        with writing(db):
            audit.record(db, workshop["id"], "joined", f"participant:{people[0]['id']}", name=NAMES[0])
            audit.record(db, workshop["id"], "comment_added", f"{NAMES[1]} schreef iets")
    finally:
        audit.stop_acting()
    other = make_facilitator(db, "co@example.org", "Co")
    with writing(db):
        db["workshop_facilitators"].insert({"workshop_id": workshop["id"], "facilitator_id": other["id"],
                                            "added_at": workshops.now()})
        db["invitations"].insert({"token_hash": "x" * 64, "workshop_id": workshop["id"], "email": "new@example.org",
                                  "created_at": workshops.now(), "expires_at": workshops.now()})
    agenda.export_draft(db, workshop)
    return workshops.get(db, workshop["id"])


def tables_with(db, column):
    return [t.name for t in db.tables if column in t.columns_dict]


def test_deleting_a_workshop_leaves_no_row_that_refers_to_it(db):
    workshop = full_workshop(db)
    kept = workshops.create(db, workshop["facilitator_id"], WORKSHOP_FORM)
    person(db, kept)
    wid = workshop["id"]
    ids = {
        "participant_id": {r["id"] for r in db.query("SELECT id FROM participants WHERE workshop_id = ?", [wid])},
        "action_id": {r["id"] for r in db.query("SELECT id FROM actions WHERE workshop_id = ?", [wid])},
        "item_id": {r["id"] for r in db.query("SELECT id FROM items WHERE workshop_id = ?", [wid])},
    }
    assert all(ids.values())
    before_kept = {t: db.execute(f"SELECT count(*) FROM [{t}] WHERE workshop_id = ?", [kept["id"]]).fetchone()[0]
                   for t in tables_with(db, "workshop_id")}

    privacy.delete_workshop(db, workshop)

    assert db.execute("SELECT count(*) FROM workshops WHERE id = ?", [wid]).fetchone()[0] == 0
    for table in tables_with(db, "workshop_id"):
        assert db.execute(f"SELECT count(*) FROM [{table}] WHERE workshop_id = ?", [wid]).fetchone()[0] == 0, table
    for column, gone in ids.items():
        for table in tables_with(db, column):
            rows = {r[0] for r in db.execute(f"SELECT [{column}] FROM [{table}]").fetchall()}
            assert not rows & gone, (table, column)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert before_kept == {t: db.execute(f"SELECT count(*) FROM [{t}] WHERE workshop_id = ?", [kept["id"]]).fetchone()[0]
                           for t in tables_with(db, "workshop_id")}


def texts_in(value) -> list[str]:
    """Every text a stored value holds, Word documents unzipped."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        found = [value.decode("utf-8", "ignore")]
        if value[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(value)) as document:
                found += [document.read(part).decode("utf-8", "ignore") for part in document.namelist()]
        return found
    return []


def names_stored(db) -> set[str]:
    """The demo participants' names anywhere in the database, in any column of any table."""
    found = set()
    for table in db.tables:
        for row in db.execute(f"SELECT * FROM [{table.name}]").fetchall():
            for value in row:
                for text in texts_in(value):
                    found |= {name for name in NAMES if name.casefold() in text.casefold()}
    return found


def results(db, workshop) -> dict:
    """What the workshop decided, without who said it."""
    return {
        "tallies": vote.tallies(db, workshop),
        "comments": [(c["body"], c["organisation"]) for c in comment.for_workshop(db, workshop)],
        "actions": action.for_workshop(db, workshop),
        "volunteers": {k: [(v["organisation"], v["role"]) for v in vs] for k, vs in action.volunteers(db, workshop).items()},
        "ratings": action.ratings(db, workshop),
        "organisations": sorted((p["organisation"], p["stakeholder_group"])
                                for p in db.query("SELECT * FROM participants WHERE workshop_id = ?", [workshop["id"]])),
    }


def test_anonymising_removes_every_name_and_keeps_the_results(db):
    workshop = full_workshop(db)
    assert names_stored(db) == set(NAMES)
    before = results(db, workshop)

    done = privacy.anonymise(db, workshop)

    assert done == {"participants": len(NAMES), "drafts_withdrawn": 2}
    assert names_stored(db) == set()
    workshop = workshops.get(db, workshop["id"])
    assert workshop["anonymous"] == 1
    assert results(db, workshop) == before
    assert db.execute("SELECT count(*) FROM participants WHERE workshop_id = ? AND rejoin_code IS NOT NULL",
                      [workshop["id"]]).fetchone()[0] == 0
    # The log keeps who acted as their organisation, and says it was anonymised.
    log = audit.entries(db, workshop)
    assert log[0]["event"] == "participants_anonymised"
    assert log[0]["detail"] == {"participants": len(NAMES), "drafts_withdrawn": 2}
    joined = next(entry for entry in log if entry["event"] == "joined")
    assert joined["actor"] == "Metaalbedrijf Hengelo" and joined["detail"] == {"name": None}
    assert next(e for e in log if e["event"] == "comment_added")["subject"] == "Precisietechniek Almelo schreef iets"


def test_anonymised_drafts_stay_listed_but_cannot_be_downloaded(db):
    workshop = full_workshop(db)
    privacy.anonymise(db, workshop)
    listed = agenda.drafts(db, workshop)
    assert [d["version"] for d in listed] == [2, 1]
    assert all(d["withdrawn_at"] for d in listed)
    with pytest.raises(workshops.NotFound):
        agenda.draft(db, workshop, 1)
    # The next draft names organisations only, and still says what changed since draft 2.
    made = agenda.export_draft(db, workshops.get(db, workshop["id"]))
    assert made["version"] == 3 and json.loads(made["changes"])["since"] == 2
    assert names_stored(db) == set()


def test_a_workshop_that_was_always_anonymous_keeps_its_drafts(db, workshop):
    anonymous = workshops.create(db, workshop["facilitator_id"], {**WORKSHOP_FORM, "anonymous": "1"})
    person(db, anonymous, name="")
    agenda.export_draft(db, anonymous)
    assert privacy.anonymise(db, anonymous) == {"participants": 0, "drafts_withdrawn": 0}
    assert agenda.draft(db, anonymous, 1)["docx"]


def test_a_short_name_is_removed_from_its_field_but_not_from_words(db, workshop):
    # "Bo" would match "Bo" in stored history texts; only the name field goes.
    person(db, workshop, name="Bo")
    privacy.anonymise(db, workshop)
    assert db.execute("SELECT name FROM participants WHERE workshop_id = ?", [workshop["id"]]).fetchone()[0] is None


# Retention: a workshop is removed when its last activity is more than the setting's days ago.

NOW = datetime.datetime.now(UTC).replace(microsecond=0)


def aged(db, workshop, when: datetime.datetime) -> dict:
    """The workshop as if everything in it happened at when."""
    stamp = when.isoformat(timespec="seconds")
    with writing(db):
        db.execute("UPDATE workshops SET date = ?, created_at = ? WHERE id = ?",
                   [(when - datetime.timedelta(days=2)).date().isoformat(), stamp, workshop["id"]])
        db.execute("UPDATE participants SET joined_at = ?, last_seen = NULL WHERE workshop_id = ?",
                   [stamp, workshop["id"]])
        # Creating and joining were logged as they happened, now: they happened then too.
        db.execute("UPDATE audit SET at = ? WHERE workshop_id = ?", [stamp, workshop["id"]])
    return workshops.get(db, workshop["id"])


def test_retention_removes_only_what_is_older_than_the_days(db, workshop):
    old = aged(db, workshops.create(db, workshop["facilitator_id"], WORKSHOP_FORM),
               NOW - datetime.timedelta(days=30, seconds=1))
    person(db, old)
    old = aged(db, old, NOW - datetime.timedelta(days=30, seconds=1))
    boundary = aged(db, workshops.create(db, workshop["facilitator_id"], WORKSHOP_FORM), NOW - datetime.timedelta(days=30))
    # Old, but someone exported a draft recently: still in use.
    revisited = aged(db, workshops.create(db, workshop["facilitator_id"], WORKSHOP_FORM), NOW - datetime.timedelta(days=400))
    with writing(db):
        db["drafts"].insert({"workshop_id": revisited["id"], "version": 1, "language": "nl", "docx": b"x",
                             "created_at": (NOW - datetime.timedelta(days=3)).isoformat()})
    closed = aged(db, workshops.create(db, workshop["facilitator_id"], WORKSHOP_FORM), NOW - datetime.timedelta(days=90))
    with writing(db):
        db.execute("UPDATE workshops SET closed_at = ? WHERE id = ?",
                   [(NOW - datetime.timedelta(days=29)).isoformat(), closed["id"]])

    assert [w["code"] for w in privacy.expired(db, 30, now=NOW)] == [old["code"]]
    removed = privacy.remove_expired(db, 30, now=NOW)
    assert [w["code"] for w in removed] == [old["code"]]
    assert removed[0]["last_activity"] == (NOW - datetime.timedelta(days=30, seconds=1)).isoformat()
    left = {row["id"] for row in db.query("SELECT id FROM workshops")}
    assert left == {workshop["id"], boundary["id"], revisited["id"], closed["id"]}
    assert db.execute("SELECT count(*) FROM participants WHERE workshop_id = ?", [old["id"]]).fetchone()[0] == 0
    assert privacy.remove_expired(db, 30, now=NOW) == []


def test_a_workshop_dated_in_the_future_is_kept(db, workshop):
    ahead = aged(db, workshop, NOW - datetime.timedelta(days=100))
    with writing(db):
        db.execute("UPDATE workshops SET date = ? WHERE id = ?",
                   [(NOW + datetime.timedelta(days=60)).date().isoformat(), ahead["id"]])
    assert privacy.remove_expired(db, 30, now=NOW) == []


@pytest.mark.parametrize("value, days", [(None, None), ("", None), (" 365 ", 365), ("1", 1)])
def test_the_retention_setting(value, days):
    assert privacy.retention_days(value) == days


@pytest.mark.parametrize("value", ["0", "-3", "a year"])
def test_a_wrong_retention_setting_is_refused(value):
    with pytest.raises(ValueError):
        privacy.retention_days(value)


# The facilitator's pages.

def test_the_details_page_offers_data_care_to_the_owner(facilitator, workshop, app):
    page = facilitator.get(f"/facilitator/workshops/{workshop['code']}/edit").get_data(as_text=True)
    assert 'id="data-care-heading"' in page
    assert f'action="/facilitator/workshops/{workshop["code"]}/delete"' in page
    assert f'action="/facilitator/workshops/{workshop["code"]}/anonymise"' in page
    assert '<label for="f-delete_code">' in page


def test_retention_is_said_on_the_details_page(facilitator, workshop, app):
    app.config["RETENTION_DAYS"] = "365"
    page = facilitator.get(f"/facilitator/workshops/{workshop['code']}/edit").get_data(as_text=True)
    assert "365" in page


@pytest.mark.parametrize("change, field", [("delete", "delete_code"), ("anonymise", "anonymise_code")])
def test_a_mistyped_code_changes_nothing(facilitator, workshop, db, change, field):
    person(db, workshop, name="Pat Jansen")
    facilitator.post("/language", {"lang": "en"})
    response = facilitator.post(f"/facilitator/workshops/{workshop['code']}/{change}", {field: "WRONG1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"That is not this workshop&#39;s join code ({workshop['code']}). Nothing was changed." in page
    assert f'id="f-{field}" name="{field}" type="text" value=""' in page
    assert 'aria-invalid="true"' in page
    assert db.execute("SELECT name FROM participants WHERE workshop_id = ?", [workshop["id"]]).fetchone()[0] == "Pat Jansen"


def test_deleting_from_the_page(facilitator, workshop, db):
    person(db, workshop)
    workshops.set_closed(db, workshop, True)  # a closed workshop can be deleted too
    response = facilitator.post(f"/facilitator/workshops/{workshop['code']}/delete",
                                {"delete_code": workshop["code"].lower()})
    assert response.status_code == 303 and response.headers["Location"].endswith("/facilitator/")
    assert db.execute("SELECT count(*) FROM workshops WHERE id = ?", [workshop["id"]]).fetchone()[0] == 0
    dashboard = facilitator.get("/facilitator/").get_data(as_text=True)
    assert workshop["title"] in dashboard  # in the message that says it was deleted
    assert facilitator.get(f"/facilitator/workshops/{workshop['code']}").status_code == 404


def test_anonymising_from_the_page(facilitator, workshop, db):
    person(db, workshop, name="Pat Jansen")
    agenda.export_draft(db, workshop)
    response = facilitator.post(f"/facilitator/workshops/{workshop['code']}/anonymise",
                                {"anonymise_code": workshop["code"]})
    assert response.status_code == 303
    assert db.execute("SELECT name FROM participants WHERE workshop_id = ?", [workshop["id"]]).fetchone()[0] is None
    review = facilitator.get(f"/facilitator/workshops/{workshop['code']}?step=review").get_data(as_text=True)
    assert "Pat Jansen" not in review
    assert "/drafts/1.docx" not in review
    assert facilitator.get(f"/facilitator/workshops/{workshop['code']}/drafts/1.docx").status_code == 404


@pytest.mark.parametrize("change, field", [("delete", "delete_code"), ("anonymise", "anonymise_code")])
def test_only_the_owner_may_delete_or_anonymise(app, facilitator, workshop, db, change, field):
    from tests.conftest import PASSWORD, Visitor
    other = make_facilitator(db, "co@example.org", "Co")
    # A co-facilitator runs the workshop, but it stays its owner's to delete or anonymise.
    with writing(db):
        db["workshop_facilitators"].insert({"workshop_id": workshop["id"], "facilitator_id": other["id"],
                                            "added_at": workshops.now()})
    browser = Visitor(app.test_client())
    browser.post("/login", {"email": other["email"], "password": PASSWORD})
    browser._token = None
    response = browser.post(f"/facilitator/workshops/{workshop['code']}/{change}", {field: workshop["code"]})
    assert response.status_code == 404
    assert workshops.get(db, workshop["id"])["anonymous"] == 0
    page = browser.get(f"/facilitator/workshops/{workshop['code']}/edit").get_data(as_text=True)
    assert "data-care" not in page


def test_the_forms_need_the_csrf_token(facilitator, workshop):
    response = facilitator.post(f"/facilitator/workshops/{workshop['code']}/delete",
                                {"delete_code": workshop["code"]}, csrf=False)
    assert response.status_code == 400


# The command line.

@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    """The CLI's database, migrated, with an old workshop and a fresh one of one facilitator."""
    monkeypatch.setenv("TOOLKIT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("TOOLKIT_DATABASE", str(tmp_path / "cli.db"))
    monkeypatch.delenv("TOOLKIT_RETENTION_DAYS", raising=False)
    from toolkit import catalogue
    from toolkit.db import migrate
    db = connect(tmp_path / "cli.db")
    migrate(db)
    catalogue.load(db)
    account = make_facilitator(db)
    db.old = aged(db, workshops.create(db, account["id"], {**WORKSHOP_FORM, "title": "Oud"}),
                  NOW - datetime.timedelta(days=500))
    db.fresh = workshops.create(db, account["id"], {**WORKSHOP_FORM, "title": "Nieuw"})
    yield db
    db.close()


def run(*args, input=None):
    return CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)


def codes(db):
    return {row["code"] for row in db.query("SELECT code FROM workshops")}


def test_purge_dry_run_lists_and_keeps(cli_db):
    result = run("purge", "--days", "365", "--dry-run")
    assert result.exit_code == 0
    assert cli_db.old["code"] in result.output and "Oud" in result.output
    assert "Nieuw" not in result.output and "Would remove 1 workshop" in result.output
    assert codes(cli_db) == {cli_db.old["code"], cli_db.fresh["code"]}


def test_purge_removes_by_the_setting(cli_db, monkeypatch):
    monkeypatch.setenv("TOOLKIT_RETENTION_DAYS", "365")
    result = run("purge")
    assert result.exit_code == 0 and "Removed 1 workshop" in result.output
    assert codes(cli_db) == {cli_db.fresh["code"]}
    assert "No workshop's last activity is more than 365 days ago." in run("purge").output


def test_purge_needs_a_retention(cli_db, monkeypatch):
    result = run("purge")
    assert result.exit_code != 0 and "--days" in result.output
    monkeypatch.setenv("TOOLKIT_RETENTION_DAYS", "soon")
    result = run("purge")
    assert result.exit_code != 0 and "TOOLKIT_RETENTION_DAYS" in result.output
    assert len(codes(cli_db)) == 2


def test_delete_workshop_command(cli_db):
    code = cli_db.fresh["code"]
    assert run("delete-workshop", code, input="n\n").exit_code != 0
    assert code in codes(cli_db)
    result = run("delete-workshop", code.lower(), "--yes")
    assert result.exit_code == 0 and f"Workshop {code} deleted: Nieuw" in result.output
    assert code not in codes(cli_db)
    assert "No workshop with code" in run("delete-workshop", code, "--yes").output


def test_serve_removes_expired_workshops_at_start_and_then_every_hour(cli_db, monkeypatch):
    class Server:
        def run(self, sockets):
            pass

    monkeypatch.setenv("TOOLKIT_RETENTION_DAYS", "365")
    monkeypatch.setattr(cli.serving, "server", lambda *args, **kwargs: Server())
    started = {}

    class Thread:
        def __init__(self, target, args=(), daemon=None):
            started[target] = (args, daemon)

        def start(self):
            pass

    monkeypatch.setattr(cli.threading, "Thread", Thread)
    # No drawing process here: its executor would start its own thread under the fake one above.
    monkeypatch.setattr(cli.documents, "start", lambda *args, **kwargs: None)
    result = run("serve", "--processes", "1")  # in this process: several would fork the test runner
    assert result.exit_code == 0, result.output
    assert "Workshops are deleted 365 days after their last activity; 1 removed now." in result.output
    assert codes(cli_db) == {cli_db.fresh["code"]}
    args, daemon = started[cli._keep_removing]
    assert args[1:3] == (365, cli.PURGE_EVERY) and daemon


def test_a_running_server_keeps_removing(cli_db):
    rounds = []

    class TwoRounds:
        """A stop that lets one round run, then stops: no sleeping in a test."""

        def wait(self, timeout):
            rounds.append(timeout)
            return len(rounds) > 1

    path = cli_db.execute("PRAGMA database_list").fetchone()[2]
    cli._keep_removing(path, 365, 0.01, TwoRounds())
    assert rounds == [0.01, 0.01]
    assert codes(cli_db) == {cli_db.fresh["code"]}


def test_an_anonymised_workshop_exports_and_imports_without_names(db):
    from toolkit import transfer

    workshop = full_workshop(db)
    privacy.anonymise(db, workshop)
    workshop = workshops.get(db, workshop["id"])
    agenda.export_draft(db, workshop)
    body = transfer.dumps(db, workshop)
    assert not any(name in body for name in NAMES)
    copy = transfer.import_workshop(db, workshop["facilitator_id"], transfer.parse(body.encode("utf-8")))
    assert [d["version"] for d in agenda.drafts(db, copy)] == [3]
