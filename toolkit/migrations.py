"""The schema, as append-only migrations: never edit one that may have run somewhere."""
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("toolkit")


def _run(db: Database, script: str):
    # executescript() would commit the migration's transaction half-way; run one by one.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations()
def m001_initial(db: Database):
    """Facilitators, the study catalogue, workshops, participants, votes, actions and drafts."""
    _run(
        db,
        """
        CREATE TABLE facilitators (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE catalogue_items (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            position INTEGER NOT NULL,
            title_nl TEXT NOT NULL,
            title_en TEXT NOT NULL,
            explanation_nl TEXT NOT NULL,
            explanation_en TEXT NOT NULL,
            source_type TEXT NOT NULL,
            source_nl TEXT NOT NULL,
            source_en TEXT NOT NULL,
            reference TEXT NOT NULL,
            derived_from TEXT REFERENCES catalogue_items(id),
            place_nl TEXT,
            place_en TEXT
        );
        CREATE TABLE workshops (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            facilitator_id INTEGER NOT NULL REFERENCES facilitators(id),
            title TEXT NOT NULL,
            region TEXT NOT NULL,
            sector TEXT NOT NULL,
            date TEXT NOT NULL,
            language TEXT NOT NULL CHECK (language IN ('nl', 'en')),
            dots INTEGER NOT NULL CHECK (dots BETWEEN 1 AND 20),
            anonymous INTEGER NOT NULL DEFAULT 0,
            step TEXT NOT NULL DEFAULT 'welcome',
            created_at TEXT NOT NULL
        );
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            catalogue_id TEXT REFERENCES catalogue_items(id),
            title TEXT,
            explanation TEXT,
            added_by INTEGER REFERENCES participants(id) ON DELETE SET NULL,
            request_token TEXT,
            hidden INTEGER NOT NULL DEFAULT 0,
            adopted INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            UNIQUE (workshop_id, catalogue_id)
        );
        CREATE INDEX items_workshop ON items(workshop_id, kind);
        CREATE UNIQUE INDEX items_request ON items(workshop_id, request_token);
        CREATE TABLE participants (
            id INTEGER PRIMARY KEY,
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            name TEXT,
            organisation TEXT NOT NULL,
            stakeholder_group TEXT NOT NULL,
            joined_at TEXT NOT NULL
        );
        CREATE INDEX participants_workshop ON participants(workshop_id);
        CREATE TABLE votes (
            participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            dots INTEGER NOT NULL CHECK (dots > 0),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (participant_id, item_id)
        );
        CREATE INDEX votes_item ON votes(item_id);
        CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            recommendation_id INTEGER NOT NULL REFERENCES items(id),
            what TEXT NOT NULL,
            lead TEXT NOT NULL,
            partners TEXT NOT NULL DEFAULT '',
            timeline TEXT NOT NULL DEFAULT '',
            resources TEXT NOT NULL DEFAULT '',
            indicator TEXT NOT NULL DEFAULT '',
            proposed_by INTEGER REFERENCES participants(id) ON DELETE SET NULL,
            request_token TEXT,
            created_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX actions_request ON actions(workshop_id, request_token);
        CREATE INDEX actions_workshop ON actions(workshop_id);
        CREATE TABLE drafts (
            id INTEGER PRIMARY KEY,
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            language TEXT NOT NULL,
            created_at TEXT NOT NULL,
            docx BLOB NOT NULL,
            UNIQUE (workshop_id, version)
        );
        """
    )


@migrations()
def m002_join_once(db: Database):
    """A join form sent twice (double tap, retry) joins once: remember each form's token."""
    _run(
        db,
        """
        ALTER TABLE participants ADD COLUMN request_token TEXT;
        CREATE UNIQUE INDEX participants_request ON participants(workshop_id, request_token);
        """,
    )
