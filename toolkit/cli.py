"""The `toolkit` command: a thin shell over the library."""
import contextvars
import functools
import socket
import sys
import threading
from pathlib import Path

import click
from flask import current_app

from toolkit import agenda, audit, catalogue, demo, documents, serving
from toolkit import facilitator as facilitators
from toolkit import workshop as workshops
from toolkit.db import connect, migrate
from toolkit.validation import Invalid, NotFound


def with_appcontext(command):
    """Run command inside the app's context, so it sees the configured database."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        from toolkit import create_app

        with create_app().app_context():
            return command(*args, **kwargs)

    return wrapped


@click.group()
def main():
    """Regional action-agenda workshop toolkit.

    Example: toolkit serve
    """


def _output_file(_ctx, _param, value):
    """Refuse an output file whose folder does not exist, before any work is done."""
    folder = Path(value).resolve().parent
    if not folder.is_dir():
        raise click.BadParameter(f"the folder {folder} does not exist")
    return value


def _open():
    """The database, migrated to the current schema."""
    db = connect(current_app.config["DATABASE"])
    migrate(db)
    return db


def _prepare() -> dict:
    """Migrate and load the catalogue; returns the catalogue counts."""
    db = _open()
    try:
        return catalogue.load(db)
    finally:
        db.close()


@main.command("init")
@with_appcontext
def init_command():
    """Create or update the database and load the study catalogue; safe to run again.

    Example: toolkit init
    """
    counts = _prepare()
    click.echo(
        f"Database ready at {current_app.config['DATABASE']}: catalogue "
        f"{counts['added']} added, {counts['updated']} updated, {counts['unchanged']} unchanged."
    )


def _address_for_phones(host: str) -> str:
    """The address participants' devices can use: the machine's own when listening on all."""
    if host in ("127.0.0.1", "::1"):
        return "localhost"
    if host not in ("0.0.0.0", "::"):
        return host
    try:
        found = socket.gethostbyname(socket.gethostname())
    except OSError:
        found = ""
    return found if found and not found.startswith("127.") else "localhost"


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 lets phones on the venue network join.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=serving.THREADS, show_default=True, type=click.IntRange(min=1),
              help="Flask threads per server process.")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="Server processes sharing the port; by default one per core, at most 4.")
@click.option("--public-url", default=None,
              help="The address participants use, shown in join links, e.g. http://192.168.1.20:5000")
@with_appcontext
def serve_command(host, port, threads, processes, public_url):
    """Run the toolkit on the uvicorn production server, with the study loaded.

    Example: toolkit serve --host 0.0.0.0 --port 8000
    """
    _prepare()
    app = current_app._get_current_object()
    processes = processes or serving.default_processes()
    try:
        # Bind before anything else: a second serve on a busy port changes nothing.
        bound = serving.listen(host, port) if processes == 1 else serving.reserve(host, port)
    except OSError as error:
        raise click.ClickException(f"Cannot listen on {host}:{port}: {error.strerror}") from None
    url = (public_url or f"http://{_address_for_phones(host)}:{port}").rstrip("/")
    app.config["PUBLIC_URL"] = url
    if url.startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True  # behind HTTPS the cookie never travels in clear
    db = connect(current_app.config["DATABASE"])
    try:
        if not facilitators.any_exist(db):
            token = facilitators.new_setup_token(db)
            click.echo(f"No facilitator account yet. Create yours at {url}/setup/{token}")
    finally:
        db.close()
    click.echo(f"Workshop toolkit running at {url}  (Ctrl+C stops it)")
    if processes == 1:
        _start_retention(current_app.config)
        _serve_from(app, threads, bound)
        return
    click.echo(f"{processes} server processes share the port.")

    def serve_in_child(number):
        if number == 0:
            _start_retention(app.config)  # one of them removes expired workshops
        _serve_from(app, threads, serving.listen_beside(bound))

    serving.run(serve_in_child, processes, click.echo)


def _serve_from(app, threads, listening) -> None:
    """Serve app from the listening socket until stopped, with documents drawn in a process of this server's own."""
    # The drawing process imports matplotlib while the room joins: an export then neither
    # waits for that import nor stalls the room's votes.
    from toolkit.web import draws_page, waits_long
    from toolkit.web.poll_shortcut import IN_FRONT, PollShortcut

    documents.start()
    flask = serving.wsgi_to_asgi(app, threads, waits=waits_long, patient=draws_page, **{IN_FRONT: True})
    served = PollShortcut(flask, app.config["DATABASE"])
    serving.keep_for_good()
    serving.hand_over_quickly()
    # Outside this command's app context: each request's thread starts from a copy of the
    # server's context, and a context pushed here would give every request the same `g`.
    contextvars.Context().run(serving.server(served).run, sockets=[listening])


@main.command("create-facilitator")
@click.option("--email", prompt=True, help="The address the facilitator logs in with.")
@click.option("--name", prompt=True, help="The name shown on workshops and agendas.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of a prompt.")
@with_appcontext
def create_facilitator_command(email, name, password_stdin):
    """Create a facilitator account; the password is asked for and stored hashed.

    Example: toolkit create-facilitator --email anna@example.org --name "Anna de Vries"
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    db = _open()
    try:
        account = facilitators.create(db, email, name, password)
    except Invalid as error:
        raise click.ClickException(f"{error.field}: {error}") from None
    finally:
        db.close()
    click.echo(f"Facilitator {account['email']} created.")


FORMATS = {".docx": "docx", ".md": "md", ".json": "json", ".csv": "actions-csv"}


@main.command("export")
@click.argument("code")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), callback=_output_file,
              help="Where to write it.")
@click.option("--format", "kind", type=click.Choice(["docx", "md", "votes-csv", "actions-csv", "json"]),
              help="What to write; by default told by the file's extension (.docx, .md, .csv, .json).")
@with_appcontext
def export_command(code, out, kind):
    """Export the workshop's agenda as its next numbered draft (DOCX), or as Markdown, CSV or JSON.

    Example: toolkit export K7M2QXR8N --out agenda.docx
    """
    from toolkit import exports, transfer

    kind = kind or FORMATS.get(Path(out).suffix.lower())
    if kind is None:
        raise click.ClickException("Please give --format, or a file name ending in .docx, .md, .csv or .json.")
    db = _open()
    audit.act_as("system", None, "toolkit export")
    try:
        workshop = workshops.by_code(db, code)
        if kind == "docx":
            draft = agenda.export_draft(db, workshop)
            body, said = draft["docx"], f"Draft {draft['version']} of {workshop['title']}"
        elif kind == "md":
            body, said = exports.markdown(agenda.upcoming(db, workshop)), f"The agenda of {workshop['title']}"
        elif kind == "json":
            body, said = transfer.dumps(db, workshop), workshop["title"]
        else:
            make = exports.votes_csv if kind == "votes-csv" else exports.actions_csv
            body, said = make(db, workshop), f"The {kind[:-4]} of {workshop['title']}"
        if kind != "docx":  # a draft logs itself as it is made
            audit.record(db, workshop["id"], "exported", kind, file=Path(out).name)
    except NotFound:
        raise click.ClickException(f"No workshop with code {code}.") from None
    finally:
        db.close()
    Path(out).write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    click.echo(f"{said} written to {out}")


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--email", required=True, help="The facilitator who will own the imported workshop.")
@click.option("--setup-only", is_flag=True,
              help="Only the setup (details, steps, own items, texts): a template for the next region.")
@with_appcontext
def import_command(file, email, setup_only):
    """Import a workshop exported as JSON; it gets a new join code.

    Example: toolkit import workshop-K7M2QXR8N.json --email anna@example.org
    """
    from toolkit import transfer
    from toolkit.i18n import gettext_for

    _prepare()  # the file names study items by their catalogue ids
    db = _open()
    try:
        account = facilitators.by_email(db, email)
        if account is None:
            raise click.ClickException(f"No facilitator with e-mail {email}.")
        data = transfer.parse(Path(file).read_bytes()[: transfer.MAX_FILE + 1])
        created = transfer.import_workshop(db, account["id"], data, structure_only=setup_only)
    except Invalid as error:
        message = gettext_for("en")(error.message)
        raise click.ClickException(message % error.params if error.params else message) from None
    finally:
        db.close()
    click.echo(f"Workshop {created['code']} imported: {created['title']}")


@main.command("demo")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), callback=_output_file,
              help="Where to write the demo agenda (DOCX).")
@click.option("--language", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@with_appcontext
def demo_command(out, language):
    """Create a complete demo workshop, keep it in the database and write its agenda.

    Example: toolkit demo --out demo.docx
    """
    _prepare()
    db = _open()
    try:
        result = demo.create(db, language)
    finally:
        db.close()
    Path(out).write_bytes(result["docx"])
    click.echo(f"Demo workshop {result['code']} created; its agenda (draft {result['version']}) is in {out}")
    click.echo(f"Run toolkit serve, then log in at http://localhost:5000/login as {result['email']} "
               f"with password {result['password']}")


# How often a running server looks for workshops past the retention period.
PURGE_EVERY = 3600


def _retention(config, days=None) -> int | None:
    """The days given, else the configured retention; a wrong setting stops the command."""
    from toolkit import privacy

    if days is not None:
        return days
    try:
        return privacy.retention_days(config.get("RETENTION_DAYS"))
    except ValueError:
        raise click.ClickException(
            f"TOOLKIT_RETENTION_DAYS must be a whole number of days, 1 or more, not {config.get('RETENTION_DAYS')!r}."
        ) from None


def _remove_expired(path, days) -> list[dict]:
    """Delete the workshops past retention, on a connection of its own."""
    from toolkit import privacy

    db = connect(path)
    try:
        return privacy.remove_expired(db, days)
    finally:
        db.close()


def _keep_removing(path, days, every, stop: threading.Event) -> None:
    """Remove expired workshops every so often until stop is set; a failed round is told, not fatal."""
    while not stop.wait(every):
        try:
            for workshop in _remove_expired(path, days):
                click.echo(f"Removed workshop {workshop['code']} (last activity {workshop['last_activity'][:10]}).")
        except Exception as error:  # noqa: BLE001 - the next round tries again
            click.echo(f"Removing expired workshops failed: {error}", err=True)


def _start_retention(config) -> threading.Event | None:
    """With a retention set, remove expired workshops now and then hourly; returns the thread's stop."""
    days = _retention(config)
    if days is None:
        return None
    removed = _remove_expired(config["DATABASE"], days)
    click.echo(f"Workshops are deleted {days} days after their last activity; {len(removed)} removed now.")
    stop = threading.Event()
    threading.Thread(target=_keep_removing, args=(config["DATABASE"], days, PURGE_EVERY, stop), daemon=True).start()
    return stop


@main.command("purge")
@click.option("--days", type=click.IntRange(min=1),
              help="Remove workshops whose last activity is more than this many days ago; "
                   "by default TOOLKIT_RETENTION_DAYS.")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@with_appcontext
def purge_command(days, dry_run):
    """Delete the workshops whose last activity (date, closing, log, edits, drafts) is too long ago.

    Example: toolkit purge --days 365 --dry-run
    """
    from toolkit import privacy

    days = _retention(current_app.config, days)
    if days is None:
        raise click.ClickException("No retention is set: give --days, or set TOOLKIT_RETENTION_DAYS.")
    db = _open()
    try:
        found = privacy.expired(db, days) if dry_run else privacy.remove_expired(db, days)
    finally:
        db.close()
    for workshop in found:
        click.echo(f"{workshop['code']}  last activity {workshop['last_activity'][:10]}  {workshop['title']}")
    if not found:
        click.echo(f"No workshop's last activity is more than {days} days ago.")
    else:
        click.echo(f"{'Would remove' if dry_run else 'Removed'} {len(found)} workshop(s).")


@main.command("delete-workshop")
@click.argument("code")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def delete_workshop_command(code, yes):
    """Delete a workshop and everything in it: participants, votes, actions, history, drafts, log.

    Example: toolkit delete-workshop K7M2QXR8N --yes
    """
    from toolkit import privacy

    db = _open()
    try:
        try:
            workshop = workshops.by_code(db, code)
        except NotFound:
            raise click.ClickException(f"No workshop with code {code}.") from None
        if not yes:
            click.confirm(f"Delete {workshop['code']} ({workshop['title']}) and everything in it?", abort=True)
        privacy.delete_workshop(db, workshop)
    finally:
        db.close()
    click.echo(f"Workshop {workshop['code']} deleted: {workshop['title']}")


def _cli_language() -> str:
    """The language of the person at the terminal, from the usual locale variables (nl or en)."""
    import os

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "nl" if value.lower().startswith("nl") else "en"
    return "en"


def _say(message: str, **params) -> str:
    """message (a msgid with %(name)s params) in the terminal's language."""
    from toolkit.i18n import gettext_for

    translated = gettext_for(_cli_language())(message)
    return translated % params if params else translated


def _refused(error: Invalid) -> click.ClickException:
    return click.ClickException(_say(error.message, **error.params))


@main.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace DEST if it already exists.")
@with_appcontext
def backup_command(dest, force):
    """Save a consistent copy of the database to DEST, also while the server runs.

    Example: toolkit backup backups/toolkit-2026-12-01.db
    """
    from toolkit import backup
    from toolkit.i18n import N_

    try:
        saved = backup.backup(current_app.config["DATABASE"], dest, force=force)
    except Invalid as error:
        raise _refused(error) from None
    click.echo(_say(N_("Backup saved to %(path)s (%(kilobytes)d KB; workshops: %(workshops)d, "
                       "participants: %(participants)d; integrity check ok)."),
                    path=saved["path"], kilobytes=max(1, round(saved["size"] / 1024)),
                    workshops=saved["workshops"], participants=saved["participants"]))


@main.command("restore")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(src, yes):
    """Replace the database with a backup, after checking it and saving the current one beside it.

    Example: toolkit restore backups/toolkit-2026-12-01.db
    """
    from toolkit import backup
    from toolkit.i18n import N_

    database = current_app.config["DATABASE"]
    try:
        found = backup.check(src)
    except Invalid as error:
        raise _refused(error) from None
    if not yes:
        click.confirm(_say(N_("Replace the database %(path)s with %(source)s (workshops: %(workshops)d, "
                              "participants: %(participants)d)?"),
                           path=database, source=src, **found), abort=True)
    try:
        restored = backup.restore(database, src)
    except Invalid as error:
        raise _refused(error) from None
    if restored["saved"]:
        click.echo(_say(N_("The database as it was is saved at %(path)s."), path=restored["saved"]["path"]))
    click.echo(_say(N_("Database %(path)s restored from %(source)s (workshops: %(workshops)d, "
                       "participants: %(participants)d)."), **restored))
