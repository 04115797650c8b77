"""Project folders -> Project records, with every problem kept as a finding."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from xzdoc.config import Config
from xzdoc.errors import UsageError, XzdocError, os_reason
from xzdoc.model import ERROR, Draft, Finding, Project
from xzdoc.source import drafts as md
from xzdoc.source import structure
from xzdoc.source.textio import from_editor
from xzdoc.source.yamlio import YMap, decode, loads, read_text

PROJECT_FILE = "project.yaml"
READABLE = "art07.readable"
_ID_LINE = re.compile(r"^id:[ \t]*([^\s#]+)", re.M)
SCHEMA = "art07.schema"
# What Path.exists takes for "no such file".
_ABSENT = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)
_ABSENT_WIN = (21, 123, 1921)  # ERROR_NOT_READY, ERROR_INVALID_NAME, ERROR_CANT_RESOLVE_FILENAME


@dataclass(frozen=True)
class Loaded:
    project: Project | None
    findings: tuple[Finding, ...]


def discover(config: Config, paths: Iterable[Path]) -> list[Path]:
    """Project folders named by ``paths``: a project, a folder of projects, or the repository."""
    return [Path(folder) for folder in discover_names(config, paths)]


def discover_names(config: Config, paths: Iterable[Path]) -> list[str]:
    """As :func:`discover`, as plain strings: a tenth of the memory of paths for a province's projects."""
    out: list[str] = []
    targets = list(paths) or [config.root / config.projects_dir]
    if not paths and not targets[0].is_dir():
        if (Path.cwd() / PROJECT_FILE).is_file():
            targets = [Path.cwd()]
        else:
            raise XzdocError(f"在 {config.root} 中没有找到 {config.projects_dir}/ 目录，也没有 xzdoc.yaml",
                             hint="在 xzdoc 仓库的根目录运行，或指定要检查的项目：xzdoc validate PATH")
    for target in targets:
        target = resolve(config, target).resolve()
        if target.is_file():
            # A changed file (as pre-commit passes them) stands for the project that holds it.
            target = next((p for p in target.parents if _holds_metadata(p)), target.parent)
        if not target.exists():
            raise UsageError(f"路径不存在：{target}", "命令行参数 PATH",
                             hint="PATH 可以是仓库根目录、projects/、某个项目目录或项目编号")
        if (target / config.projects_dir).is_dir() and target == config.root:
            target = target / config.projects_dir
        # The projects folder is read as the folder of projects even with a project.yaml of its own in it:
        # one stray file must not make the run check that file alone.
        if _holds_metadata(target) and target != (config.root / config.projects_dir).resolve():
            out.append(str(target))
            continue
        found = project_folders(target)
        if not found and target == (config.root / config.projects_dir).resolve():
            continue   # a new bureau repository before its first project: nothing to check is not an error
        if not found:
            raise XzdocError(f"{_rel(config, target)} 下没有找到任何项目（含 {PROJECT_FILE} 的目录）",
                             hint="用 xzdoc new projects/<编号> --id <编号> --name <名称> 创建项目")
        out += found
    for name in out:
        _readable_name(name)
    return list(dict.fromkeys(out))


def _readable_name(name: str) -> None:
    """A folder name that is no UTF-8 can be neither a project id nor written into a report."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(name).decode("utf-8", "replace")
        raise XzdocError(f"项目目录名不是有效的 UTF-8 文本：{shown}", hint="把该目录改名为项目编号，例如 XZJT-2026-001") from None


def project_folders(folder: Path) -> list[str]:
    """The sub-folders of ``folder`` that hold a project.yaml, sorted, as strings."""
    top = str(folder)
    names, broken = [], []
    try:
        with os.scandir(top) as entries:
            for e in entries:
                try:
                    if e.is_dir():
                        names.append(e.name)
                except OSError:
                    # A link that loops (or that the system will not follow) is one bad entry, reported
                    # by the loader as an unreadable project; it must not hide every other project.
                    broken.append(e.name)
    except OSError:
        return []
    found = [name for name in names if os.path.lexists(f"{top}/{name}/{PROJECT_FILE}")]
    return [f"{top}/{name}" for name in sorted(found + broken)]


def _holds_metadata(folder: Path) -> bool:
    # Any entry named project.yaml makes a project: a directory, pipe or dangling link in its place
    # is the project's unreadable metadata, which validate reports, not a folder to pass over.
    return os.path.lexists(folder / PROJECT_FILE)


def resolve(config: Config, ref: Path) -> Path:
    """A path as given, or the folder of the project whose id (or folder name) it spells."""
    if ref.exists() or len(ref.parts) != 1:
        return ref
    root = config.root / config.projects_dir
    if (root / ref.name / PROJECT_FILE).is_file():
        return root / ref.name
    for file in sorted(root.glob(f"*/{PROJECT_FILE}")):
        if declared_id(file) == ref.name:
            return file.parent
    return ref


def declared_id(file: Path) -> str | None:
    """The ``id:`` line of a project.yaml, read without parsing the rest (ids are plain scalars)."""
    try:
        # Regular files only, of a bounded size: a FIFO named project.yaml would block, /dev/zero never end.
        text = read_text(file, str(file))
    except (OSError, XzdocError):
        return None
    found = _ID_LINE.search(text)
    return found.group(1).strip("'\"") if found else None


def load_project(config: Config, folder: Path, overlay: Mapping[Path, str] | None = None) -> Loaded:
    """One project; ``overlay`` maps absolute file paths to unsaved editor text that replaces the file."""
    display = _rel(config, folder)
    yaml_path = f"{display}/{PROJECT_FILE}"
    marked: list[tuple[tuple[int, int], str]] = []
    overlay = overlay or {}
    try:
        source = overlay.get(folder / PROJECT_FILE) if overlay else None
        source = read_text(folder / PROJECT_FILE, yaml_path) if source is None else from_editor(source, yaml_path)
        data = loads(source, yaml_path, marked)
    except XzdocError as exc:
        return Loaded(None, (_from_error(exc, READABLE),))
    if not isinstance(data, YMap):
        return Loaded(None, (Finding(yaml_path, 1, 1, SCHEMA, ERROR, "project.yaml 的顶层应为映射（键: 值）", "第七条"),))
    problems, money = structure.check(config.standard.raw_schema, data, data.pos)
    findings = [Finding(yaml_path, p[0], p[1], SCHEMA, ERROR, f"{msg}（依据第七条）", "第七条")
                for p, msg in problems]
    drafts, draft_findings = _drafts(config, folder, data, display, overlay)
    findings += draft_findings
    project = Project(
        id=str(data.get("id") or folder.name),
        name=str(data.get("name") or ""),
        stage=str(data.get("stage") or "draft"),
        folder=folder,
        display=display,
        yaml_path=yaml_path,
        data=data,
        drafts=drafts,
        money=money,
        marked=tuple(marked),
        source=source,
    )
    return Loaded(project, tuple(findings))


def _drafts(config: Config, folder: Path, data: YMap, display: str,
            overlay: Mapping[Path, str]) -> tuple[dict[str, Draft], list[Finding]]:
    documents = data.get("documents")
    out: dict[str, Draft] = {}
    findings: list[Finding] = []
    if not isinstance(documents, YMap):
        return out, findings
    for kind, rel in documents.items():
        if not isinstance(rel, str):
            continue
        shown = rel if os.path.isabs(rel) else f"{display}/{rel}"
        file = folder / rel
        edited = overlay.get(file) if overlay else None  # hashing a path costs more than the lookup
        if edited is not None and _inside(folder, file):
            text: str | None = edited
            raw, problem = edited.encode("utf-8"), None
        else:
            raw, text, problem = _read_draft(folder, file, shown)
        if problem:
            line, col = documents.at(kind)
            # An absolute path names no file of the project: the entry in project.yaml is what to fix.
            where = f"{display}/{PROJECT_FILE}" if os.path.isabs(rel) else problem.path or shown
            findings.append(Finding(where, line if os.path.isabs(rel) else problem.line or line,
                                    problem.column or col, READABLE, ERROR, _message(problem), "第七条"))
        out[str(kind)] = Draft(str(kind), shown, file, text, md.chapters(text) if text else (), raw)
    return out, findings


def _read_draft(folder: Path, file: Path, shown: str) -> tuple[bytes, str | None, XzdocError | None]:
    # One stat answers both "does it exist" (as Path.exists does: only these errors mean "no") and its size.
    try:
        info = os.stat(file)
        size = info.st_size
    except OSError as exc:
        if exc.errno not in _ABSENT and getattr(exc, "winerror", None) not in _ABSENT_WIN:
            # A name too long, a symlink loop: the entry in documents names no readable file.
            return b"", None, XzdocError(f"无法读取文稿：{os_reason(exc)}", shown[:200], 1,
                                         hint="documents 中写项目目录内文稿的相对路径，如 drafts/proposal.md")
        size = None
    except ValueError:  # a NUL in the name: no such file
        size = None
    if size is None:
        return b"", None, None  # a missing draft is art07.documents' finding, with the stage in mind
    if not _inside(folder, file):
        return b"", None, XzdocError(f"文稿 {shown} 指向项目目录之外（符号链接或 ..）", shown, 1,
                                hint="文稿必须是项目目录内的普通文件")
    if not stat.S_ISREG(info.st_mode):
        # A FIFO blocks the read for ever and a directory cannot be read: only a regular file is a draft.
        return b"", None, XzdocError(f"文稿 {shown} 不是普通文件（目录、管道或设备）", shown, 1,
                                     hint="文稿必须是项目目录内的普通文件")
    try:
        raw = file.read_bytes() if size <= md.MAX_DRAFT_BYTES else None
    except OSError as exc:
        return b"", None, XzdocError(f"无法读取文稿：{os_reason(exc)}", shown, 1)
    if raw is None:
        return b"", None, XzdocError(f"文稿超过 {md.MAX_DRAFT_BYTES // 1048576} MB 上限", shown, 1,
                                hint="文稿只放正文文字；附件放到 records/ 并在正文中说明")
    try:
        return raw, decode(raw, shown), None
    except XzdocError as exc:
        return b"", None, exc


def _inside(folder: Path, file: Path) -> bool:
    """True when ``file`` stays inside ``folder``; cheap unless a symlink or .. is involved."""
    probe, top = str(file), str(folder)
    # Paths print normalised, so a file under folder/ shows its relative parts after "folder/".
    # An absolute path in documents: replaces the folder altogether; .. may climb out of it.
    if probe[len(top):len(top) + 1] != "/" or not probe.startswith(top) or ".." in probe[len(top) + 1:].split("/"):
        return _resolved_inside(folder, file)
    while len(probe) > len(top):
        if os.path.islink(probe):
            return _resolved_inside(folder, file)
        probe = os.path.dirname(probe)
    return True


def _resolved_inside(folder: Path, file: Path) -> bool:
    try:
        file.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _from_error(exc: XzdocError, rule: str) -> Finding:
    return Finding(exc.path or "", exc.line or 1, exc.column or 1, rule, ERROR, _message(exc), "第七条")


def _message(exc: XzdocError) -> str:
    text = exc.message
    if exc.hint:
        text += f"。修改方法：{exc.hint}"
    return text


def _rel(config: Config, path: Path) -> str:
    """Repository-relative, as CI annotations need; a lone project outside any repository is shown from cwd."""
    # realpath, not resolve(): a link that loops is still a path to show (resolve() raises on it).
    real = Path(os.path.realpath(path))
    try:
        rel = real.relative_to(config.root).as_posix()
    except ValueError:
        rel = ""
    return rel if rel not in ("", ".") else Path(os.path.relpath(real)).as_posix()


def load_projects(config: Config, paths: Iterable[Path] = ()) -> list[Project]:
    """The projects under ``paths`` (default: the repository's) whose metadata loads; validate reports the rest."""
    return [item.project for item in load_all(config, discover(config, paths)) if item.project is not None]


@dataclass(frozen=True)
class Readable:
    """The projects a view can show, and, for each project it cannot, the error that keeps it out."""

    projects: tuple[Project, ...]
    left_out: tuple[Finding, ...]


def readable(items: Iterable[Loaded], schema: bool = False) -> Readable:
    """Split loaded projects into those that load (and, with ``schema``, pass the schema) and the rest."""
    kept: list[Project] = []
    left: list[Finding] = []
    for item in items:
        if item.project is None:
            left.append(item.findings[0])  # a project that does not load carries exactly the reason why
        elif schema and (first := next((f for f in item.findings if f.level == ERROR and f.rule == SCHEMA), None)):
            left.append(first)
        else:
            kept.append(item.project)
    return Readable(tuple(kept), tuple(left))


def load_all(config: Config, folders: Iterable[Path]) -> Iterator[Loaded]:
    for folder in folders:
        yield load_project(config, folder)
