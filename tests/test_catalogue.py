"""The study catalogue: complete, bilingual, honest about what is derived, and loaded idempotently."""
import shutil

import pytest
import yaml

from toolkit import catalogue
from toolkit import workshop as workshops
from toolkit.db import connect, migrate


def test_catalogue_holds_the_study(db):
    counts = {kind: len(catalogue.items(db, "en", kind)) for kind in catalogue.KINDS}
    assert counts["research_question"] == 5
    assert counts["driver"] == 3
    assert counts["recommendation"] == 5
    assert counts["case"] == 9
    assert counts["finding"] >= 6
    assert counts["barrier"] >= 3 and counts["success_factor"] >= 3


def test_drivers_and_cases_are_the_studys(db):
    drivers = " ".join(i["source"] for i in catalogue.items(db, "nl", "driver"))
    for words in ("concurrerend blijven", "hogere kwaliteitseisen", "nieuwe klantvragen"):
        assert words in drivers.lower()
    cases = {i["title"] for i in catalogue.items(db, "en", "case")}
    for company in ("ALMI", "ASML", "Boers & Co", "Fokker Technologies", "KMWE", "Norma",
                    "Philips Consumer Lifestyle", "Schuitemaker", "Technolution"):
        assert any(company in title for title in cases), company


def test_recommendations_quote_the_summary_verbatim(db):
    summary = open(catalogue.SEED_DIR.parent.parent / "shared/study/study-summary-en.txt",
                   encoding="utf-8").read() if (catalogue.SEED_DIR.parent.parent / "shared/study").exists() else None
    if summary is None:
        pytest.skip("the shared study summary is not beside this checkout")
    for item in catalogue.items(db, "en", "recommendation"):
        assert item["source_type"] == "quote"
        assert item["source"] in summary, item["id"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_item_has_texts_and_a_source(db, lang):
    for item in catalogue.items(db, lang):
        assert item["title"] and item["explanation"] and item["source"] and item["reference"]


def test_derived_items_say_where_they_come_from(db):
    derived = [i for i in catalogue.items(db, "en") if i["source_type"] == "derived"]
    assert derived
    findings = {i["id"] for i in catalogue.items(db, "en", "finding")}
    for item in derived:
        assert item["kind"] in ("barrier", "success_factor")
        assert item["derived_from"] in findings
    # And everything the study states itself is not marked derived.
    for item in catalogue.items(db, "en"):
        if item["kind"] in ("driver", "recommendation", "research_question"):
            assert item["source_type"] != "derived"


def test_loading_twice_changes_nothing(db):
    before = list(db.query("SELECT * FROM catalogue_items ORDER BY id"))
    changes = db.conn.total_changes
    assert catalogue.load(db) == {"added": 0, "updated": 0, "unchanged": len(before)}
    assert db.conn.total_changes == changes
    assert list(db.query("SELECT * FROM catalogue_items ORDER BY id")) == before


def test_loading_updates_texts_and_leaves_workshops_alone(db, workshop, tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(catalogue.SEED_DIR, seed)
    data = yaml.safe_load((seed / "catalogue.yaml").read_text("utf-8"))
    data["items"][0]["title"]["en"] = "A corrected title"
    (seed / "catalogue.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    workshops_before = list(db.query("SELECT * FROM workshops"))
    items_before = list(db.query("SELECT * FROM items"))

    counts = catalogue.load(db, seed)

    assert counts["updated"] == 1 and counts["added"] == 0
    assert catalogue.items(db, "en")[0]["title"] == "A corrected title"
    assert list(db.query("SELECT * FROM workshops")) == workshops_before
    assert list(db.query("SELECT * FROM items")) == items_before


def test_a_broken_seed_file_is_refused(tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(catalogue.SEED_DIR, seed)
    data = yaml.safe_load((seed / "catalogue.yaml").read_text("utf-8"))
    derived = next(i for i in data["items"] if i.get("derived_from"))
    derived["derived_from"] = "finding.does-not-exist"
    (seed / "catalogue.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ValueError, match="does not exist"):
        catalogue.read_seed(seed)


def test_a_workshop_holds_the_votable_study_items(db, workshop):
    listed = workshops.items(db, workshop)
    assert {i["kind"] for i in listed} == set(catalogue.VOTABLE_KINDS)
    assert len(listed) == sum(len(catalogue.items(db, "nl", k)) for k in catalogue.VOTABLE_KINDS)


def test_migrating_again_is_harmless(app):
    db = connect(app.config["DATABASE"])
    migrate(db)
    migrate(db)
    from toolkit.migrations import migrations

    assert db["_sqlite_migrations"].count == len(migrations._migrations)
