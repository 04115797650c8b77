"""The pygls wiring: LSP messages in, workspace calls, LSP messages out. The only pygls user.

The workspace counts columns in characters (code points). LSP counts them in the encoding
agreed at start-up, UTF-16 unless the client offers another: a character outside the Basic
Multilingual Plane (a rare 𠀀-style name character, an emoji) is two UTF-16 units, and every
Chinese character is three UTF-8 units. Positions are converted here, in both directions,
against the text of their line.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.server import LanguageServer

from xzdoc import __version__
from xzdoc import config as cfg
from xzdoc.authoring.lsp import assist, fixes
from xzdoc.authoring.lsp.workspace import Diagnostic, Workspace
from xzdoc.source import loader

# Keystrokes closer together than this are judged once, after the last one.
DEBOUNCE = 0.03
_SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning,
             "info": lsp.DiagnosticSeverity.Information}
_KIND = {"key": lsp.CompletionItemKind.Property, "value": lsp.CompletionItemKind.EnumMember,
         "heading": lsp.CompletionItemKind.Text}


class XzdocServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("xzdoc", __version__)
        self.spaces: dict[Path, Workspace] = {}
        self.pending: dict[Path, asyncio.Task[None]] = {}

    def space(self, path: Path) -> Workspace:
        root = cfg.find_root(path.parent)
        if root not in self.spaces:
            self.spaces[root] = Workspace(root)
        return self.spaces[root]

    def publish(self, found: dict[Path, list[Diagnostic]]) -> None:
        for path, items in sorted(found.items()):
            lines = self.space(path).text_of(path).split("\n")
            self.publish_diagnostics(path.as_uri(), [_diagnostic(d, lines, self.encoding) for d in items])

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or lsp.PositionEncodingKind.Utf16)


server = XzdocServer()


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path)).resolve()


def _relevant(path: Path) -> bool:
    return path.name in (loader.PROJECT_FILE, cfg.CONFIG_NAME) or path.suffix == ".md"


def units(text: str, encoding: str) -> int:
    """The length of ``text`` in the code units of ``encoding`` (an LSP PositionEncodingKind)."""
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    if encoding == lsp.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def to_client(line: str, column: int, encoding: str) -> int:
    """A character column of ``line`` as the client counts it (past the end stays past the end)."""
    return units(line[:column], encoding) + max(0, column - len(line))


def from_client(line: str, offset: int, encoding: str) -> int:
    """The character column at client offset ``offset`` of ``line``; an offset inside a character points past it."""
    count = 0
    for column, char in enumerate(line):
        if count >= offset:
            return column
        count += units(char, encoding)
    return len(line) + max(0, offset - count)


def _diagnostic(d: Diagnostic, lines: list[str], encoding: str) -> lsp.Diagnostic:
    return lsp.Diagnostic(range=_range(lines, encoding, d.line, d.start, d.line, d.end), message=d.message,
                          source="xzdoc", severity=_SEVERITY.get(d.level, lsp.DiagnosticSeverity.Error), code=d.rule)


def _range(lines: list[str], encoding: str, line: int, start: int, end_line: int, end: int) -> lsp.Range:
    def at(row: int, column: int) -> lsp.Position:
        text = lines[row] if 0 <= row < len(lines) else ""
        return lsp.Position(line=row, character=to_client(text, column, encoding))
    return lsp.Range(start=at(line, start), end=at(end_line, end))


def _column(ls: XzdocServer, lines: list[str], position: lsp.Position) -> int:
    text = lines[position.line] if 0 <= position.line < len(lines) else ""
    return from_client(text, position.character, ls.encoding)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: XzdocServer, params: lsp.DidOpenTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if _relevant(path):
        ls.publish(ls.space(path).edit(path, params.text_document.text))


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: XzdocServer, params: lsp.DidChangeTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if not _relevant(path):
        return
    ws = ls.space(path)
    # Noted at once (a plain handler runs before the next message), so completion and
    # quick fixes asked right after an edit see it; only the judging waits.
    ws.note(path, ls.workspace.get_text_document(params.text_document.uri).source)
    waiting = ls.pending.pop(ws.root, None)
    if waiting is not None:
        waiting.cancel()
    ls.pending[ws.root] = asyncio.ensure_future(_later(ls, ws, path))


async def _later(ls: XzdocServer, ws: Workspace, path: Path) -> None:
    await asyncio.sleep(DEBOUNCE)
    ls.pending.pop(ws.root, None)
    ls.publish(ws.refresh(path))


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: XzdocServer, params: lsp.DidCloseTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if _relevant(path):
        ls.publish(ls.space(path).edit(path, None))


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: XzdocServer, params: lsp.DidSaveTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if _relevant(path):
        ws = ls.space(path)
        ws.reload()  # other tools may have written files beside this one
        ls.publish(ws.refresh(path))


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
def code_action(ls: XzdocServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    path = _path(params.text_document.uri)
    if not _relevant(path):
        return []
    ws = ls.space(path)
    low, high = params.range.start.line, params.range.end.line
    wanted = [d for d in ws.latest.get(path, []) if low <= d.line <= high]
    lines, enc = ws.text_of(path).split("\n"), ls.encoding
    out = []
    for fix in fixes.fixes(ws, path, wanted):
        edits = [lsp.TextEdit(range=_range(lines, enc, e.line, e.start, e.end_line, e.end), new_text=e.text)
                 for e in fix.edits]
        out.append(lsp.CodeAction(title=fix.title, kind=lsp.CodeActionKind.QuickFix, is_preferred=fix.preferred or None,
                                  diagnostics=[_diagnostic(fix.fixes, lines, enc)] if fix.fixes else None,
                                  edit=lsp.WorkspaceEdit(changes={params.text_document.uri: edits})))
    return out


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[":", " ", "[", ",", "#"]))
def completion(ls: XzdocServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    path = _path(params.text_document.uri)
    ws = ls.space(path)
    lines = ws.text_of(path).split("\n")
    row, col = params.position.line, _column(ls, lines, params.position)
    if path.suffix == ".md":
        folder = ws.project_of(path)
        project = ws.projects.get(folder) if folder else None
        kind = next((k for k, d in project.drafts.items() if d.file == path), None) if project else None
        items = assist.complete_draft(ws.config, kind, lines, row)
    elif _relevant(path):
        items = assist.complete_yaml(ws.config, lines, row, col, is_config=path.name == cfg.CONFIG_NAME)
    else:
        items = []
    return lsp.CompletionList(is_incomplete=False, items=[
        lsp.CompletionItem(label=i.label, detail=i.detail or None, insert_text=i.insert, kind=_KIND[i.kind])
        for i in items])


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: XzdocServer, params: lsp.HoverParams) -> lsp.Hover | None:
    path = _path(params.text_document.uri)
    if not _relevant(path):
        return None
    ws = ls.space(path)
    lines = ws.text_of(path).split("\n")
    row, col = params.position.line, _column(ls, lines, params.position)
    rules = [d.rule for d in ws.diagnostics_at(path, row) if d.start <= col <= d.end]
    text = assist.hover(ws.config, lines, row, col, path.suffix != ".md", rules)
    if text is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))


def run() -> None:
    server.start_io()
