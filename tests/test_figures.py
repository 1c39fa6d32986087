"""The agenda's charts: PNG bytes from plain data, the same on every run, no global state."""
import io
import struct
import zlib

import matplotlib
import pytest
from docx import Document
from docx.oxml.ns import qn
from matplotlib._pylab_helpers import Gcf
from test_agenda_docx import sample_agenda

from toolkit import agenda_docx, figures

GROUPS = ["Companies", "Education and training", "Government", "Workers", "Other"]
BARS = [("Invest in lifelong learning", [4, 3, 2, 3, 0]),
        ("Staying competitive", [4, 2, 1, 2, 0]),
        ("Regional skills fund for SMEs", [3, 0, 2, 1, 0])]
QUADRANTS = {"quick_win": "Quick wins", "major_project": "Major projects",
             "fill_in": "Fill-ins", "reconsider": "Reconsider"}
POINTS = [(1, 4.2, 2.4), (2, 3.4, 3.8), (3, 2.0, 1.5), (5, 2.0, 1.5)]


def png_chunks(data):
    """The chunks of a PNG as (type, payload), checking the signature and each CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        payload = data[at + 8:at + 8 + length]
        crc, = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + payload)
        chunks.append((kind, payload))
        at += 12 + length
    return chunks


def size_and_dpi(data):
    chunks = dict(png_chunks(data))
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    per_metre_x, per_metre_y, unit = struct.unpack(">IIB", chunks[b"pHYs"])
    assert unit == 1 and per_metre_x == per_metre_y
    return width, height, per_metre_x * 0.0254


@pytest.mark.parametrize("width_cm", [16.0, 24.7])
def test_support_chart_is_a_png_at_200_dpi(width_cm):
    data = figures.support_chart(BARS, GROUPS, "Dots", width_cm=width_cm)
    width, height, dpi = size_and_dpi(data)
    assert round(dpi) == 200
    assert abs(width - width_cm / 2.54 * 200) <= 1
    assert height > 300  # three bars, a legend and an axis


def test_matrix_chart_is_a_png_at_200_dpi():
    data = figures.matrix_chart(POINTS, QUADRANTS, "Impact", "Effort", unrated=[4],
                                unrated_label="Not rated yet", width_cm=11)
    width, height, dpi = size_and_dpi(data)
    assert round(dpi) == 200 and abs(width - 11 / 2.54 * 200) <= 1
    assert height >= width  # a square plot with the axis and the note below


def test_the_same_data_gives_the_same_bytes_and_no_version_stamp():
    first = figures.support_chart(BARS, GROUPS, "Dots")
    assert figures.support_chart(BARS, GROUPS, "Dots") == first
    texts = [payload for kind, payload in png_chunks(first) if kind in (b"tEXt", b"iTXt")]
    assert not any(b"matplotlib" in t.lower() for t in texts)
    other = figures.support_chart(BARS[:2], GROUPS, "Dots")
    assert other != first


def test_charts_leave_no_global_state():
    before = dict(matplotlib.rcParams)
    figures.support_chart(BARS, GROUPS, "Dots")
    figures.matrix_chart(POINTS, QUADRANTS, "Impact", "Effort")
    assert Gcf.get_num_fig_managers() == 0  # no pyplot figures left open
    assert dict(matplotlib.rcParams) == before


@pytest.mark.parametrize("text", [
    "Cost $5 and $10", "$\\frac{1}{0}$", "$\\notacommand{$ and $^$", "\\",
    "🚀 שלום ﷺ 中文", "\x00\x1f\ud800\ufffe", "x" * 5000, "", "{title}", "<w:t>&amp;</w:t>",
    "a\nb\tc\r\n"])
@pytest.mark.filterwarnings("error")  # a missing glyph or bad mathtext would warn
def test_any_text_draws_without_error_or_warning(text):
    figures.support_chart([(text, [1, 2])], [text, "Other"], text)
    figures.matrix_chart([(1, 3.0, 3.0)], {"quick_win": text}, text, text,
                         unrated=list(range(2, 300)), unrated_label=text)


@pytest.mark.filterwarnings("error")
def test_empty_and_unequal_data_draw():
    figures.support_chart([], GROUPS, "Dots")
    figures.support_chart([("Only two groups counted", [1, 1])], GROUPS, "Dots")
    figures.matrix_chart([], QUADRANTS, "Impact", "Effort", unrated=[1, 2])
    figures.matrix_chart([(n, 1 + n % 5, 5 - n % 5) for n in range(1, 200)], QUADRANTS,
                         "Impact", "Effort")


def test_the_document_carries_the_charts_with_alt_text():
    doc = Document(io.BytesIO(agenda_docx.render(sample_agenda())))
    pictures = doc.element.body.xpath(".//wp:docPr")
    assert len(pictures) == 2
    for picture in pictures:
        assert picture.get("title") and picture.get("descr")
    assert "stakeholder group" in pictures[0].get("descr")
    assert "quadrants" in pictures[1].get("descr")
    images = [rel.target_part for rel in doc.part.rels.values()
              if rel.reltype.endswith("/image")]
    for image in images:
        assert image.content_type == "image/png"
        assert round(size_and_dpi(image.blob)[2]) == 200
    # Each picture is shown no wider than the text.
    for extent in doc.element.body.iter(qn("wp:extent")):
        assert int(extent.get("cx")) <= 16.05 * 360000
