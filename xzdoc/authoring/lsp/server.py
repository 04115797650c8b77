"""The pygls wiring: LSP messages in, workspace calls, LSP messages out. The only pygls user.

The workspace counts columns in characters (code points). LSP counts them in UTF-16 code
units, which every client speaks (the server never takes up another encoding a client offers:
pygls 1.x miscounts UTF-8 for Chinese text): a character outside the Basic Multilingual Plane
(a rare 𠀀-style name character, an emoji) is two units. Positions are converted here, in both
directions, against the text of their line.

The text of an open document is kept here, not in pygls's document store: LSP breaks lines
only at \n, \r\n and \r, while pygls splits at every Unicode line boundary (U+2028, \x0c…),
so an edit after such a character would land on the wrong line.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest, JsonRpcParseError
from pygls.protocol import JsonRPCNotification, LanguageServerProtocol, lsp_method
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


class _Protocol(LanguageServerProtocol):
    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(self, params: lsp.InitializeParams) -> lsp.InitializeResult:
        # Offered encodings are set aside before pygls picks one, so UTF-16 is what is announced.
        general = params.capabilities.general if params.capabilities else None
        if general is not None:
            general.position_encodings = None
        return super().lsp_initialize(params)  # type: ignore[no-any-return]

    def _deserialize_message(self, data: Any) -> Any:
        # pygls drops a request it cannot read (a negative line, missing params) without a word, and
        # the editor then waits for ever: answer it with the error instead.
        try:
            return super()._deserialize_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(data["id"], error=exc.to_response_error())
            return JsonRPCNotification(method="$/xzdoc/unreadable", jsonrpc=self.VERSION, params=None)

    def data_received(self, data: bytes) -> None:
        # pygls waits for ever on a header block without Content-Length, and on a body that is not a JSON
        # object (a batch array): it then hears nothing more. A body that is not UTF-8 raises inside pygls
        # and the request is never answered. Such messages are taken out here; the rest go on to pygls.
        buffered = b"".join(self._message_buf) + data
        self._message_buf = []
        kept = []
        while (end := buffered.find(b"\r\n\r\n")) >= 0:
            length = _LENGTH.search(buffered[:end + 2])
            if length is None:
                buffered = buffered[end + 4:]
                continue
            stop = end + 4 + int(length.group(1))
            if len(buffered) < stop:
                break                                   # the rest of the body is still on its way
            body = buffered[end + 4:stop]
            if body == _OVERSIZE:
                error = JsonRpcInvalidRequest(f"消息正文超过 {MAX_BODY // 2**20} MiB，已丢弃").to_response_error()
                self._send_response(None, error=error)
            elif body.lstrip()[:1] == b"{":
                try:
                    json.loads(body.decode(self.CHARSET))
                    kept.append(buffered[:stop])
                except UnicodeDecodeError:
                    self._answer_undecodable(body)
                except ValueError as exc:
                    # pygls would print its traceback and send the editor an English "Unexpected error".
                    error = JsonRpcParseError(f"消息正文不是有效的 JSON（{str(exc)[:120]}）").to_response_error()
                    self._send_response(None, error=error)
            else:
                error = JsonRpcInvalidRequest("消息正文不是 JSON 对象（LSP 不支持批量请求）").to_response_error()
                self._send_response(None, error=error)
            buffered = buffered[stop:]
        super().data_received(b"".join(kept) + buffered)

    def _answer_undecodable(self, body: bytes) -> None:
        try:
            message = json.loads(body.decode(self.CHARSET, "replace"))
        except ValueError:
            message = None
        if isinstance(message, dict) and "method" not in message:
            return                                      # a client's answer to us: nothing to reply to
        ident = message.get("id") if isinstance(message, dict) else None
        if isinstance(message, dict) and "id" not in message:
            return                                      # a notification: JSON-RPC answers none
        error = JsonRpcParseError("消息正文不是 UTF-8 编码").to_response_error()
        self._send_response(ident if isinstance(ident, (int, str)) else None, error=error)

    def _procedure_handler(self, message: Any) -> None:
        # After shutdown a request still gets an answer (LSP: InvalidRequest), not silence.
        if self._shutdown and getattr(message, "method", lsp.EXIT) != lsp.EXIT and hasattr(message, "id"):
            self._send_response(message.id, error=JsonRpcInvalidRequest().to_response_error())
            return
        if not hasattr(message, "jsonrpc"):  # a JSON array or number as the body: nothing to answer
            return
        super()._procedure_handler(message)


class XzdocServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("xzdoc", __version__, protocol_cls=_Protocol)
        self.spaces: dict[Path, Workspace] = {}
        self.pending: dict[Path, asyncio.Task[None]] = {}
        self.texts: dict[str, str] = {}      # uri -> the editor's text, as LSP counts its lines

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
        return lsp.PositionEncodingKind.Utf16.value


server = XzdocServer()


def _path(uri: str) -> Path | None:
    """The file a ``file:`` URI names; None for other schemes (a git: diff view is not the file on disk)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    text = unquote(parsed.path)
    if "\0" in text:
        return None   # no file has a NUL in its name: %00 names nothing on disk
    try:
        return Path(text).resolve()
    except (OSError, RuntimeError, ValueError):
        return None   # a link loop, or a name the system refuses: nothing xzdoc can check


def _relevant(path: Path | None) -> bool:
    return path is not None and (path.name in (loader.PROJECT_FILE, cfg.CONFIG_NAME) or path.suffix == ".md")


_LENGTH = re.compile(rb"(?:^|\r\n)Content-Length: (\d+)\r\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def apply_change(text: str, change: Any) -> str:
    """``text`` after one content change: a whole new text, or a range (in UTF-16 units) replaced."""
    where = getattr(change, "range", None)
    if where is None:
        return str(change.text)
    lines = _LINE.findall(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: lsp.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        line = lines[max(position.line, 0)]
        body = line.rstrip("\r\n")
        return starts[max(position.line, 0)] + min(from_client(body, max(position.character, 0), "utf-16"), len(body))

    start, end = offset(where.start), offset(where.end)
    return text[:start] + str(change.text) + text[max(start, end):]


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
        assert path is not None
        ls.texts[params.text_document.uri] = params.text_document.text
        ls.publish(ls.space(path).edit(path, params.text_document.text))


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: XzdocServer, params: lsp.DidChangeTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if not _relevant(path):
        return
    assert path is not None
    uri = params.text_document.uri
    text = ls.texts.get(uri, "")
    for change in params.content_changes:
        text = apply_change(text, change)
    ls.texts[uri] = text
    ws = ls.space(path)
    # Noted at once (a plain handler runs before the next message), so completion and
    # quick fixes asked right after an edit see it; only the judging waits, one wait per file,
    # so an edit elsewhere never swallows this file's check.
    ws.note(path, text)
    waiting = ls.pending.pop(path, None)
    if waiting is not None:
        waiting.cancel()
    ls.pending[path] = asyncio.ensure_future(_later(ls, ws, path))


async def _later(ls: XzdocServer, ws: Workspace, path: Path) -> None:
    await asyncio.sleep(DEBOUNCE)
    ls.pending.pop(path, None)
    ls.publish(ws.refresh(path))


def _judge_now(ls: XzdocServer, ws: Workspace, path: Path) -> None:
    """Bring the findings of ``path`` up to its text before answering from them."""
    if ws.stale(path):
        waiting = ls.pending.pop(path, None)
        if waiting is not None:
            waiting.cancel()
        ls.publish(ws.refresh(path))


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: XzdocServer, params: lsp.DidCloseTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    ls.texts.pop(params.text_document.uri, None)
    if _relevant(path):
        assert path is not None
        waiting = ls.pending.pop(path, None)
        if waiting is not None:
            waiting.cancel()
        ls.publish(ls.space(path).edit(path, None))


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: XzdocServer, params: lsp.DidSaveTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if _relevant(path):
        assert path is not None
        ws = ls.space(path)
        # Other tools may have written files beside this one, or removed a project (a branch switch).
        ls.publish(ws.reload())
        ls.publish(ws.refresh(path))


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
def code_action(ls: XzdocServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    path = _path(params.text_document.uri)
    if not _relevant(path):
        return []
    assert path is not None
    ws = ls.space(path)
    _judge_now(ls, ws, path)  # a fix made from findings of older text would edit the wrong characters
    low, high = params.range.start.line, params.range.end.line
    wanted = [d for d in ws.latest.get(path, []) if low <= d.line <= high]
    lines, enc = ws.text_of(path).split("\n"), ls.encoding
    # Inserted lines end as the document's lines do: the workspace reads every file with \n alone.
    eol = "\r\n" if "\r\n" in ls.texts.get(params.text_document.uri, "") else "\n"
    out = []
    for fix in fixes.fixes(ws, path, wanted):
        edits = [lsp.TextEdit(range=_range(lines, enc, e.line, e.start, e.end_line, e.end), new_text=e.text.replace("\n", eol))
                 for e in fix.edits]
        out.append(lsp.CodeAction(title=fix.title, kind=lsp.CodeActionKind.QuickFix, is_preferred=fix.preferred or None,
                                  diagnostics=[_diagnostic(fix.fixes, lines, enc)] if fix.fixes else None,
                                  edit=lsp.WorkspaceEdit(changes={params.text_document.uri: edits})))
    return out


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[":", " ", "[", ",", "#"]))
def completion(ls: XzdocServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    path = _path(params.text_document.uri)
    if path is None:
        return lsp.CompletionList(is_incomplete=False, items=[])
    ws = ls.space(path)
    lines = ws.text_of(path).split("\n")
    row, col = params.position.line, _column(ls, lines, params.position)
    if not 0 <= row < len(lines):
        items = []
    elif path.suffix == ".md":
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
    assert path is not None
    ws = ls.space(path)
    lines = ws.text_of(path).split("\n")
    row, col = params.position.line, _column(ls, lines, params.position)
    if not 0 <= row < len(lines):
        return None
    rules = [d.rule for d in ws.diagnostics_at(path, row) if d.start <= col <= d.end]
    text = assist.hover(ws.config, lines, row, col, path.suffix != ".md", rules)
    if text is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))


# Far above any document the loader reads (2 MiB on disk, at most six bytes a character once JSON-escaped).
MAX_BODY = 64 * 2**20
_MAX_HEADER = 2**20
_OVERSIZE = b'["xzdoc: oversize"]'
_HEADER_LENGTH = re.compile(rb"Content-Length: (\d+)\r\n")


class _Bounded:
    """stdin as pygls reads it, except that no message makes the server hold more than ``MAX_BODY``.

    pygls reads the Content-Length a header claims in one piece, so "Content-Length: 99999999999"
    ran the process out of memory. An oversize body is read through and thrown away; pygls is handed
    a short stand-in that the protocol answers with an error, and the next message is read as usual.
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.header = 0
        self.skip = 0
        self.length = False      # a Content-Length line in the header block being read

    @property
    def closed(self) -> bool:
        return bool(self.raw.closed)

    def close(self) -> None:
        self.raw.close()

    def readline(self) -> bytes:
        line: bytes = self.raw.readline(_MAX_HEADER)
        self.header += len(line)
        if self.header > _MAX_HEADER:
            # No blank line within a megabyte: not LSP framing, and nothing after it can be trusted to line up.
            sys.stderr.write(f"xzdoc lsp：消息头超过 {_MAX_HEADER // 1024} KiB 仍未结束，输入流无法解读，服务退出。\n")
            return b""
        found = _HEADER_LENGTH.fullmatch(line)
        if found:
            self.length = True
        elif line.strip() == b"" and line:
            if not self.length and self.header > len(line):
                # pygls skips such a block in silence; the client's author reads the editor's log.
                sys.stderr.write("xzdoc lsp：收到一个没有 Content-Length 的消息头，已跳过（LSP 的每条消息都须有它）。\n")
            self.length, self.header = False, 0
        if found and int(found.group(1)) > MAX_BODY:
            self.skip = int(found.group(1))
            return b"Content-Length: %d\r\n" % len(_OVERSIZE)
        return line

    def read(self, size: int) -> bytes:
        self.header = 0
        if not self.skip:
            data = bytes(self.raw.read(size))
            if len(data) < size:
                _ended_early()
            return data
        left, self.skip = self.skip, 0
        while left and (chunk := self.raw.read(min(left, 2**20))):
            left -= len(chunk)
        if left:
            _ended_early()
        return _OVERSIZE if not left else b""


def _ended_early() -> None:
    sys.stderr.write("xzdoc lsp：输入流在一条消息的正文中途结束（编辑器已断开或意外退出），服务退出。\n")


def run() -> int:
    """Serve stdio until the client says exit or goes away; the process exit code LSP asks for."""
    server.start_io(stdin=_Bounded(sys.stdin.buffer))  # type: ignore[arg-type]
    # pygls exits through SystemExit, which its own loop swallows, so the code LSP asks for (0 only
    # after a shutdown request; 1 for an exit without one or a client that went away) is given here.
    return 0 if server.lsp._shutdown else 1
