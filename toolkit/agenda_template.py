"""The agenda's default Word templates; rewrite them: `python -m toolkit.agenda_template`."""
# Everything the agenda looks like lives in a template's styles, header and footer, so an
# organisation restyles a copy in Word and the renderer (toolkit/agenda_docx.py) follows.
import copy
import io
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Mm, Pt, RGBColor

from toolkit.i18n import LANGUAGES, gettext_for

AGENDAS = Path(__file__).resolve().parent.parent / "agendas"
WORD_LANGUAGE = {"nl": "nl-NL", "en": "en-GB"}
FONT = "Calibri"
# The fixed moment stamped into the files, so that regenerating them changes no byte.
STAMP = datetime(2026, 1, 1)

DARK = RGBColor(0x1F, 0x38, 0x64)
ACCENT = RGBColor(0x2E, 0x5C, 0x8A)
GREY = RGBColor(0x59, 0x59, 0x59)
STUDY = RGBColor(0x40, 0x40, 0x40)
DERIVED = RGBColor(0x1B, 0x6A, 0x6F)
WORKSHOP = RGBColor(0xB0, 0x4A, 0x00)
HEADER_FILL = "DCE6F1"
GROUP_FILL = "EEF2F7"
BORDER = "A6A6A6"

# The styles the renderer uses, by name: README in agendas/ lists them for restylers.
PARAGRAPH_STYLES = (
    "Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "TOC Heading",
    "toc 1", "toc 2", "Caption", "List Bullet", "List Number", "Header", "Footer",
    "Bibliography", "Small Print", "Figure", "Table Text", "Table Number", "Table Heading",
    "Table Group",
)
CHARACTER_STYLES = (
    "Strong", "Note", "Study Quote", "Study Label", "Derived Wording", "Derived Label",
    "Workshop Addition", "Workshop Label",
)
TABLE_STYLE = "Agenda Table"


def build(language: str) -> bytes:
    """The default template for language (nl or en) as .docx bytes."""
    _ = gettext_for(language)
    doc = Document()
    _drop_extras(doc)
    _page(doc.sections[0])
    _language(doc, WORD_LANGUAGE[language])
    _styles(doc)
    _header_and_footer(doc.sections[0], _)
    _specimen(doc, _)
    props = doc.core_properties
    props.title = props.subject = props.keywords = props.comments = props.category = ""
    props.author = props.last_modified_by = "toolkit"
    props.language = WORD_LANGUAGE[language]
    props.revision = 1
    props.created = props.modified = props.last_printed = STAMP
    out = io.BytesIO()
    doc.save(out)
    return _stable_zip(out.getvalue())


def write(folder: Path = AGENDAS) -> list[Path]:
    """Write agenda-<language>.docx for every language into folder; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for language in LANGUAGES:
        path = folder / f"agenda-{language}.docx"
        path.write_bytes(build(language))
        paths.append(path)
    return paths


def main(argv=None):
    """Rewrite the default templates in agendas/ (or the folder given as argument)."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else AGENDAS
    for path in write(folder):
        print(f"Wrote {path}")


# --- the page and the language ---------------------------------------------------------


def _drop_extras(doc):
    """Leave out python-docx's preview picture and Word 2010's second copy of the styles."""
    package_rels = doc.part.package.rels
    for r_id, rel in list(package_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package_rels[r_id]
    for r_id, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(r_id)


def _page(section):
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)
    section.header_distance = section.footer_distance = Cm(1.2)
    section.different_first_page_header_footer = True  # the title page stays clean


def _language(doc, tag):
    """Spelling and hyphenation language of the whole document."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    r_pr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = r_pr.find(qn("w:lang"))
    lang.set(qn("w:val"), tag)
    lang.set(qn("w:eastAsia"), tag)
    fonts = r_pr.find(qn("w:rFonts"))
    fonts.attrib.clear()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    theme_lang = doc.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:val"), tag)
        theme_lang.attrib.pop(qn("w:eastAsia"), None)


# --- styles ----------------------------------------------------------------------------


def _styles(doc):
    styles = doc.styles
    _tidy(styles)
    para, char = WD_STYLE_TYPE.PARAGRAPH, WD_STYLE_TYPE.CHARACTER

    normal = _style(styles, "Normal", para, font=FONT, size=11, after=6, line=1.15)
    normal.font.name = FONT
    _style(styles, "Title", para, size=28, color=DARK, before=120, after=12, line=1.0,
           keep=True)
    _style(styles, "Subtitle", para, size=15, italic=False, color=ACCENT, after=18, keep=True)
    _style(styles, "Heading 1", para, size=16, bold=True, color=DARK, before=18, after=6,
           keep=True, outline=0, next_style="Normal")
    _style(styles, "Heading 2", para, size=13, bold=True, color=ACCENT, before=12, after=4,
           keep=True, outline=1, next_style="Normal")
    _style(styles, "Heading 3", para, size=11, bold=True, color=DARK, before=8, after=2,
           keep=True, outline=2, next_style="Normal")
    _style(styles, "TOC Heading", para, size=16, bold=True, color=DARK, before=0, after=12,
           base="Heading 1", outline=9, next_style="Normal")
    _style(styles, "toc 1", para, bold=True, before=4, after=2, builtin=True)
    _style(styles, "toc 2", para, before=0, after=2, indent=0.5, builtin=True)
    _style(styles, "Caption", para, size=9, italic=True, color=GREY, before=4, after=12)
    for name in ("List Bullet", "List Number"):
        _style(styles, name, para, after=3)
    _style(styles, "Header", para, size=9, color=GREY, after=0, line=1.0)
    _style(styles, "Footer", para, size=9, color=GREY, after=0, line=1.0,
           align=WD_ALIGN_PARAGRAPH.RIGHT)
    _style(styles, "Bibliography", para, indent=1.0, hanging=1.0, builtin=True)
    _style(styles, "Small Print", para, size=9, color=GREY, after=4)
    _style(styles, "Figure", para, before=6, after=0, line=1.0, keep=True,
           align=WD_ALIGN_PARAGRAPH.CENTER, next_style="Caption")
    _style(styles, "Table Text", para, size=9.5, after=1, line=1.0)
    _style(styles, "Table Number", para, base="Table Text", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _style(styles, "Table Heading", para, base="Table Text", size=8, bold=True, color=DARK,
           keep=True)
    group = _style(styles, "Table Group", para, base="Table Text", bold=True, color=DARK,
                   before=2, after=2, keep=True)
    _paragraph_shading(group, GROUP_FILL)

    _style(styles, "Strong", char, bold=True)
    _style(styles, "Note", char, color=GREY)
    _style(styles, "Study Quote", char, italic=True, color=STUDY)
    _style(styles, "Study Label", char, base="Study Quote", bold=True, italic=False)
    _style(styles, "Derived Wording", char, color=DERIVED)
    _style(styles, "Derived Label", char, base="Derived Wording", bold=True)
    _style(styles, "Workshop Addition", char, color=WORKSHOP)
    _style(styles, "Workshop Label", char, base="Workshop Addition", bold=True)
    _table_style(styles)


def _tidy(styles):
    """Start from plain styles: no theme fonts or colours, no linked twins, few table looks."""
    # Theme fonts would win over the font a restyler sets on Normal; linked "... Char" twins
    # would keep the old look in Word's character style list.
    root = styles.element
    keep_tables = {"TableNormal", "TableGrid"}
    for style in list(root.findall(qn("w:style"))):
        kind, style_id = style.get(qn("w:type")), style.get(qn("w:styleId"))
        if (kind == "table" and style_id not in keep_tables) or (
            kind == "character" and style_id.endswith("Char")
        ):
            root.remove(style)
            continue
        for link in style.findall(qn("w:link")):
            style.remove(link)
        r_pr = style.find(qn("w:rPr"))
        if r_pr is not None:
            for element in r_pr.findall(qn("w:rFonts")) + r_pr.findall(qn("w:color")):
                r_pr.remove(element)


def _style(styles, name, kind, *, base=None, font=None, size=None, bold=None, italic=None,
           color=None, before=None, after=None, line=None, keep=None, align=None,
           indent=None, hanging=None, outline=None, next_style=None, builtin=False):
    """The style called name, created if missing, with exactly these properties."""
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, kind)
        if builtin:  # one of Word's own styles (toc 1, Bibliography): not a custom one
            style.element.attrib.pop(qn("w:customStyle"), None)
    element = style.element
    for hidden in ("w:semiHidden", "w:unhideWhenUsed"):
        for child in element.findall(qn(hidden)):
            element.remove(child)
    if kind == WD_STYLE_TYPE.PARAGRAPH and name != "Normal":
        style.base_style = styles[base or "Normal"]
    elif base:
        style.base_style = styles[base]
    style.quick_style = True
    if element.find(qn("w:pPr")) is not None and kind == WD_STYLE_TYPE.PARAGRAPH:
        num_pr = element.find(qn("w:pPr")).find(qn("w:numPr"))
        if num_pr is not None and num_pr.find(qn("w:numId")) is None:
            num_pr.getparent().remove(num_pr)  # Subtitle's stray list level
    font_ = style.font
    if font is not None:
        font_.name = font
    if size is not None:
        font_.size = Pt(size)
    if bold is not None:
        font_.bold = bold
    if italic is not None:
        font_.italic = italic
    if color is not None:
        font_.color.rgb = color
    if kind != WD_STYLE_TYPE.PARAGRAPH:
        return style
    if next_style:
        style.next_paragraph_style = styles[next_style]
    fmt = style.paragraph_format
    for child in element.findall(qn("w:pPr")):
        for border in child.findall(qn("w:pBdr")):
            child.remove(border)  # python-docx's Title underline: a restyler adds their own
    if before is not None:
        fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    if line is not None:
        fmt.line_spacing = line
    if keep is not None:
        fmt.keep_with_next = keep
    if align is not None:
        fmt.alignment = align
    if indent is not None:
        fmt.left_indent = Cm(indent)
    if hanging is not None:
        fmt.first_line_indent = Cm(-hanging)
    if outline is not None:
        p_pr = element.get_or_add_pPr()
        for old in p_pr.findall(qn("w:outlineLvl")):
            p_pr.remove(old)
        level = OxmlElement("w:outlineLvl")
        level.set(qn("w:val"), str(outline))
        p_pr.append(level)
        _order_p_pr(p_pr)
    return style


def _paragraph_shading(style, fill):
    p_pr = style.element.get_or_add_pPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    p_pr.append(shading)
    _order_p_pr(p_pr)


# The schema's order of the paragraph properties the templates use.
_P_PR_ORDER = [qn("w:" + n) for n in (
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
    "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku",
    "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi",
    "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents",
    "suppressOverlap", "jc", "textDirection", "textAlignment", "textboxTightWrap",
    "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange")]


def _order_p_pr(p_pr):
    children = sorted(p_pr, key=lambda c: _P_PR_ORDER.index(c.tag) if c.tag in _P_PR_ORDER
                      else len(_P_PR_ORDER))
    for child in children:
        p_pr.append(child)


def _table_style(styles):
    """"Agenda Table": thin borders, narrow cell margins, a shaded header row."""
    style = styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.TABLE)
    style.base_style = styles["Normal Table"]
    style.quick_style = True
    borders = "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="{BORDER}"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    style.element.append(parse_xml(
        f'<w:pPr {nsdecls("w")}><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'
        "</w:pPr>"))
    style.element.append(parse_xml(
        f'<w:tblPr {nsdecls("w")}><w:tblBorders>{borders}</w:tblBorders>'
        '<w:tblCellMar><w:top w:w="28" w:type="dxa"/><w:left w:w="57" w:type="dxa"/>'
        '<w:bottom w:w="28" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>'
        "</w:tblPr>"))
    style.element.append(parse_xml(
        f'<w:tblStylePr {nsdecls("w")} w:type="firstRow"><w:rPr><w:b/>'
        f'<w:color w:val="{DARK}"/></w:rPr><w:tcPr>'
        f'<w:shd w:val="clear" w:color="auto" w:fill="{HEADER_FILL}"/></w:tcPr>'
        "</w:tblStylePr>"))


# --- header, footer and the specimen body ----------------------------------------------


def _header_and_footer(section, _):
    """Title and draft in the header, "page X of Y" in the footer; nothing on the title page."""
    header = section.header.paragraphs[0]
    header.style = "Header"
    header.add_run("{title}")
    header.add_run(" — ")
    header.add_run("{draft}")
    footer = section.footer.paragraphs[0]
    footer.style = "Footer"
    # The translated sentence decides where the two numbers go.
    pieces = re.split(r"(%\(page\)s|%\(pages\)s)", _("Page %(page)s of %(pages)s"))
    for piece in pieces:
        if piece == "%(page)s":
            _field(footer, "PAGE", "1")
        elif piece == "%(pages)s":
            _field(footer, "NUMPAGES", "1")
        elif piece:
            footer.add_run(piece)
    for part in (section.first_page_header, section.first_page_footer):
        part.is_linked_to_previous = False
        part.paragraphs[0].style = "Header"


def _field(paragraph, instruction, cached):
    def char(kind):
        run = paragraph.add_run()
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        run._r.append(element)

    char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    char("separate")
    paragraph.add_run(cached)
    char("end")


def _specimen(doc, _):
    """A sample of every style, so a restyler sees them in Word; the renderer drops it."""
    doc.add_paragraph("Title", style="Title")
    doc.add_paragraph("Subtitle", style="Subtitle")
    doc.add_paragraph(_("This template holds the styles, header and footer of the action "
                        "agenda. When an agenda is made, this text is replaced; change the "
                        "styles, not this text."))
    doc.add_paragraph("TOC Heading", style="TOC Heading")
    doc.add_paragraph("toc 1", style="toc 1")
    doc.add_paragraph("toc 2", style="toc 2")
    for level in (1, 2, 3):
        doc.add_paragraph(f"Heading {level}", style=f"Heading {level}")
    p = doc.add_paragraph("Normal: ")
    for name in CHARACTER_STYLES:
        p.add_run(name, style=name)
        p.add_run(" · ")
    doc.add_paragraph("List Bullet", style="List Bullet")
    doc.add_paragraph("List Number", style="List Number")
    doc.add_paragraph("Small Print", style="Small Print")
    doc.add_paragraph("Figure", style="Figure")
    doc.add_paragraph("Caption", style="Caption")
    doc.add_paragraph("Bibliography", style="Bibliography")
    table = doc.add_table(rows=3, cols=2, style=TABLE_STYLE)
    samples = (("Table Heading", "Table Heading"), ("Table Group", "Table Group"),
               ("Table Text", "Table Number"))
    for row, names in zip(table.rows, samples):
        for cell, name in zip(row.cells, names):
            cell.paragraphs[0].style = name
            cell.paragraphs[0].add_run(f"{name} (1)" if name == "Table Number" else name)


def _stable_zip(data: bytes) -> bytes:
    """The same .docx with fixed member dates, so unchanged templates stay byte-identical."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            stable = copy.copy(info)
            stable.date_time = (1980, 1, 1, 0, 0, 0)
            target.writestr(stable, source.read(info.filename),
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


if __name__ == "__main__":
    main()
