"""Charts and QR codes as SVG: well-formed, accessible, escaped, and the numbers exact."""
import xml.etree.ElementTree as ET

import pytest

from toolkit import chart

SVG = "{http://www.w3.org/2000/svg}"
GROUPS = [("companies", "Companies"), ("education", "Education and training"), ("workers", "Workers")]


def _row(label, values, note=None, tone=None):
    segments = [{"key": key, "label": name, "value": value} for (key, name), value in zip(GROUPS, values)]
    row = {"label": label, "segments": segments, "total": sum(values)}
    if note:
        row.update(note=note, tone=tone)
    return row


def _texts(root):
    return ["".join(element.itertext()) for element in root.iter(SVG + "text")]


def test_a_chart_is_well_formed_and_labelled_for_screen_readers():
    svg = chart.bars_svg("Drivers: dots per item", [_row("Staying competitive", [2, 3, 1])], "dots")
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    title = root.find(f"{SVG}title[@id='{title_id}']")
    desc = root.find(f"{SVG}desc[@id='{desc_id}']")
    assert title.text == "Drivers: dots per item"
    assert desc.text == "Staying competitive: 6 dots (Companies 2, Education and training 3, Workers 1)"


def test_every_number_is_on_the_chart():
    rows = [_row("First", [4, 7, 2]), _row("Second", [0, 5, 0]), _row("Nobody", [0, 0, 0])]
    texts = _texts(ET.fromstring(chart.bars_svg("Votes", rows, "dots")))
    for shown in ("4", "7", "2", "13", "5", "0"):
        assert shown in texts
    # A segment of nothing draws nothing: no stray zero inside the second bar.
    assert texts.count("0") == 1


def test_user_text_is_escaped_everywhere():
    evil = '<script>alert("x")</script> & co'
    rows = [_row(evil, [1, 0, 0], note="R&D <b>")]
    svg = chart.bars_svg(f"Title {evil}", rows, "dots & points")
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&amp; co" in svg
    root = ET.fromstring(svg)
    assert root.find(SVG + "title").text == f"Title {evil}"
    assert evil in root.find(SVG + "desc").text and "dots & points" in root.find(SVG + "desc").text
    assert root.findall(f".//{SVG}script") == []


def test_group_labels_are_escaped_too():
    row = {"label": "x", "total": 1, "segments": [{"key": "k", "label": "<img src=x onerror=alert(1)>", "value": 1}]}
    svg = chart.bars_svg("t", [row], "dots")
    assert "<img" not in svg
    ET.fromstring(svg)


def test_control_characters_typed_by_someone_do_not_break_the_svg():
    ET.fromstring(chart.bars_svg("t\x0b", [_row("a\x00b\x1f", [1, 1, 1])], "dots"))


def test_long_labels_are_cut_on_screen_but_complete_for_screen_readers():
    long = "Een zeer lange titel over leren en werken in de regio " * 4
    root = ET.fromstring(chart.bars_svg("t", [_row(long, [1, 2, 3])], "dots"))
    shown = next(t for t in _texts(root) if t.startswith("Een zeer"))
    assert shown.endswith("…") and len(shown) < len(long.strip())
    assert long.strip() in root.find(SVG + "desc").text
    assert long.strip() in "".join(root.find(f"{SVG}g[@class='bar']/{SVG}title").itertext())


def test_the_verdict_note_is_shown_beside_its_bar():
    root = ET.fromstring(chart.bars_svg("t", [_row("a", [1, 1, 1], "The groups agree", "good")], "dots"))
    assert "The groups agree" in _texts(root)


def test_colours_stay_with_their_group_and_are_colour_blind_safe():
    colours = chart.colours([key for key, _ in GROUPS])
    assert list(colours.values()) == list(chart.PALETTE[:3])
    svg = chart.bars_svg("t", [_row("a", [1, 1, 1])], "dots")
    assert all(colour in svg for colour in colours.values())
    assert chart.ink_on("#0072B2") == "#FFFFFF" and chart.ink_on("#F0E442") == "#000000"


def test_the_same_data_draws_the_same_chart():
    rows = [_row("a", [1, 2, 3]), _row("b", [3, 2, 1])]
    assert chart.bars_svg("t", rows, "dots") == chart.bars_svg("t", rows, "dots")


def test_an_empty_chart_still_parses():
    root = ET.fromstring(chart.bars_svg("Nothing yet", [], "dots"))
    assert root.get("role") == "img"


@pytest.mark.parametrize("label,room", [("short", 1000), ("a much longer label than fits", 200)])
def test_truncate_fits_the_room(label, room):
    cut = chart.truncate(label, 30, room)
    assert chart.text_width(cut, 30) <= room


def test_qr_code_parses_and_says_its_link():
    url = "http://192.168.1.20:5000/j/ABC234?x=1&y=<2>"
    svg = chart.qr_svg(url)
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-label") == url
    assert root.find(SVG + "path") is not None
    assert ET.fromstring(chart.qr_svg(url, "Scan me & join")).get("aria-label") == "Scan me & join"
