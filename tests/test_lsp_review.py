"""The language server against an editor review: encodings, line breaks, bursts, stale fixes, vanished projects.

A real `xzdoc lsp` process over stdio (pytest-lsp), as in test_lsp.py. Cases marked WAS WRONG gave wrong
text or positions, WAS STALE kept findings that no longer held, WAS LOST never published, WAS A CRASH
answered with an internal error.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient, make_test_lsp_client

from tests.conftest import ROOT
from tests.test_lsp import GUARD, OTHER, PROJECT, Doc, rules, until


async def start(repo: Path, encodings: list[str] | None = None) -> tuple[LanguageClient, lsp.InitializeResult]:
    client = make_test_lsp_client()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    await client.start_io(sys.executable, "-m", "xzdoc", "lsp", env=env, cwd=str(repo))
    general = lsp.GeneralClientCapabilities(position_encodings=encodings) if encodings else None
    result = await client.initialize_session(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(general=general), root_uri=repo.as_uri()))
    return client, result


@pytest_asyncio.fixture
async def utf8_client(demo_repo: Path) -> AsyncIterator[LanguageClient]:
    client, result = await start(demo_repo, ["utf-8", "utf-32"])
    # WAS WRONG: pygls took up UTF-8 and then miscounted Chinese text; UTF-16 is what every client speaks.
    assert result.capabilities.position_encoding in (None, lsp.PositionEncodingKind.Utf16)
    yield client
    await client.shutdown_session()


@pytest_asyncio.fixture
async def client(demo_repo: Path) -> AsyncIterator[LanguageClient]:
    client, _ = await start(demo_repo)
    yield client
    await client.shutdown_session()


def change(doc: Doc, line: int, start: int, end: int, text: str) -> None:
    """An incremental edit, with the range in UTF-16 units of the editor's text."""
    lines = doc.text.split("\n")
    def offset(row: int, units: int) -> int:
        prefix, count = 0, 0
        for char in lines[row]:
            if count >= units:
                break
            count += len(char.encode("utf-16-le")) // 2
            prefix += 1
        return sum(len(x) + 1 for x in lines[:row]) + prefix
    a, b = offset(line, start), offset(line, end)
    doc.text, doc.version = doc.text[:a] + text + doc.text[b:], doc.version + 1
    doc.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version),
        content_changes=[lsp.TextDocumentContentChangeEvent_Type1(
            range=lsp.Range(start=lsp.Position(line=line, character=start), end=lsp.Position(line=line, character=end)),
            text=text)]))


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.asyncio
async def test_a_client_offering_utf8_still_gets_right_text_and_ranges(utf8_client: LanguageClient,
                                                                      demo_repo: Path) -> None:
    doc = Doc(utf8_client, demo_repo / PROJECT / "project.yaml")
    await until(utf8_client, doc.uri, lambda d: True)
    row, _ = doc.line_of("  total: 365.40")
    line = doc.text.split("\n")[row]
    change(doc, row, 0, units(line), "  total: 😀𠀀")           # astral characters, two units each
    change(doc, row, units("  total: 😀𠀀"), units("  total: 😀𠀀"), "365.40万元")
    found = await until(utf8_client, doc.uri, lambda d: "art07.schema" in rules(d))
    money = next(d for d in found if d.code == "art07.schema" and d.range.start.line == row)
    assert "😀𠀀365.40万元" in money.message                       # the server's text is the editor's
    assert money.range.start.character == units("  total: ")


@pytest.mark.asyncio
@pytest.mark.parametrize("separator", ["\u2028", "\x85", "\x0c"])
async def test_unicode_line_separators_do_not_move_later_edits(client: LanguageClient, demo_repo: Path,
                                                              separator: str) -> None:
    # WAS WRONG: pygls split lines at U+2028, \x85 and \x0c, which LSP does not, so an edit below one
    # landed a line too high.
    path = demo_repo / PROJECT / "drafts/proposal.md"
    text = path.read_text("utf-8")
    lines = text.split("\n")
    lines[2] = lines[2] + separator + "续"
    path.write_text("\n".join(lines), "utf-8")
    doc = Doc(client, path)
    await until(client, doc.uri, lambda d: True)
    target = next(i for i, x in enumerate(doc.text.split("\n")) if i > 4 and x and not x.startswith(("#", ">")))
    change(doc, target, 0, 0, "总投资120万元。")
    found = await until(client, doc.uri, lambda d: "art07.prose-amounts" in rules(d))
    assert [d.range.start.line for d in found if d.code == "art07.prose-amounts"] == [target]


@pytest.mark.asyncio
async def test_a_config_error_is_not_swallowed_by_an_edit_elsewhere(client: LanguageClient, demo_repo: Path) -> None:
    # WAS LOST: one pending check per repository, so a second edit within the debounce cancelled the first.
    config = Doc(client, demo_repo / "xzdoc.yaml")
    project = Doc(client, demo_repo / PROJECT / "project.yaml")
    await until(client, project.uri, lambda d: True)
    config.replace("organisation:", "organisation：")
    project.replace("  total: 365.40", "  total: 365.40 ")
    found = await until(client, config.uri, lambda d: "config" in rules(d))
    assert "全角冒号" in found[0].message


@pytest.mark.asyncio
async def test_a_quick_fix_asked_before_the_new_findings_arrive_is_made_from_the_current_text(
        client: LanguageClient, demo_repo: Path) -> None:
    # WAS STALE: the fix took the range of the last check, so typing "1" first gave "12040.00元"-style edits.
    doc = Doc(client, demo_repo / PROJECT / "project.yaml")
    await until(client, doc.uri, lambda d: True)
    doc.replace("  total: 365.40", "  total: 365.40万元")
    found = await until(client, doc.uri, lambda d: "art07.schema" in rules(d))
    money = next(d for d in found if d.code == "art07.schema")
    row, col = doc.line_of("365.40万元")
    change(doc, row, col, col, "1")                               # then, at once, ask for the fix
    actions = [a for a in await doc.actions(money) if "365.40" in a.title]
    assert actions and "1365.40" in actions[0].title
    doc.apply(actions[0])
    assert "  total: 1365.40\n" in doc.text


@pytest.mark.asyncio
async def test_completion_and_hover_past_the_end_answer_nothing(client: LanguageClient, demo_repo: Path) -> None:
    # WAS A CRASH: an IndexError came back as an internal error with a traceback.
    doc = Doc(client, demo_repo / PROJECT / "project.yaml")
    await until(client, doc.uri, lambda d: True)
    where = lsp.Position(line=100000, character=3)
    got = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=doc.uri), position=where))
    assert got is not None and not (got.items if isinstance(got, lsp.CompletionList) else got)
    assert await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=doc.uri), position=where)) is None


@pytest.mark.asyncio
async def test_a_deleted_project_loses_its_findings_at_the_next_save(client: LanguageClient, demo_repo: Path) -> None:
    # WAS STALE: a copy removed on disk (a branch switch) kept the duplicate-id errors until restart.
    copy = demo_repo / "projects/XZJT-2026-003-copy"
    shutil.copytree(demo_repo / PROJECT, copy)
    doc = Doc(client, demo_repo / PROJECT / "project.yaml")
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=doc.uri)))
    await until(client, doc.uri, lambda d: "art08.unique-ids" in rules(d))
    shutil.rmtree(copy)
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=doc.uri)))
    await until(client, doc.uri, lambda d: "art08.unique-ids" not in rules(d))


@pytest.mark.asyncio
async def test_a_project_file_opened_from_outside_projects_is_no_duplicate_of_the_real_one(
        client: LanguageClient, demo_repo: Path) -> None:
    # WAS WRONG: opening archive/X/project.yaml added it to the portfolio, and the real project showed
    # duplicate ids that validate does not report, even after closing it.
    archive = demo_repo / "archive/XZJT-2026-003"
    shutil.copytree(demo_repo / PROJECT, archive)
    real = Doc(client, demo_repo / PROJECT / "project.yaml")
    assert await until(client, real.uri, lambda d: True) == []
    copy = Doc(client, archive / "project.yaml")
    await until(client, copy.uri, lambda d: True)
    real.replace("  total: 365.40", "  total: 365.40 ")
    await asyncio.sleep(0.3)
    assert "art08.unique-ids" not in rules(await until(client, real.uri, lambda d: True))


@pytest.mark.asyncio
async def test_a_nul_in_an_unsaved_buffer_is_named_as_validate_names_it(client: LanguageClient,
                                                                       demo_repo: Path) -> None:
    # WAS WRONG: PyYAML's English "unacceptable character #x0000" at 0:0.
    doc = Doc(client, demo_repo / OTHER / "project.yaml")
    await until(client, doc.uri, lambda d: True)
    lines = doc.text.split("\n")
    lines[3] = lines[3] + "\x00"
    doc.set("\n".join(lines))
    found = await until(client, doc.uri, lambda d: "art07.readable" in rules(d))
    assert found[0].range.start.line == 3 and "空字符（NUL）" in found[0].message


@pytest.mark.asyncio
async def test_a_misspelt_chapter_heading_is_reported_on_its_own_line(client: LanguageClient, demo_repo: Path) -> None:
    # WAS MISPLACED: the missing chapter was shown on the next heading, while its rename fix edited this one.
    doc = Doc(client, demo_repo / PROJECT / "drafts/proposal.md")
    await until(client, doc.uri, lambda d: True)
    doc.replace("# 二、建设单位概况", "# 二、建设单为概况")
    found = await until(client, doc.uri, lambda d: "art07.outline" in rules(d))
    row, _ = doc.line_of("# 二、建设单为概况")
    (outline,) = [d for d in found if d.code == "art07.outline"]
    assert outline.range.start.line == row and "建设单为概况" in outline.message
    rename = next(a for a in await doc.actions(outline) if a.title.startswith("把标题"))
    doc.apply(rename)
    await until(client, doc.uri, lambda d: "art07.outline" not in rules(d))


@pytest.mark.asyncio
async def test_an_inserted_chapter_keeps_the_documents_line_ends(client: LanguageClient, demo_repo: Path) -> None:
    path = demo_repo / PROJECT / "drafts/proposal.md"
    text = path.read_text("utf-8")
    start = text.index("# 二、建设单位概况")
    path.write_bytes((text[:start] + text[text.index("\n# 三、", start) + 1:]).replace("\n", "\r\n").encode("utf-8"))
    doc = Doc(client, path)
    assert "\r\n" not in doc.text                 # read_text turned them into \n: send the file as it is
    doc.set(path.read_bytes().decode("utf-8"))
    found = await until(client, doc.uri, lambda d: "art07.outline" in rules(d))
    insert = next(a for a in await doc.actions(next(d for d in found if d.code == "art07.outline"))
                  if a.title.startswith("插入"))
    assert insert.edit and insert.edit.changes
    (edit,) = insert.edit.changes[doc.uri]
    assert "\r\n" in edit.new_text and "\n" not in edit.new_text.replace("\r\n", "")


@pytest.mark.asyncio
async def test_a_document_under_another_scheme_leaves_the_file_alone(client: LanguageClient, demo_repo: Path) -> None:
    # WAS WRONG: a git: view of HEAD was taken for the file, cleared its findings and dropped unsaved text.
    doc = Doc(client, demo_repo / PROJECT / "project.yaml")
    await until(client, doc.uri, lambda d: True)
    doc.replace("  total: 365.40", "  total: 365.40万元")
    await until(client, doc.uri, lambda d: "art07.schema" in rules(d))
    view = doc.uri.replace("file://", "git://", 1)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=view, language_id="yaml", version=1, text=(demo_repo / PROJECT / "project.yaml").read_text("utf-8"))))
    await asyncio.wait_for(asyncio.sleep(0.5), GUARD)
    assert "art07.schema" in rules(client.diagnostics[doc.uri])     # not replaced by the clean HEAD text
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=view)))
    await asyncio.wait_for(asyncio.sleep(0.5), GUARD)
    assert "art07.schema" in rules(client.diagnostics[doc.uri])     # the unsaved text still counts


def _frame(body: bytes, header: bytes | None = None) -> bytes:
    return (header if header is not None else b"Content-Length: %d\r\n\r\n" % len(body)) + body


def _by_id(out: bytes) -> dict[int, dict[str, object]]:
    """The server's answers to requests in a captured stdout, by request id."""
    return {int(b["id"]): b for b in _answers(out) if "id" in b and "method" not in b}  # type: ignore[call-overload]


def test_malformed_messages_get_answers_and_leave_the_server_listening(demo_repo: Path) -> None:
    # WAS SILENT: unreadable requests got no answer (the editor waits for ever); a header without
    # Content-Length or a JSON array body made pygls wait on it and hear nothing more; a request
    # after shutdown was never answered.
    import json
    import subprocess

    uri = (demo_repo / PROJECT / "project.yaml").resolve().as_uri()
    def message(**fields: object) -> bytes:
        return _frame(json.dumps({"jsonrpc": "2.0", **fields}).encode())
    hover = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}
    stream = b"".join([
        message(id=1, method="initialize", params={"capabilities": {}, "rootUri": demo_repo.as_uri()}),
        message(method="initialized", params={}),
        message(id=2, method="textDocument/hover", params={**hover, "position": {"line": -1, "character": 0}}),
        message(id=3, method="textDocument/completion"),
        _frame(b"", b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"),
        _frame(json.dumps([{"jsonrpc": "2.0", "id": 4, "method": "shutdown"}]).encode()),
        message(id=5, method="textDocument/hover", params=hover),
        message(id=6, method="shutdown"),
        message(id=7, method="textDocument/hover", params=hover),
        message(method="exit"),
    ])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "xzdoc", "lsp"], input=stream, capture_output=True, cwd=demo_repo,
                          env=env, timeout=GUARD)
    answers = _by_id(done.stdout)
    assert answers[2]["error"]["code"] == -32602 and answers[3]["error"]["code"] == -32602  # type: ignore[index]
    assert 4 not in answers and "result" in answers[5] and "result" in answers[6]
    assert answers[7]["error"]["code"] == -32600                                             # type: ignore[index]


def test_completion_inside_a_flow_list_offers_its_values() -> None:
    # WAS WRONG: after "categories: [应用系统, " (space is a trigger character) the top-level keys were offered.
    from xzdoc import config
    from xzdoc.authoring.lsp import assist

    loaded = config.load(ROOT)
    line = "categories: [应用系统, "
    labels = [i.label for i in assist.complete_yaml(loaded, [line], 0, len(line))]
    assert "信息资源" in labels and "categories" not in labels


def _answers(out: bytes) -> list[dict[str, object]]:
    import json

    found = []
    while out:
        head, _, rest = out.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        found.append(json.loads(rest[:length]))
        out = rest[length:]
    return found


def _serve(repo: Path, stream: bytes) -> tuple[int, list[dict[str, object]], bytes]:
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "xzdoc", "lsp"], input=stream, capture_output=True, cwd=repo,
                          env=env, timeout=GUARD)
    return done.returncode, _answers(done.stdout), done.stderr


def test_a_body_that_is_not_utf8_is_answered_and_the_next_message_read(demo_repo: Path) -> None:
    # WAS SILENT: pygls raised UnicodeDecodeError inside its reader, logged a traceback and never answered.
    import json

    uri = (demo_repo / PROJECT / "project.yaml").resolve().as_uri()
    def message(**fields: object) -> bytes:
        return _frame(json.dumps({"jsonrpc": "2.0", **fields}).encode())
    hover = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}
    bad_request = b'{"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {"x": "\xff\xfe"}}'
    bad_note = b'{"jsonrpc": "2.0", "method": "textDocument/didSave", "params": {"x": "\xc3"}}'
    stream = b"".join([
        message(id=1, method="initialize", params={"capabilities": {}, "rootUri": demo_repo.as_uri()}),
        message(method="initialized", params={}),
        _frame(bad_request), _frame(bad_note), _frame(b'{"id": \xff'),
        message(id=4, method="textDocument/hover", params=hover),
        message(id=5, method="shutdown"), message(method="exit"),
    ])
    code, answers, stderr = _serve(demo_repo, stream)
    by_id = {a.get("id"): a for a in answers if "method" not in a}
    assert by_id[3]["error"]["code"] == -32700                          # type: ignore[index]
    assert by_id[None]["error"]["code"] == -32700                       # type: ignore[index]  unreadable id
    assert "result" in by_id[4] and "result" in by_id[5]
    assert len([a for a in answers if "method" not in a]) == 5          # nothing for the notification
    assert b"Traceback" not in stderr and code == 0


def test_exit_code_follows_lsp_exit_after_shutdown_only(demo_repo: Path) -> None:
    # WAS WRONG: pygls's sys.exit(1) for an exit without shutdown was swallowed by its own loop, so 0.
    import json

    def message(**fields: object) -> bytes:
        return _frame(json.dumps({"jsonrpc": "2.0", **fields}).encode())
    start = message(id=1, method="initialize", params={"capabilities": {}, "rootUri": demo_repo.as_uri()})
    assert _serve(demo_repo, start + message(method="exit"))[0] == 1
    assert _serve(demo_repo, start)[0] == 1                            # the client went away
    assert _serve(demo_repo, start + message(id=2, method="shutdown") + message(method="exit"))[0] == 0


def test_a_body_longer_than_the_cap_is_read_through_and_answered(demo_repo: Path) -> None:
    # WAS A CRASH: pygls read the Content-Length a header claimed in one piece, so a huge claim ended the
    # server with MemoryError (exit 3) and the editor lost its diagnostics.
    import json

    from xzdoc.authoring.lsp.server import MAX_BODY

    uri = (demo_repo / PROJECT / "project.yaml").resolve().as_uri()
    def message(**fields: object) -> bytes:
        return _frame(json.dumps({"jsonrpc": "2.0", **fields}).encode())
    hover = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}
    start = message(id=1, method="initialize", params={"capabilities": {}, "rootUri": demo_repo.as_uri()})
    oversize = b'{"jsonrpc": "2.0", "id": 2, "method": "x", "params": "' + b"a" * (MAX_BODY + 1) + b'"}'
    stream = b"".join([start, message(method="initialized", params={}), _frame(oversize),
                       message(id=3, method="textDocument/hover", params=hover),
                       message(id=4, method="shutdown"), message(method="exit")])
    code, answers, stderr = _serve(demo_repo, stream)
    by_id = {a.get("id"): a for a in answers if "method" not in a}
    assert by_id[None]["error"]["code"] == -32600 and "MiB" in by_id[None]["error"]["message"]  # type: ignore[index]
    assert "result" in by_id[3] and "result" in by_id[4] and code == 0, stderr

    # A claim far past what arrives: the server reads to the end of input and goes, as for a client that left.
    code, answers, stderr = _serve(demo_repo, start + b"Content-Length: 99999999999\r\n\r\n{}")
    assert code == 1 and b"Traceback" not in stderr and b"MemoryError" not in stderr


def test_a_header_that_never_ends_stops_the_server_with_a_message(demo_repo: Path) -> None:
    code, _, stderr = _serve(demo_repo, b"Content-Length: 10\r\n" + b"X" * (3 * 2**20))
    assert code == 1 and "消息头超过" in stderr.decode() and b"Traceback" not in stderr


def test_a_broken_stream_is_answered_or_told_never_a_traceback(demo_repo: Path) -> None:
    # WAS SILENT OR NOISY: a body that was not JSON printed pygls's traceback and sent the editor an English
    # "Unexpected error"; a JSON array got no answer; a header block without Content-Length and input that
    # ended mid-body stopped the server with nothing said.
    import json

    def message(**fields: object) -> bytes:
        return _frame(json.dumps({"jsonrpc": "2.0", **fields}).encode())
    start = message(id=1, method="initialize", params={"capabilities": {}, "rootUri": demo_repo.as_uri()})
    end = message(id=9, method="shutdown") + message(method="exit")
    code, answers, stderr = _serve(demo_repo, start + _frame(b"{oops") + _frame(b"[1, 2]") + end)
    errors = [a["error"] for a in answers if "error" in a]
    assert [e["code"] for e in errors] == [-32700, -32600], answers      # type: ignore[index]
    assert "不是有效的 JSON" in errors[0]["message"] and "不是 JSON 对象" in errors[1]["message"]  # type: ignore[index]
    assert not [a for a in answers if a.get("method") == "window/showMessage"], answers
    assert any(a.get("id") == 9 and "result" in a for a in answers) and code == 0
    assert b"Traceback" not in stderr, stderr

    code, answers, stderr = _serve(demo_repo, start + b"X-Note: nothing\r\n\r\n" + end)
    assert "没有 Content-Length" in stderr.decode() and code == 0, stderr
    code, answers, stderr = _serve(demo_repo, start + b'Content-Length: 100\r\n\r\n{"jsonrpc"')
    assert code == 1 and "正文中途结束" in stderr.decode() and b"Traceback" not in stderr


def test_a_uri_with_a_nul_byte_is_no_traceback(demo_repo: Path) -> None:
    # WAS A TRACEBACK: a file: URI with %00 reached Path.resolve(), whose ValueError went to stderr and back
    # to the editor inside the hover's error.
    import json
    import subprocess

    uri = (demo_repo / PROJECT / "drafts").resolve().as_uri() + "/%00.md"
    def message(**fields: object) -> bytes:
        return _frame(json.dumps({"jsonrpc": "2.0", **fields}).encode())
    stream = b"".join([
        message(id=1, method="initialize", params={"capabilities": {}, "rootUri": demo_repo.as_uri()}),
        message(method="initialized", params={}),
        message(method="textDocument/didOpen", params={"textDocument": {"uri": uri, "languageId": "markdown",
                                                                        "version": 1, "text": "# 一\n"}}),
        message(id=2, method="textDocument/hover", params={"textDocument": {"uri": uri},
                                                           "position": {"line": 0, "character": 0}}),
        message(id=3, method="shutdown"),
        message(method="exit"),
    ])
    done = subprocess.run([sys.executable, "-m", "xzdoc", "lsp"], input=stream, capture_output=True, cwd=demo_repo,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=GUARD)
    assert b"Traceback" not in done.stderr and b"null byte" not in done.stdout, done.stderr.decode("utf-8", "replace")
    answers = _by_id(done.stdout)
    assert answers[2] == {"id": 2, "jsonrpc": "2.0", "result": None}, answers
    assert done.returncode == 0
