"""The `toolkit` command: a thin shell over the library."""
import functools
import importlib
import socket
import sys
import threading
from pathlib import Path

import click
from flask import current_app

from toolkit import agenda, catalogue, demo, limits
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
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--public-url", default=None,
              help="The address participants use, shown in join links, e.g. http://192.168.1.20:5000")
@with_appcontext
def serve_command(host, port, threads, public_url):
    """Run the toolkit on the waitress production server, with the study loaded.

    Example: toolkit serve --host 0.0.0.0 --port 8000
    """
    import waitress

    _prepare()
    app = current_app._get_current_object()
    try:
        # Bind before anything else: a second serve on a busy port changes nothing.
        # Bodies above the largest any page takes are refused by waitress before they are read.
        server = waitress.create_server(app, host=host, port=port, threads=threads, ident="toolkit",
                                        max_request_body_size=limits.LARGEST_REQUEST_BYTES)
    except OSError as error:
        raise click.ClickException(f"Cannot listen on {host}:{port}: {error.strerror}") from None
    url = (public_url or f"http://{_address_for_phones(host)}:{port}").rstrip("/")
    app.config["PUBLIC_URL"] = url
    db = connect(current_app.config["DATABASE"])
    try:
        if not facilitators.any_exist(db):
            token = facilitators.new_setup_token(db)
            click.echo(f"No facilitator account yet. Create yours at {url}/setup/{token}")
    finally:
        db.close()
    click.echo(f"Workshop toolkit running at {url}  (Ctrl+C stops it)")
    # Drawing the document's charts needs matplotlib, whose import takes most of a second:
    # pay it while the room joins, not at the facilitator's first export.
    threading.Thread(target=importlib.import_module, args=("toolkit.agenda_docx",), daemon=True).start()
    server.run()


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

    Example: toolkit export K7M2QX --out agenda.docx
    """
    from toolkit import exports, transfer

    kind = kind or FORMATS.get(Path(out).suffix.lower())
    if kind is None:
        raise click.ClickException("Please give --format, or a file name ending in .docx, .md, .csv or .json.")
    db = _open()
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

    Example: toolkit import workshop-K7M2QX.json --email anna@example.org
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
