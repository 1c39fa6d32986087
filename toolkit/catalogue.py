"""The study catalogue: loaded from seed_data/ into SQLite, and looked up per language."""
from functools import lru_cache
from pathlib import Path

import yaml
from sqlite_utils import Database

from toolkit.db import writing
from toolkit.i18n import N_

SEED_DIR = Path(__file__).resolve().parent.parent / "seed_data"

KINDS = {
    "research_question": N_("Research question"),
    "driver": N_("Driver"),
    "finding": N_("Finding"),
    "recommendation": N_("Recommendation"),
    "case": N_("Case company"),
    "barrier": N_("Barrier"),
    "success_factor": N_("Success factor"),
}
# The kinds a workshop votes on; the others give context in the welcome step.
VOTABLE_KINDS = ("driver", "barrier", "success_factor", "recommendation")
SOURCE_TYPES = ("quote", "summary", "derived")


def _pair(value, item_id, field):
    if isinstance(value, str):
        return {"nl": value, "en": value}
    if not isinstance(value, dict) or not value.get("nl") or not value.get("en"):
        raise ValueError(f"{item_id}: {field} needs both nl and en")
    return value


def read_seed(seed_dir=SEED_DIR) -> list[dict]:
    """The catalogue's items as rows, checked, in the file's order."""
    data = yaml.safe_load((Path(seed_dir) / "catalogue.yaml").read_text("utf-8"))
    rows, ids = [], set()
    for position, item in enumerate(data["items"], start=1):
        item_id = item["id"]
        if item_id in ids:
            raise ValueError(f"duplicate catalogue id {item_id}")
        ids.add(item_id)
        if item["kind"] not in KINDS:
            raise ValueError(f"{item_id}: unknown kind {item['kind']}")
        source = item["source"]
        if source["type"] not in SOURCE_TYPES:
            raise ValueError(f"{item_id}: unknown source type {source['type']}")
        if (source["type"] == "derived") != bool(item.get("derived_from")):
            raise ValueError(f"{item_id}: derived items, and only they, name derived_from")
        title = _pair(item["title"], item_id, "title")
        explanation = _pair(item["explanation"], item_id, "explanation")
        source_text = _pair(source["text"], item_id, "source")
        place = _pair(item["place"], item_id, "place") if item.get("place") else None
        rows.append(
            {
                "id": item_id,
                "kind": item["kind"],
                "position": position,
                "title_nl": title["nl"],
                "title_en": title["en"],
                "explanation_nl": explanation["nl"],
                "explanation_en": explanation["en"],
                "source_type": source["type"],
                "source_nl": source_text["nl"],
                "source_en": source_text["en"],
                "reference": source["reference"],
                "derived_from": item.get("derived_from"),
                "place_nl": place["nl"] if place else None,
                "place_en": place["en"] if place else None,
            }
        )
    for row in rows:
        if row["derived_from"] and row["derived_from"] not in ids:
            raise ValueError(f"{row['id']}: derived_from {row['derived_from']} does not exist")
    return rows


def load(db: Database, seed_dir=SEED_DIR) -> dict:
    """Insert or update the catalogue from seed_dir; returns counts of added, updated, unchanged."""
    rows = read_seed(seed_dir)
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    with writing(db):
        existing = {row["id"]: row for row in db.query("SELECT * FROM catalogue_items")}
        # Items that others derive from go first, so every reference points at a row.
        for row in sorted(rows, key=lambda r: r["derived_from"] is not None):
            old = existing.get(row["id"])
            if old is None:
                db["catalogue_items"].insert(row)
                counts["added"] += 1
            elif old != row:
                db["catalogue_items"].update(row["id"], row)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return counts


def localise(row: dict, lang: str) -> dict:
    """A catalogue row with its texts in lang."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "title": row[f"title_{lang}"],
        "explanation": row[f"explanation_{lang}"],
        "source_type": row["source_type"],
        "source": row[f"source_{lang}"],
        "reference": row["reference"],
        "derived_from": row["derived_from"],
        "place": row[f"place_{lang}"],
    }


def items(db: Database, lang: str, kind: str | None = None) -> list[dict]:
    """Catalogue items in lang, in the study's order, optionally of one kind."""
    where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
    rows = db.query(f"SELECT * FROM catalogue_items {where} ORDER BY position", params)
    return [localise(row, lang) for row in rows]


@lru_cache(maxsize=None)
def _study_file(seed_dir: str) -> dict:
    return yaml.safe_load((Path(seed_dir) / "study.yaml").read_text("utf-8"))


def study(lang: str, seed_dir=SEED_DIR) -> dict:
    """The report's metadata in lang: title, publisher, authors, reference and more."""
    data = _study_file(str(seed_dir))
    return {
        key: (value.get(lang, value) if isinstance(value, dict) else value)
        for key, value in data.items()
    }
