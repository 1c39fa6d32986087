"""Drawing documents in a process of their own: the same agenda, and no stall for the room."""
import io
import os

from conftest import WORKSHOP_FORM
from docx import Document

from toolkit import agenda, documents
from toolkit import workshop as workshops


def _text(docx: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(docx)).paragraphs]


def test_the_worker_draws_the_same_agenda_as_the_server_would(db, facilitator):
    workshop = workshops.create(db, facilitator.account["id"], WORKSHOP_FORM)
    built = agenda.with_changes(db, workshop, agenda.build(db, workshop, 1))
    inline = documents.render(built)
    documents.start()
    try:
        drawn = documents.render(built)
        worker = documents._pool.submit(os.getpid).result()
    finally:
        documents.stop()
    assert worker != os.getpid()  # really drawn elsewhere
    assert _text(drawn) == _text(inline)
