"""Render a project's documents, and bundle them: one reproducible zip per project and stage.

``dist/<id>/<id>-<stage>.zip`` holds the PDF and DOCX of every document, the
投资概算 workbook, the approval-record page and manifest.json. The zip is
written to a temp file beside it and renamed into place, so a failed or
interrupted run leaves the previous bundle as it was. A hash of every input
(project files, effective templates, config, fonts, toolkit version,
approval records) is kept beside the zip; an unchanged project is skipped.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xzdoc import __version__
from xzdoc.config import CONFIG_NAME, Config
from xzdoc.errors import XzdocError
from xzdoc.model import ERROR, Project
from xzdoc.render import briefing, cache, context, document, pandoc, pdf, refdoc, safety, stagedocs, templates, xlsx
from xzdoc.render import docx as docx_writer
from xzdoc.render import records as records_page
from xzdoc.render.document import Document
from xzdoc.render.reproducible import Stamp, stamp, write_zip
from xzdoc.source import loader
from xzdoc.source.fsio import sweep_stale, write_atomic

FORMATS = ("docx", "pdf", "xlsx")
ESTIMATE_BOOK = "投资概算表.xlsx"
APPROVAL_PAGE = f"{document.APPROVAL}.pdf"
MANIFEST = "manifest.json"
SKIPPED = "未变化，跳过"


@dataclass(frozen=True)
class Output:
    name: str
    data: bytes


@dataclass(frozen=True)
class Result:
    project: str
    path: Path
    skipped: bool = False
    files: tuple[str, ...] = ()


@dataclass
class Builder:
    """One run's shared work: fonts, reference.docx, template hashes and git HEAD are looked up once."""

    config: Config
    jobs: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    documents: cache.DocumentCache | None = None  # rendered documents reused across runs
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __enter__(self) -> Builder:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # -- run-wide lookups -------------------------------------------------

    @functools.cached_property
    def workdir(self) -> Path:
        return Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="xzdoc-")))

    @functools.cached_property
    def reference(self) -> Path:
        try:
            return templates.template_file(self.config, "reference.docx")
        except FileNotFoundError:
            path = self.workdir / "reference.docx"
            path.write_bytes(refdoc.build(self.config.fonts))
            return path

    @functools.cached_property
    def page_template(self) -> Path:
        return templates.template_file(self.config, "typst/page.typ")

    @functools.cached_property
    def fonts(self) -> dict[str, list[str]]:
        return pdf.resolve_fonts(self.config.fonts)

    @functools.cached_property
    def template_sources(self) -> list[tuple[str, str]]:
        """Effective template files (first in the loader chain wins), labelled by origin."""
        seen: dict[str, tuple[str, str]] = {}
        for i, folder in enumerate(templates.search_path(self.config)):
            label = "templates" if i == 0 and folder == self.config.root / "templates" else "xzdoc:templates"
            for file in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                rel = file.relative_to(folder).as_posix()
                if rel not in seen:
                    seen[rel] = (f"{label}/{rel}", _sha(file.read_bytes()))
        return sorted(seen.values())

    @functools.cached_property
    def config_source(self) -> list[tuple[str, str]]:
        file = self.config.root / CONFIG_NAME
        return [(CONFIG_NAME, _sha(file.read_bytes()))] if file.is_file() else []

    # -- one project ------------------------------------------------------

    def sources(self, project: Project) -> list[tuple[str, str]]:
        return [(self._shown(f), _sha(f.read_bytes())) for f in project_files(project.folder)]

    def inputs_hash(self, project: Project, records: Sequence[Mapping[str, str]]) -> str:
        key = {
            "toolkit": __version__,
            "fonts": {k: list(v) for k, v in sorted(self.config.fonts.items())},
            "sources": self.sources(project),
            "templates": self.template_sources,
            "config": self.config_source,
            "approvals": list(records),
        }
        return _sha(json.dumps(key, ensure_ascii=False, sort_keys=True).encode("utf-8"))

    @functools.cached_property
    def portfolio(self) -> list[Project]:
        """Every project of the repository, loaded once per run for the 党组决策简报's bureau totals."""
        return loader.load_projects(self.config)

    @functools.cached_property
    def approvals(self) -> Approvals:
        return Approvals(self.config, self.head is not None)

    @functools.cached_property
    def head(self) -> Any:
        from xzdoc.history import gitlog

        return gitlog.head(self.config.root)

    def stamp(self, project: Project) -> Stamp:
        return stamp(self.head, project_files(project.folder))

    def outputs(self, project: Project, formats: Iterable[str], the_stamp: Stamp,
                records: Sequence[Mapping[str, str]] | None = None, history: Sequence[Any] | None = None,
                brief: Mapping[str, Any] | None = None, filed: bool = True) -> list[Output]:
        """Every file of the project's documents; with ``records``, also the approval page.

        With ``history`` (the ledger's records) application documents past the 批复 come from the approving
        merge's tree; ``brief`` holds the facts of the 党组决策简报 to add.
        """
        formats = tuple(formats)
        ctx = context.build(self.config, project, the_stamp)
        page = stagedocs.render_brief(self.config, ctx, brief) if brief is not None else None
        jobs: list[Callable[[], list[Output]]] = [
            functools.partial(self._convert, j.project, j.doc, formats, j.stamp)
            for j in stagedocs.plan(self.config, project, ctx, history, self.workdir, page, filed)]
        if records is not None and "pdf" in formats:
            page = document.approval_document(self.config, ctx, records)
            jobs.append(functools.partial(self._convert, project, page, ("pdf",), the_stamp))
        if "xlsx" in formats and ctx.estimate:
            jobs.append(lambda: [Output(ESTIMATE_BOOK, xlsx.estimate_workbook(ctx, self.config.fonts["body"][0]))])
        # Looked up before the threads start: a missing CJK font stops the run before any work.
        if "pdf" in formats:
            _ = self.fonts, self.page_template
        if "docx" in formats:
            _ = self.reference
        return [out for outs in _parallel(jobs, self.jobs) for out in outs]

    @functools.cached_property
    def run_key(self) -> dict[str, Any]:
        """What every document of the run depends on besides its own text: part of each cache key."""
        from xzdoc.rules.cache import code_fingerprint

        # The toolkit's files too: a development checkout must not reuse documents its older code rendered.
        return {"toolkit": __version__, "code": code_fingerprint(), "pandoc": pandoc.version(), "typst": _package("typst"),
                "templates": self.template_sources, "config": self.config_source, "fonts": self.fonts,
                "reference": _sha(self.reference.read_bytes()), "layout": repr(self.config.layout),
                "organisation": self.config.organisation}

    def _convert(self, project: Project, doc: Document, formats: Sequence[str], the_stamp: Stamp) -> list[Output]:
        # Documents take only the stamp's epoch (dates, zip times); commit and dirty go to the manifest alone.
        draft = project.drafts.get(doc.kind)
        where = safety.Where(project.folder, draft.file.parent if draft else project.folder, doc.where, doc.draft)
        title = f"{project.name} {doc.kind}"
        digest, slot = "", f"{doc.kind}-{'-'.join(formats)}"
        if self.documents is not None:
            digest = cache.key({"run": self.run_key, "doc": doc, "formats": list(formats), "epoch": the_stamp.epoch,
                                "title": title, "base": os.path.relpath(where.base, where.folder),
                                "assets": cache.assets(project.folder)})
            hit = self.documents.get(project.id, slot, digest)
            if hit is not None:
                return [Output(name, data) for name, data in hit]
        try:
            outputs = self.convert(doc, formats, the_stamp, where, title)
            if self.documents is not None:
                self.documents.put(project.id, slot, digest, [(o.name, o.data) for o in outputs])
            return outputs
        except XzdocError as exc:
            # Say which project and document failed: with --all and threads the tool output alone does not.
            raise XzdocError(f"{project.id}《{doc.kind}》：{exc.message}", exc.path or doc.where, exc.line, exc.hint,
                             exc.column) from None

    def convert(self, doc: Document, formats: Sequence[str], the_stamp: Stamp, where: safety.Where,
                title: str) -> list[Output]:
        """One document's Markdown as DOCX and/or PDF; images resolve inside ``where`` only."""
        ast = pandoc.to_ast(doc.markdown)
        assets = safety.check(ast, where)
        out = []
        typeset = b""
        # The PDF is typeset first: its page count decides whether the DOCX gets a 目录 too.
        if "pdf" in formats or ("docx" in formats and doc.cover is not None):
            body = pandoc.to_typst(safety.retarget(ast, {a.target: a.name for a in assets}, full_width=True))
            meta = _typst_meta(doc, title, the_stamp, self.fonts, self.config)
            try:
                typeset = pdf.compile_pdf(body, meta, self.page_template, assets, the_stamp)
            except pdf.MissingGlyph as exc:
                raise exc.located(doc.draft, doc.where) from None
        if "docx" in formats:
            _docx_meta(ast, doc, the_stamp)
            long = doc.cover is not None and pdf.body_pages(typeset) > self.config.layout.toc_pages
            finish = docx_writer.Finish(cover=doc.cover is not None, duplex=self.config.layout.is_duplex(doc.kind),
                                        title=title, author=_author(doc, self.config),
                                        banner="" if doc.cover is not None else doc.kind,
                                        contents=docx_writer.headings(ast) if long else ())
            data = docx_writer.render(safety.retarget(ast, {a.target: a.data_uri() for a in assets}),
                                      self.reference, the_stamp, finish)
            out.append(Output(f"{doc.kind}.docx", data))
        if "pdf" in formats:
            out.append(Output(f"{doc.kind}.pdf", typeset))
        return out

    def _shown(self, path: Path) -> str:
        try:
            return path.relative_to(self.config.root).as_posix()
        except ValueError:
            return path.as_posix()


def load(config: Config, folder: Path) -> Project:
    """A project ready to render: metadata that fails to load or breaks the schema stops here."""
    loaded = loader.load_project(config, folder)
    errors = [f for f in loaded.findings if f.level == ERROR]
    if loaded.project is None or errors:
        first = errors[0] if errors else None
        raise XzdocError(first.message if first else f"无法读取项目 {folder}", first.path if first else str(folder),
                         first.line if first else None,
                         hint="先运行 xzdoc validate 查看并修正全部问题，再生成申报材料")
    return loaded.project


def project_files(folder: Path) -> list[Path]:
    """Every regular file of the project that stays inside it (symlinks out of the folder are not sources)."""
    root = folder.resolve()
    out = []
    for base, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(base) / name
            if name.startswith(".") or not path.is_file():
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                continue
            out.append(path)
    return out


def render(config: Config, folder: Path, formats: Sequence[str], out: Path | None = None) -> list[Path]:
    """`xzdoc render`: each document of the project written beside the others in ``out``."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise XzdocError(f"不支持的格式：{'、'.join(unknown)}", hint="可选格式：" + ",".join(FORMATS))
    project = load(config, folder)
    target = out or config.root / "dist" / project.id
    with Builder(config) as builder:
        try:
            history = builder.approvals.records(project)
        except XzdocError:
            history = None  # no readable history (shallow clone): render the current text, as outside git
        outputs = builder.outputs(project, formats, builder.stamp(project), history=history, filed=False)
    written = []
    for output in outputs:
        write_atomic(target / output.name, output.data)
        written.append(target / output.name)
    return written


def brief(config: Config, folder: Path, out: Path | None = None) -> list[Path]:
    """`xzdoc brief`: the one-page 党组决策简报 for the project's stage change, as PDF and DOCX."""
    project = load(config, folder)
    target = out or config.root / "dist" / project.id
    with Builder(config) as builder:
        the_stamp = builder.stamp(project)
        facts = briefing.facts(config, project, builder.approvals.records(project), builder.workdir, the_stamp)
        page = stagedocs.render_brief(config, context.build(config, project, the_stamp), facts)
        outputs = builder._convert(project, page, ("docx", "pdf"), the_stamp)
    for output in outputs:
        write_atomic(target / output.name, output.data)
    return [target / o.name for o in outputs]


def bundle_path(out: Path, project: Project) -> Path:
    return out / project.id / f"{project.id}-{project.stage}.zip"


def bundle_one(builder: Builder, folder: Path, out: Path, force: bool = False) -> Result:
    project = load(builder.config, folder)
    path = bundle_path(out, project)
    records = builder.approvals.rows(project)
    key = builder.inputs_hash(project, records)
    marker = path.with_name(f".{path.stem}.hash")
    if not force and is_current(path, marker, key):
        return Result(project.id, path, skipped=True)
    the_stamp = builder.stamp(project)
    history = builder.approvals.records(project)
    brief = briefing.facts(builder.config, project, history, builder.workdir, the_stamp, builder.portfolio)
    outputs = builder.outputs(project, FORMATS, the_stamp, records, history, brief)
    manifest = _manifest(builder, project, the_stamp, key, records, outputs)
    entries = [(o.name, o.data) for o in outputs] + [(MANIFEST, manifest)]
    sweep_stale(path.parent)
    write_atomic(path, write_zip(entries, the_stamp.zip_time))
    write_atomic(marker, marker_text(key) + "\n")
    return Result(project.id, path, files=tuple(sorted(name for name, _ in entries)))


def bundle(config: Config, folders: Iterable[Path], out: Path, force: bool = False,
           jobs: int | None = None, workers: int = 1) -> Iterator[Result | XzdocError]:
    """Bundle each project in turn; a project that fails is reported and the rest still run.

    With ``workers`` > 1 the projects are shared out to that many processes; results keep the folders' order.
    """
    folders = list(folders)
    if workers > 1 and len(folders) > 1:
        from xzdoc.render import pool

        yield from pool.shared_out(config, folders, out, force, workers)
        return
    documents = cache.DocumentCache(out / cache.FOLDER, reuse=not force)
    with Builder(config, documents=documents) if jobs is None else \
            Builder(config, jobs=jobs, documents=documents) as builder:
        for folder in folders:
            try:
                yield bundle_one(builder, folder, out, force)
            except XzdocError as exc:
                yield exc


def is_current(path: Path, marker: Path, key: str) -> bool:
    return path.is_file() and marker.is_file() and marker.read_text("utf-8").strip() == marker_text(key)


def marker_text(key: str) -> str:
    """The key beside a bundle, with the toolkit's own files: a checkout whose code changed renders again.

    The key alone goes into the manifest, which must not depend on where the toolkit is installed.
    """
    from xzdoc.rules.cache import code_fingerprint

    return f"{key} {code_fingerprint()}"


class Approvals:
    """The ledger's approval records as printable rows: the only place rendering asks the ledger anything.

    The ledger is built once per run, so checking 100 unchanged projects walks
    history once. Outside git no history can hold an approval, and the page says so.
    """

    def __init__(self, config: Config, in_git: bool) -> None:
        self.config = config
        self.in_git = in_git

    @functools.cached_property
    def book(self) -> Any:
        from xzdoc.history import ledger

        return ledger.build(self.config) if self.in_git else None

    def records(self, project: Project) -> list[Any] | None:
        """The ledger's records of the project, oldest first; None outside git, where there is no history."""
        from xzdoc.history import ledger

        return None if self.book is None else ledger.of_folder(self.book, project.display)

    def rows(self, project: Project) -> list[dict[str, str]]:
        from xzdoc.history import ledger

        if self.book is None:
            return []
        # The page is evidence of what is in force: every approval, and any unapproved change still in effect.
        # An unapproved change later undone or superseded stays in `xzdoc ledger`, not on the submission.
        shown = [r for r in ledger.of_folder(self.book, project.display) if r.approved or r.current]
        records = ledger.with_evidence(self.config, self.book, shown)
        return [records_page.row(self.config, r, ledger.STATUS_ZH) for r in records]


def _manifest(builder: Builder, project: Project, the_stamp: Stamp, key: str, records: Sequence[Mapping[str, str]],
              outputs: Sequence[Output]) -> bytes:
    data = {
        "format": 1,
        "project": {"id": project.id, "name": project.name, "stage": project.stage},
        "toolkit": {"name": "xzdoc", "version": __version__, "pandoc": pandoc.version(), "typst": _package("typst")},
        "git": {"commit": the_stamp.commit, "dirty": the_stamp.dirty},
        "source_date_epoch": the_stamp.epoch,
        "date_source": the_stamp.source,
        "inputs_sha256": key,
        "sources": [{"path": p, "sha256": h} for p, h in
                    builder.sources(project) + builder.config_source + builder.template_sources],
        "outputs": [{"path": o.name, "sha256": _sha(o.data), "bytes": len(o.data)} for o in sorted(outputs, key=_name)],
        "approvals": list(records),
    }
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _docx_meta(ast: dict[str, Any], doc: Document, the_stamp: Stamp) -> None:
    if doc.cover is None:
        return

    def text(value: str) -> dict[str, Any]:
        return {"t": "MetaString", "c": value}

    lines: list[dict[str, Any]] = []
    for line in doc.cover.title_lines:
        lines += [{"t": "LineBreak"}] if lines else []
        lines.append({"t": "Str", "c": line})
    ast["meta"] = {
        "title": {"t": "MetaInlines", "c": lines},
        "subtitle": text(doc.cover.kind),
        "author": {"t": "MetaList", "c": [text(f"{label}：{value}") for label, value in doc.cover.rows]},
        "date": text(doc.cover.date),
        "lang": text("zh-CN"),
    }


def _typst_meta(doc: Document, title: str, the_stamp: Stamp, fonts: Mapping[str, list[str]],
                config: Config) -> dict[str, Any]:
    day = the_stamp.local
    cover = None
    if doc.cover is not None:
        cover = {"title": doc.cover.title, "kind": doc.cover.kind, "rows": [list(r) for r in doc.cover.rows],
                 "date": doc.cover.date, "title-lines": doc.cover.title_lines}
    return {
        "title": title,
        "author": _author(doc, config),
        "date": {"year": day.year, "month": day.month, "day": day.day},
        "cover": cover,
        "banner": None if doc.cover else doc.kind,
        "fonts": fonts,
        # 小标宋 is a heavy face already; only a stand-in needs bold to read as one.
        "title-weight": "regular" if fonts["title"][0] == config.fonts["title"][0] else "bold",
        "duplex": config.layout.is_duplex(doc.kind),
        "toc-pages": config.layout.toc_pages,
    }


def _author(doc: Document, config: Config) -> str:
    """The organisation a document is from: the cover's 申报单位, else the repository's organisation."""
    found = next((v for k, v in doc.cover.rows if k == "申报单位"), "") if doc.cover else ""
    return found or config.organisation


def _parallel(jobs: Sequence[Callable[[], list[Output]]], workers: int) -> list[list[Output]]:
    """Run the jobs on threads (pandoc runs as a subprocess and Typst outside the GIL); the first error wins."""
    if workers <= 1 or len(jobs) <= 1:
        return [job() for job in jobs]
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(job) for job in jobs]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _package(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return ""


def _name(output: Output) -> str:
    return output.name


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
