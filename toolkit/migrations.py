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


@migrations()
def m003_live_room(db: Database):
    """Per-step facilitation, comments, merges, rejoining, and a revision every change bumps."""
    _run(
        db,
        """
        ALTER TABLE workshops ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE step_settings (
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            step TEXT NOT NULL,
            locked INTEGER NOT NULL DEFAULT 0,
            revealed INTEGER NOT NULL DEFAULT 0,
            named_votes INTEGER NOT NULL DEFAULT 0,
            method TEXT NOT NULL DEFAULT 'dots' CHECK (method IN ('dots', 'points')),
            cap INTEGER,
            timer_ends_at TEXT,
            PRIMARY KEY (workshop_id, step)
        );
        CREATE TABLE step_done (
            participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
            step TEXT NOT NULL,
            done_at TEXT NOT NULL,
            PRIMARY KEY (participant_id, step)
        );
        CREATE TABLE comments (
            id INTEGER PRIMARY KEY,
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            participant_id INTEGER REFERENCES participants(id) ON DELETE SET NULL,
            body TEXT NOT NULL,
            hidden INTEGER NOT NULL DEFAULT 0,
            request_token TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX comments_item ON comments(item_id);
        CREATE UNIQUE INDEX comments_request ON comments(workshop_id, request_token);
        ALTER TABLE items ADD COLUMN merged_into INTEGER REFERENCES items(id);
        ALTER TABLE items ADD COLUMN on_behalf INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE participants ADD COLUMN rejoin_code TEXT;
        ALTER TABLE participants ADD COLUMN last_seen TEXT;
        ALTER TABLE participants ADD COLUMN on_behalf INTEGER NOT NULL DEFAULT 0;
        CREATE UNIQUE INDEX participants_rejoin ON participants(workshop_id, rejoin_code)
        """,
    )
    # Every change a screen shows bumps its workshop's revision, whatever code path made it,
    # so an idle screen asks one cheap question: has the revision moved?
    bump = "UPDATE workshops SET revision = revision + 1 WHERE id = {workshop};"
    by_row = {
        "items": "NEW.workshop_id", "actions": "NEW.workshop_id", "comments": "NEW.workshop_id",
        "step_settings": "NEW.workshop_id", "participants": "NEW.workshop_id",
    }
    for table, workshop in by_row.items():
        old = workshop.replace("NEW.", "OLD.")
        db.execute(f"CREATE TRIGGER {table}_insert_bumps AFTER INSERT ON {table} BEGIN "
                   + bump.format(workshop=workshop) + " END")
        db.execute(f"CREATE TRIGGER {table}_delete_bumps AFTER DELETE ON {table} BEGIN "
                   + bump.format(workshop=old) + " END")
    for table, columns in {
        "items": "title, explanation, hidden, adopted, merged_into, kind",
        "actions": "what, lead, partners, timeline, resources, indicator, recommendation_id",
        "comments": "body, hidden",
        "step_settings": "locked, revealed, named_votes, method, cap, timer_ends_at",
        # last_seen is left out: a poll that marks someone present is not a change to show.
        "participants": "name, organisation, stakeholder_group",
    }.items():
        db.execute(f"CREATE TRIGGER {table}_update_bumps AFTER UPDATE OF {columns} ON {table} BEGIN "
                   + bump.format(workshop="NEW.workshop_id") + " END")
    through_participant = "(SELECT workshop_id FROM participants WHERE id = {row}.participant_id)"
    for table in ("votes", "step_done"):
        db.execute(f"CREATE TRIGGER {table}_insert_bumps AFTER INSERT ON {table} BEGIN "
                   + bump.format(workshop=through_participant.format(row="NEW")) + " END")
        db.execute(f"CREATE TRIGGER {table}_delete_bumps AFTER DELETE ON {table} BEGIN "
                   + bump.format(workshop=through_participant.format(row="OLD")) + " END")
    db.execute("CREATE TRIGGER votes_update_bumps AFTER UPDATE OF dots ON votes BEGIN "
               + bump.format(workshop=through_participant.format(row="NEW")) + " END")
    db.execute("CREATE TRIGGER workshops_update_bumps AFTER UPDATE OF step, title, region, sector, "
               "date, language, dots, anonymous ON workshops BEGIN "
               + bump.format(workshop="NEW.id") + " END")


@migrations()
def m004_action_agenda(db: Database):
    """Actions that can be carried out, ratings, volunteers, the group's texts, edit history.

    An action's uid names it in its history and in drafts: SQLite may give a deleted
    action's id to the next one, and the history of the two must not mix.
    """
    _run(
        db,
        """
        ALTER TABLE workshops ADD COLUMN closed_at TEXT;
        ALTER TABLE actions ADD COLUMN answers_item_id INTEGER REFERENCES items(id) ON DELETE SET NULL;
        ALTER TABLE actions ADD COLUMN starts TEXT NOT NULL DEFAULT '';
        ALTER TABLE actions ADD COLUMN ends TEXT NOT NULL DEFAULT '';
        ALTER TABLE actions ADD COLUMN first_step TEXT NOT NULL DEFAULT '';
        ALTER TABLE actions ADD COLUMN status TEXT NOT NULL DEFAULT 'planned'
            CHECK (status IN ('planned', 'started', 'done', 'stopped'));
        ALTER TABLE actions ADD COLUMN progress TEXT NOT NULL DEFAULT '';
        ALTER TABLE actions ADD COLUMN progress_at TEXT;
        ALTER TABLE actions ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE actions ADD COLUMN updated_at TEXT;
        ALTER TABLE actions ADD COLUMN uid TEXT;
        UPDATE actions SET uid = lower(hex(randomblob(16)));
        CREATE UNIQUE INDEX actions_uid ON actions(uid);
        CREATE TABLE action_volunteers (
            action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
            participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('lead', 'partner')),
            created_at TEXT NOT NULL,
            PRIMARY KEY (action_id, participant_id)
        );
        CREATE TABLE action_ratings (
            action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
            participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
            impact INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 5),
            effort INTEGER NOT NULL CHECK (effort BETWEEN 1 AND 5),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (action_id, participant_id)
        );
        CREATE TABLE agenda_texts (
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            key TEXT NOT NULL CHECK (key IN ('vision', 'summary', 'next_steps')),
            body TEXT NOT NULL DEFAULT '',
            version INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT,
            PRIMARY KEY (workshop_id, key)
        );
        CREATE TABLE edits (
            id INTEGER PRIMARY KEY,
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            subject TEXT NOT NULL,
            version INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('created', 'edited', 'removed')),
            changes TEXT NOT NULL,
            snapshot TEXT NOT NULL,
            participant_id INTEGER REFERENCES participants(id) ON DELETE SET NULL,
            facilitator_id INTEGER REFERENCES facilitators(id) ON DELETE SET NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX edits_subject ON edits(workshop_id, subject, version);
        ALTER TABLE drafts ADD COLUMN snapshot TEXT;
        ALTER TABLE drafts ADD COLUMN changes TEXT
        """,
    )
    bump = "UPDATE workshops SET revision = revision + 1 WHERE id = {workshop};"
    db.execute("CREATE TRIGGER actions_update_more_bumps AFTER UPDATE OF answers_item_id, starts, ends, "
               "first_step, status, progress ON actions BEGIN "
               + bump.format(workshop="NEW.workshop_id") + " END")
    db.execute("CREATE TRIGGER workshops_closed_bumps AFTER UPDATE OF closed_at ON workshops BEGIN "
               + bump.format(workshop="NEW.id") + " END")
    through_action = "(SELECT workshop_id FROM actions WHERE id = {row}.action_id)"
    for table in ("action_volunteers", "action_ratings"):
        for event, row in (("insert", "NEW"), ("delete", "OLD"), ("update", "NEW")):
            db.execute(f"CREATE TRIGGER {table}_{event}_bumps AFTER {event.upper()} ON {table} BEGIN "
                       + bump.format(workshop=through_action.format(row=row)) + " END")
    for event, row in (("insert", "NEW"), ("update", "NEW")):
        db.execute(f"CREATE TRIGGER agenda_texts_{event}_bumps AFTER {event.upper()} ON agenda_texts "
                   "BEGIN " + bump.format(workshop=f"{row}.workshop_id") + " END")


@migrations()
def m005_trust(db: Database):
    """Co-facilitators and invitations, server-side logins, throttling, removal and the audit log.

    A participant's session_key binds a browser to that person: SQLite may give a removed
    participant's id to the next one to join, and the old browser must not become them.
    """
    _run(
        db,
        """
        CREATE TABLE workshop_facilitators (
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            facilitator_id INTEGER NOT NULL REFERENCES facilitators(id) ON DELETE CASCADE,
            added_by INTEGER REFERENCES facilitators(id) ON DELETE SET NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (workshop_id, facilitator_id)
        );
        CREATE INDEX workshop_facilitators_by ON workshop_facilitators(facilitator_id);
        CREATE TABLE invitations (
            token_hash TEXT PRIMARY KEY,
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            email TEXT NOT NULL COLLATE NOCASE,
            invited_by INTEGER REFERENCES facilitators(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE TABLE logins (
            token_hash TEXT PRIMARY KEY,
            facilitator_id INTEGER NOT NULL REFERENCES facilitators(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            seen_at TEXT NOT NULL
        );
        CREATE TABLE attempts (
            key TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX attempts_key ON attempts(key, at);
        CREATE INDEX attempts_at ON attempts(at);
        ALTER TABLE workshops ADD COLUMN joining_closed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE participants ADD COLUMN session_key TEXT;
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            actor_kind TEXT NOT NULL CHECK (actor_kind IN ('facilitator', 'participant', 'system')),
            actor_id INTEGER,
            actor TEXT NOT NULL DEFAULT '',
            event TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_workshop ON audit(workshop_id, id)
        """,
    )
    # Joining closed or opened changes what the join page and the facilitator's page show.
    db.execute("CREATE TRIGGER workshops_joining_bumps AFTER UPDATE OF joining_closed ON workshops "
               "BEGIN UPDATE workshops SET revision = revision + 1 WHERE id = NEW.id; END")


@migrations()
def m006_data_care(db: Database):
    """A draft's Word document withdrawn when its participants were anonymised: listed, not downloadable."""
    db.execute("ALTER TABLE drafts ADD COLUMN withdrawn_at TEXT")
