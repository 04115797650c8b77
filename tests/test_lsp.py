"""The language server, driven as an editor drives it: a real `xzdoc lsp` process over stdio (pytest-lsp)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient, make_test_lsp_client

from tests.conftest import ROOT

PROJECT = "projects/XZJT-2026-003"
OTHER = "projects/XZJT-2026-001"
GUARD = 60  # seconds: only a hung server gets this far


@pytest_asyncio.fixture
async def client(demo_repo: Path) -> AsyncIterator[LanguageClient]:
    client = make_test_lsp_client()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    await client.start_io(sys.executable, "-m", "xzdoc", "lsp", env=env, cwd=str(demo_repo))
    await client.initialize_session(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(),
                                                         root_uri=demo_repo.as_uri()))
    yield client
    await client.shutdown_session()


class Doc:
    """One open document: its text as the editor holds it, sent as full-text changes."""

    def __init__(self, client: LanguageClient, path: Path) -> None:
        self.client, self.path, self.uri = client, path, path.resolve().as_uri()
        self.text = path.read_text("utf-8")
        self.version = 1
        kind = "markdown" if path.suffix == ".md" else "yaml"
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=self.uri, language_id=kind, version=1, text=self.text)))

    def replace(self, old: str, new: str) -> None:
        assert old in self.text, old
        self.set(self.text.replace(old, new, 1))

    def set(self, text: str) -> None:
        self.text, self.version = text, self.version + 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[lsp.TextDocumentContentChangeEvent_Type2(text=text)]))

    def apply(self, action: lsp.CodeAction) -> None:
        assert action.edit and action.edit.changes
        lines = self.text.split("\n")
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line) + 1)
        text = self.text
        for edit in sorted(action.edit.changes[self.uri], key=lambda e: (e.range.start.line, e.range.start.character),
                           reverse=True):
            start = offsets[edit.range.start.line] + edit.range.start.character
            end = offsets[edit.range.end.line] + edit.range.end.character
            text = text[:start] + edit.new_text + text[end:]
        self.set(text)

    def line_of(self, needle: str) -> tuple[int, int]:
        for number, line in enumerate(self.text.split("\n")):
            if needle in line:
                return number, line.index(needle)
        raise AssertionError(needle)

    async def actions(self, diagnostic: lsp.Diagnostic) -> list[lsp.CodeAction]:
        got = await self.client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=self.uri), range=diagnostic.range,
            context=lsp.CodeActionContext(diagnostics=[diagnostic])))
        return [a for a in got or [] if isinstance(a, lsp.CodeAction)]


async def until(client: LanguageClient, uri: str, test: Callable[[list[lsp.Diagnostic]], bool]) -> list[lsp.Diagnostic]:
    async def wait() -> list[lsp.Diagnostic]:
        while not (uri in client.diagnostics and test(client.diagnostics[uri])):
            await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return client.diagnostics[uri]
    return await asyncio.wait_for(wait(), GUARD)


def rules(found: list[lsp.Diagnostic]) -> set[str]:
    return {str(d.code) for d in found}


@pytest.mark.asyncio
async def test_edits_break_and_fix_rules_with_quick_fixes(client: LanguageClient, demo_repo: Path) -> None:
    doc = Doc(client, demo_repo / PROJECT / "project.yaml")
    assert await until(client, doc.uri, lambda d: True) == []

    doc.replace("  total: 365.40", "  total: 365.40万元")
    found = await until(client, doc.uri, lambda d: "art07.schema" in rules(d))
    line, col = doc.line_of("365.40万元")
    money = next(d for d in found if d.code == "art07.schema")
    assert (money.range.start.line, money.range.start.character, money.range.end.character) == (line, col, col + 8)
    assert "不要带单位" in money.message and "第七条" in money.message
    assert money.severity == lsp.DiagnosticSeverity.Error
    # A wrong total also breaks the budget sums; the rewrite fixes all of it.
    fix = next(a for a in await doc.actions(money) if "365.40" in a.title)
    doc.apply(fix)
    assert "total: 365.40\n" in doc.text
    await until(client, doc.uri, lambda d: d == [])

    doc.replace("proposer: ", "proposer：")
    found = await until(client, doc.uri, lambda d: bool(d))
    line, col = doc.line_of("：忻州")
    assert [(d.range.start.line, d.range.start.character, d.range.end.character) for d in found] == [(line, col, col + 1)]
    assert "把全角冒号“：”改为半角“:”" in found[0].message
    doc.apply((await doc.actions(found[0]))[0])
    assert "proposer: 忻州" in doc.text
    await until(client, doc.uri, lambda d: d == [])

    doc.replace("2027: 365.40", "2027: ３６５．４０")
    found = await until(client, doc.uri, lambda d: "art07.schema" in rules(d))
    doc.apply(next(a for a in await doc.actions(found[0]) if a.is_preferred))
    assert "2027: 365.40" in doc.text
    await until(client, doc.uri, lambda d: d == [])

    doc.replace("categories: [应用系统, 信息资源]", "categories: [应用系统，信息资源]")
    found = await until(client, doc.uri, lambda d: "art03.categories" in rules(d))
    assert found[0].range.start.character == doc.line_of("，")[1]
    doc.apply((await doc.actions(found[0]))[0])
    await until(client, doc.uri, lambda d: d == [])


@pytest.mark.asyncio
async def test_draft_missing_chapter_and_cross_project_duplicate(client: LanguageClient, demo_repo: Path) -> None:
    project = Doc(client, demo_repo / PROJECT / "project.yaml")
    draft = Doc(client, demo_repo / PROJECT / "drafts/proposal.md")
    await until(client, draft.uri, lambda d: True)
    draft.replace("# 七、招标方案", "# 七、招标")
    found = await until(client, draft.uri, lambda d: "art07.outline" in rules(d))
    missing = next(d for d in found if "缺少章节" in d.message)
    assert missing.severity == lsp.DiagnosticSeverity.Warning  # a draft-stage project: work in progress
    # On the heading that reads like it, where its rename fix applies.
    assert missing.range.start.line == draft.line_of("# 七、招标")[0]
    actions = await draft.actions(missing)
    rename = next(a for a in actions if a.is_preferred)
    assert "改为" in rename.title
    draft.apply(rename)
    await until(client, draft.uri, lambda d: "art07.outline" not in rules(d))

    # A missing chapter caused by an edit of project.yaml (the stage) shows in the draft, not in project.yaml.
    other = demo_repo / OTHER / "project.yaml"
    project.replace("id: XZJT-2026-003", "id: XZJT-2026-001")
    mine = await until(client, project.uri, lambda d: "art08.unique-ids" in rules(d))
    assert mine[0].range.start.line == project.line_of("id: XZJT")[0]
    theirs = await until(client, other.resolve().as_uri(), lambda d: "art08.unique-ids" in rules(d))
    assert "projects/XZJT-2026-003" in theirs[0].message
    project.replace("id: XZJT-2026-001", "id: XZJT-2026-003")
    await until(client, other.resolve().as_uri(), lambda d: "art08.unique-ids" not in rules(d))
    await until(client, project.uri, lambda d: d == [])


@pytest.mark.asyncio
async def test_missing_chapter_inserted_and_shown_from_a_stage_change(client: LanguageClient, demo_repo: Path) -> None:
    draft_path = demo_repo / PROJECT / "drafts/proposal.md"
    lines = draft_path.read_text("utf-8").split("\n")
    first = lines.index("# 七、招标方案")
    end = lines.index("# 八、组织机构和人员培训")
    draft_path.write_text("\n".join(lines[:first] + lines[end:]), "utf-8")   # the chapter removed on disk
    project = Doc(client, demo_repo / PROJECT / "project.yaml")
    draft_uri = draft_path.resolve().as_uri()
    found = await until(client, draft_uri, lambda d: "art07.outline" in rules(d))
    assert all(d.severity == lsp.DiagnosticSeverity.Warning for d in found if d.code == "art07.outline")
    project.replace("stage: draft", "stage: submitted")
    found = await until(client, draft_uri, lambda d: any(x.code == "art07.outline" and
                                                           x.severity == lsp.DiagnosticSeverity.Error for x in d))
    draft = Doc(client, draft_path)
    missing = next(d for d in found if "缺少章节" in d.message)
    insert = next(a for a in await draft.actions(missing) if "插入" in a.title)
    draft.apply(insert)
    at = draft.text.index("# 七、招标方案\n")
    assert draft.text.index("# 六、本期项目建设方案") < at < draft.text.index("# 八、组织机构和人员培训")
    await until(client, draft_uri, lambda d: not any("缺少章节" in x.message for x in d))


@pytest.mark.asyncio
async def test_completion_hover_and_modeline(client: LanguageClient, demo_repo: Path) -> None:
    doc = Doc(client, demo_repo / PROJECT / "project.yaml")
    await until(client, doc.uri, lambda d: True)
    line, col = doc.line_of("type: ")

    async def labels(row: int, char: int) -> list[str]:
        got = await client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=doc.uri), position=lsp.Position(line=row, character=char)))
        items = got.items if isinstance(got, lsp.CompletionList) else got or []
        return [i.label for i in items]

    assert await labels(line, col + len("type: ")) == ["新建", "扩建", "改造升级", "运行维护"]
    doc.replace("  total: 365.40\n", "  total: 365.40\n  \n")
    assert await labels(doc.line_of("total: 365.40")[0] + 1, 2) == []   # budget already has all three keys
    doc.replace("  total: 365.40\n  \n", "  total: 365.40\n")
    doc.replace("planned: true\n", "planned: true\nlea\n")
    keys = await labels(doc.line_of("lea")[0], 3)
    assert "lead_department" in keys and "partners" in keys and "budget" not in keys
    doc.replace("planned: true\nlea\n", "planned: true\n")

    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=doc.uri), position=lsp.Position(line=line, character=1)))
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "项目类型" in hover.contents.value and "本办法所称政务信息化项目" in hover.contents.value  # 第三条's text

    doc.set(doc.text.split("\n", 1)[1])   # drop the modeline
    await until(client, doc.uri, lambda d: True)
    got = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=doc.uri), range=lsp.Range(start=lsp.Position(line=0, character=0),
                                                                                 end=lsp.Position(line=0, character=0)),
        context=lsp.CodeActionContext(diagnostics=[])))
    modeline = next(a for a in got or [] if isinstance(a, lsp.CodeAction) and "yaml-language-server" in a.title)
    doc.apply(modeline)
    assert doc.text.startswith("# yaml-language-server: $schema=../../.vscode/xzdoc.schema.json\n")


def test_workspace_reports_xzdoc_yaml_and_forgets_fixed_errors(demo_repo: Path) -> None:
    """The server's core without the protocol: xzdoc.yaml problems land on their key, and clear when fixed."""
    from xzdoc.authoring.lsp.workspace import Workspace

    ws = Workspace(demo_repo)
    config = (demo_repo / "xzdoc.yaml").resolve()
    text = config.read_text("utf-8")
    found = ws.edit(config, text.replace("organisation:", "organization:"))[config]
    line = text.split("\n").index(next(x for x in text.split("\n") if x.startswith("organisation:")))
    assert [(d.line, d.start, d.rule) for d in found] == [(line, 0, "config")]
    assert "你是不是想写“organisation”" in found[0].message
    assert ws.edit(config, text)[config] == []


def test_workspace_for_a_project_outside_any_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from xzdoc.authoring.lsp.workspace import Workspace

    folder = tmp_path / "alone" / "P"
    shutil.copytree(ROOT / PROJECT, folder)
    monkeypatch.chdir(tmp_path)   # the server's working directory is not the project
    yaml = (folder / "project.yaml").resolve()
    ws = Workspace(folder)
    text = yaml.read_text("utf-8")
    found = ws.edit(yaml, text.replace("  total: 365.40", "  total: 365.40万元"))
    row = text.split("\n").index("  total: 365.40")
    assert [(d.line, d.start, d.end, d.rule) for d in found[yaml]] == [(row, 9, 17, "art07.schema")]
    assert set(found) == {yaml, (folder / "drafts/proposal.md").resolve()}


@pytest.mark.asyncio
async def test_columns_are_sent_in_utf16_units(client: LanguageClient, demo_repo: Path) -> None:
    # Two characters outside the Basic Multilingual Plane before the finding: each is two UTF-16 units.
    doc = Doc(client, demo_repo / PROJECT / "drafts" / "proposal.md")
    doc.set(doc.text + "\n𠀀😀联系电话：13912345678。\n")
    found = await until(client, doc.uri, lambda d: "art31.personal-info" in rules(d))
    line, col = doc.line_of("13912345678")
    hit = next(d for d in found if d.code == "art31.personal-info")
    assert (hit.range.start.line, hit.range.start.character) == (line, col + 2)


def test_position_units_each_way() -> None:
    from xzdoc.authoring.lsp.server import from_client, to_client, units

    line = "𠀀名：x"
    assert [units(line, e) for e in ("utf-8", "utf-16", "utf-32")] == [4 + 3 + 3 + 1, 2 + 1 + 1 + 1, 4]
    assert [to_client(line, 2, e) for e in ("utf-8", "utf-16", "utf-32")] == [7, 3, 2]
    assert [from_client(line, n, "utf-16") for n in (0, 1, 2, 3, 5, 9)] == [0, 1, 1, 2, 4, 8]
    assert from_client(line, 7, "utf-8") == 2 and to_client(line, 6, "utf-16") == 7


def test_a_commit_made_while_editing_is_judged_after_the_next_save(repo) -> None:  # type: ignore[no-untyped-def]
    """The ledger is kept between keystrokes, but a save re-reads it: a direct push shows up then."""
    from tests.attacks import FOLDER, PID, stage
    from xzdoc.authoring.lsp.workspace import Workspace

    ws = Workspace(repo.path)
    yaml_path = (repo.path / FOLDER / "project.yaml").resolve()
    assert not [d for d in ws.refresh(yaml_path)[yaml_path] if d.rule.startswith("art24")]
    stage(PID, "submitted")(repo)   # straight onto main, no party-group merge
    repo.commit("直接改为已申报")
    ws.reload()
    assert "art24.unapproved-stage-change" in {d.rule for d in ws.refresh(yaml_path)[yaml_path]}
