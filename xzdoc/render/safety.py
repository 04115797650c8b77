"""Links and images checked against the project folder; anything that could inject code turned into text.

Pandoc already reads drafts without raw blocks (see pandoc.FORMAT). This walk
is the second wall: whatever reaches the writers is text, a link to the web or
inside the project, or an image file inside the project.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xzdoc.source import assets

IMAGE_TYPES = assets.IMAGE_TYPES
LINK_SCHEMES = assets.LINK_SCHEMES
_EMPTY_ATTR: list[Any] = ["", [], []]
# Pandoc writes a task list's "[ ]" and "[x]" as U+2610 and U+2612, which the official fonts lack (PDF/A
# admits no missing glyph); the squares the CJK fonts have take their place, in both DOCX and PDF.
_BOXES = str.maketrans({"\u2610": "\u25a1", "\u2612": "\u25a0", "\u2611": "\u25a0"})


@dataclass(frozen=True)
class Asset:
    """An image the document uses: where the draft points, and the checked file inside the project."""

    target: str
    file: Path

    @property
    def name(self) -> str:
        digest = hashlib.sha256(self.target.encode("utf-8")).hexdigest()[:16]
        return f"img/{digest}{self.file.suffix.lower()}"

    def data_uri(self) -> str:
        kind = IMAGE_TYPES.get(self.file.suffix.lower()) or mimetypes.guess_type(self.file.name)[0] or "image/png"
        return f"data:{kind};base64," + base64.b64encode(self.file.read_bytes()).decode("ascii")


@dataclass(frozen=True)
class Where:
    """Where a document's text came from, so an error can point at the draft line."""

    folder: Path           # the project folder: nothing may leave it
    base: Path             # relative targets are relative to the draft's own folder, as editors preview them
    source: str            # shown path of the draft (or template)
    text: str | None = None

    def line_of(self, target: str) -> int | None:
        if not self.text:
            return None
        for number, line in enumerate(self.text.split("\n"), 1):
            if target in line:
                return number
        return None


def check(ast: dict[str, Any], where: Where) -> tuple[Asset, ...]:
    """Neutralise the AST in place and return the images it uses."""
    assets: dict[str, Asset] = {}
    anchors = set(_anchors(ast.get("blocks", [])))
    for node in _nodes(ast.get("blocks", [])):
        kind = node.get("t")
        if kind == "Image":
            target = node["c"][2][0]
            if target not in assets:
                assets[target] = Asset(target, _image(target, where))
        elif kind == "Link":
            target = node["c"][2][0]
            _link(target, where)
            if not target.strip("# ") or (target.startswith("#") and target[1:] not in anchors):
                # Typst refuses an empty link and one to a label the document lacks; the words stay.
                node["t"], node["c"] = "Span", [_EMPTY_ATTR, node["c"][1]]
        elif kind == "Cite":  # "@某人" is prose here, not a bibliography key Typst would fail on
            node["t"], node["c"] = "Span", [_EMPTY_ATTR, node["c"][1]]
        elif kind == "Math":
            math_type, tex = node["c"]
            fence = "$$" if math_type.get("t") == "DisplayMath" else "$"
            node["t"], node["c"] = "Str", f"{fence}{tex}{fence}"
        elif kind == "RawInline":
            node["t"], node["c"] = "Code", [_EMPTY_ATTR, node["c"][1]]
        elif kind == "RawBlock":
            node["t"], node["c"] = "CodeBlock", [_EMPTY_ATTR, node["c"][1]]
        elif kind == "Str" and ("\u2610" in node["c"] or "\u2612" in node["c"] or "\u2611" in node["c"]):
            node["c"] = node["c"].translate(_BOXES)
        elif kind == "Table":
            _covered_rows(node)
    return tuple(assets.values())


def _covered_rows(table: dict[str, Any]) -> None:
    """Drop the rows a grid table's row spans cover entirely, shortening those spans to match.

    pandoc keeps such a row as a row of no cells, and its Typst writer prints it as a lone comma inside
    table(), which Typst cannot parse; Word would show it as a row of zero height. Nothing is lost.
    """
    try:
        _, _, _, head, bodies, foot = table["c"]
        sections = [head[1], foot[1]] + [rows for body in bodies for rows in (body[2], body[3])]
    except (TypeError, ValueError, IndexError, KeyError):
        return
    for rows in sections:
        empty = {i for i, row in enumerate(rows) if not row[1]}
        if not empty:
            continue
        for start, row in enumerate(rows):
            for cell in row[1]:
                reach = range(start, min(start + max(int(cell[2]), 1), len(rows)))
                cell[2] = max(1, sum(1 for i in reach if i not in empty))
        rows[:] = [row for row in rows if row[1]]


def retarget(ast: dict[str, Any], targets: dict[str, str], full_width: bool = False) -> bytes:
    """The AST as pandoc JSON with each image pointing at ``targets[old]``; ``ast`` itself is left as it was."""
    saved: list[tuple[list[Any], str, list[Any], list[Any]]] = []
    for node in _nodes(ast.get("blocks", [])):
        if node.get("t") == "Image":
            attrs, link = node["c"][0][2], node["c"][2]
            saved.append((link, link[0], attrs, list(attrs)))
            link[0] = targets[link[0]]
            # Typst places an image at its natural size; a wide screenshot would run off the page.
            if full_width and not any(k in ("width", "height") for k, _ in attrs):
                attrs.append(["width", "100%"])
    split = _short_words(ast.get("blocks", []), breakable=full_width)
    try:
        return json.dumps(ast, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    finally:
        for link, original, attrs, before in saved:
            link[0] = original
            attrs[:] = before
        for inlines, before in split:
            inlines[:] = before


# pandoc's Typst writer takes time quadratic in the length of one word, and Chinese prose has no spaces:
# a 40,000-character paragraph took 5 s, 200,000 over 3 minutes. Pieces this long keep it linear.
WORD = 200


def _short_words(blocks: list[Any], breakable: bool = False) -> list[tuple[list[Any], list[Any]]]:
    """Cut each long Str between two letters or digits (which Typst never escapes); returns what to restore.

    With ``breakable`` (the Typst side), a long run of Latin letters and digits also gets places to break:
    Typst never breaks a model number, a URL or a hash, which then runs past a table cell or the margin
    (Word wraps them anywhere).
    """
    changed = []
    stack: list[Any] = [blocks]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.append(item.get("c"))
        elif isinstance(item, list):
            if any(isinstance(x, dict) and x.get("t") == "Str" and (len(x["c"]) > WORD or
                                                                  (breakable and _NEEDS_BREAKS.search(x["c"])))
                   for x in item):
                changed.append((item, list(item)))
                item[:] = [piece for x in item for part in (_breakable(x) if breakable else [x]) for piece in _pieces(part)]
            stack.extend(item)
    return changed


# Typst breaks Latin text only at spaces and a few marks: 20 printable ASCII characters without one are more
# than a narrow table cell holds.
_UNBROKEN = re.compile(r"[!-~]{20,}")
_NEEDS_BREAKS = re.compile(r"[!-~]{20,}|\u200b")
_AFTER = re.compile(r"([/._\-:=&?#+,;])(?=[!-~])")
_EVERY_SIX = re.compile(r"([^\u200b]{6})(?=[^\u200b])")


# An empty inline box is a place Typst may break that leaves no character in the PDF's text (a U+200B
# would, and would come along when an address or model number is copied out of it). The ";" ends the
# embedded expression, so whatever follows ("(", ".", "[") stays text.
_BREAK = {"t": "RawInline", "c": ["typst", "#box();"]}


def _breakable(node: Any) -> list[Any]:
    """The Str cut into pieces with break opportunities between; a U+200B already in it (the records
    filter's, or a writer's own) becomes one too."""
    if not (isinstance(node, dict) and node.get("t") == "Str" and _NEEDS_BREAKS.search(node["c"])):
        return [node]

    def opened(run: re.Match[str]) -> str:
        # After URL and path punctuation, and every 6 characters between: a 12-column table's cells are
        # about 13 mm wide, 6 digits; Typst takes the break it needs, not every one offered.
        marked = _AFTER.sub("\\1\u200b", run.group())
        return "\u200b".join(_EVERY_SIX.sub("\\1\u200b", part) for part in marked.split("\u200b"))

    parts = [part for part in _UNBROKEN.sub(opened, node["c"]).split("\u200b") if part]
    out: list[Any] = []
    for part in parts:
        out += [dict(_BREAK), {"t": "Str", "c": part}] if out else [{"t": "Str", "c": part}]
    return out


def _pieces(node: Any) -> list[Any]:
    if not (isinstance(node, dict) and node.get("t") == "Str" and len(node["c"]) > WORD):
        return [node]
    text: str = node["c"]
    out, start, i = [], 0, WORD
    while i < len(text):
        if text[i - 1].isalnum() and text[i].isalnum():
            out.append({"t": "Str", "c": text[start:i]})
            start, i = i, i + WORD
        else:
            i += 1
    out.append({"t": "Str", "c": text[start:]})
    return out


def _anchors(blocks: Any) -> Iterator[str]:
    """The identifiers a link inside the document can point at: a heading's, a span's, a div's…"""
    for node in _nodes(blocks):
        content = node.get("c")
        if not isinstance(content, list) or len(content) < 2:
            continue
        attr = content[1] if node.get("t") == "Header" else content[0]
        if isinstance(attr, list) and len(attr) == 3 and isinstance(attr[0], str) and attr[0]:
            yield attr[0]


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "t" in item:
                yield item
            stack.extend(v for k, v in item.items() if k == "c")
        elif isinstance(item, list):
            stack.extend(item)


def _contained(target: str, where: Where, what: str) -> Path:
    return assets.contained(target, where.folder, where.base, what, where.source, where.line_of(target))


def _image(target: str, where: Where) -> Path:
    return assets.image(target, where.folder, where.base, where.source, where.line_of(target))


def _link(target: str, where: Where) -> None:
    assets.link(target, where.folder, where.base, where.source, where.line_of(target))
