"""What the drafts say against what project.yaml holds: template references, 等保 levels, system and project ids.

Each check scans a draft's text once with a compiled regular expression and
looks only at the few places it finds; a level is judged only where the
text ties it to 等保 (or GB/T 22239) and to this project, so prose that
quotes the regulations or describes a connected system is left alone.
Amounts are in ``amounts``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from xzdoc.model import Project
from xzdoc.rules.base import Context, Hit, items, mapping, text
from xzdoc.rules.index import Entry, Index, summaries
from xzdoc.source import sandbox
from xzdoc.source.yamlio import Pos

_CN_LEVEL = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
_MLPS_ANCHORS = ("等级保护", "等保", "定级", "保护等级", "22239")
_MLPS_AFTER = re.compile(
    r"(?:等级保护|等保|保护等级|定级|22239(?:[-—–]\d{4})?)(?:2\.0)?"
    r"(?P<gap>[^，。；;,\n\d]{0,8}?)第?(?P<level>[一二三四五1-5])级(?P<floor>以上|及以上|以下|及以下)?")
# "定为第三级信息系统", "按第二级系统要求": the level of a system without the word 等保.
_MLPS_SYSTEM = re.compile(r"(?:定为|确定为|为|属于|是|按|按照)第?(?P<level>[一二三四五])级(?:信息)?系统")
# "按照等保第四级以上要求建设" claims a floor; "第三级以上系统应当每年测评" quotes the regulations.
_BUILT_TO = re.compile(r"按|按照|达到|满足|符合")
_MLPS_BEFORE = re.compile(r"(?<![一二三四五六七八九十\d])第?(?P<level>[一二三四五])级$")
# Both start with a literal, so the scan skips ahead at C speed; the prefix letters are read back by _ids.
_SYSTEM_ID = re.compile(r"-SYS-\d{3}(?!\d)")
_PROJECT_ID = re.compile(r"-\d{4}-\d{3}(?!\d)")
_PREFIX = re.compile(r"(?<![A-Za-z0-9-])[A-Z][A-Z0-9]*$")
_SENTENCE_END = "。；;！？!?\n"


def where(project: Project, pos: Pos) -> str:
    return f"{project.yaml_path} 第{pos[0]}行"


def draft_values(project: Project, ctx: Context, roots: Collection[str] | None = None) -> dict[str, Any]:
    """The variables render gives a draft (only ``roots`` of them when given)."""
    stage = ctx.std.stage(project.stage)
    values = sandbox.variables(project.data, project.money, roots)
    values["stage_label"] = stage.label if stage else project.stage
    return values


def check_references(project: Project, ctx: Context) -> Iterator[Hit]:
    """Every draft's ``{{ … }}`` evaluated in render's own sandbox, with render's own variables.

    Only the top-level keys the references start from are copied for the
    quick check; a draft that fails it is judged by ``render`` itself with
    the full variables, so the verdict and the line are render's.
    """
    for draft in project.drafts.values():
        if not draft.text or "{" not in draft.text:
            continue
        found = sandbox.expressions(draft.text)
        if found is not None:
            values = draft_values(project, ctx, sandbox.roots(found))
            if sandbox.references_ok(found, values):
                continue
        values = draft_values(project, ctx)
        exc = sandbox.problem(draft.text, draft.path, values)
        if exc is not None:
            line = exc.line or 1
            where = (line, _failing_column(draft.text, line, values))
            yield Hit(where, f"{exc.message}{_missing_metadata(project, draft.text, line)}；"
                             f"render 和 bundle 会因此失败（{exc.hint}）", path=draft.path)


def _failing_column(body: str, line: int, values: dict[str, object]) -> int:
    """The column of the first ``{{`` on the line whose expression fails, so the editor marks that reference."""
    lines = body.split("\n")
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    starts = [m.start() for m in re.finditer(r"\{\{", text)]
    for source, start in zip(sandbox.expressions(text) or (), starts, strict=False):
        if not sandbox.references_ok([source], values):
            return start + 1
    return starts[0] + 1 if starts else 1


def _missing_metadata(project: Project, body: str, line: int) -> str:
    """Where in project.yaml a reference on this line stops finding data: the metadata side of the error."""
    lines = body.split("\n")
    found = sandbox.expressions(lines[line - 1]) if 0 < line <= len(lines) else None
    for source in found or ():
        steps = sandbox.path(source)
        if steps is None:
            continue
        node: object = project.data
        trail: list[str] = []
        for step in (steps[0], *(key for _, key in steps[1:])):
            if isinstance(node, dict) and step in node:
                node = node[step]
                trail.append(str(step))
                continue
            if isinstance(node, dict) and trail and hasattr(node, "pos"):
                have = "、".join(str(k) for k in node) or "无"
                return f"（{where(project, node.pos)} 的 {'.'.join(trail)} 下没有 {step}，现有：{have}）"
            if not trail:
                return f"（{project.yaml_path} 中没有 {step}）"
            break
    return ""


def _mlps_mentions(body: str) -> list[tuple[int, str, int, bool]]:
    """(offset, words, level, a floor?) of each 等保 level the text states, found from a few anchors with str.find."""
    found: dict[int, tuple[int, str, int, bool]] = {}
    for anchor in _MLPS_ANCHORS:
        at = body.find(anchor)
        while at >= 0:
            m = _MLPS_AFTER.match(body, at)
            if m and "密" not in m.group("gap"):    # 商用密码应用第三级 is the crypto level
                floor = m.group("floor")
                claimed = not floor or (floor.endswith("以上") and body.startswith(("要求", "标准"), m.end())
                                        and _BUILT_TO.search(body, max(0, at - 8), at) is not None)
                if claimed:
                    found.setdefault(m.start("level"), (at, m.group(0), _CN_LEVEL[m.group("level")], bool(floor)))
            if anchor in ("等保", "等级保护") and (b := _MLPS_BEFORE.search(body, max(0, at - 3), at)):
                found.setdefault(b.start("level"), (b.start(), body[b.start(): at + len(anchor)],
                                                    _CN_LEVEL[b.group("level")], False))
            at = body.find(anchor, at + len(anchor))
    at = body.find("级")
    while at >= 0:
        if body.startswith(("级系统", "级信息系统"), at) and (m := _MLPS_SYSTEM.search(body, max(0, at - 5), at + 6)):
            found.setdefault(m.start("level"), (m.start(), m.group(0), _CN_LEVEL[m.group("level")], False))
        at = body.find("级", at + 1)
    return sorted(found.values())


# The subject right before a figure or a level, when it is a named system the project does not hold:
# "对接的山西省公路养护管理平台为等保第三级系统", "省平台总投资2000万元".
_SUBJECT_TAIL = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{4,40}$")
_SUBJECT_LINK = re.compile(r"^.*(?:的|与|和|及|对接|向|在|从|将|即|经|通过|依托)")
_SUBJECT_VERB = re.compile(r"(?:拟定为|确定为|定为|属于|按照|为|是|按|已|的)$")
_THINGS = ("平台", "系统", "中心", "工程", "项目", "网")


def subjects(project: Project) -> tuple[str, ...]:
    """The names this project goes by: its own and those of the systems it lists."""
    names = [text(project.data.get("name"))]
    for _, s in items(project.data.get("systems")):
        names += [text(s.get("name")), text(s.get("id"))]
    return tuple(n for n in names if n)


def other_subject(before: str, names: tuple[str, ...]) -> bool:
    m = _SUBJECT_TAIL.search(_SUBJECT_VERB.sub("", before))
    if m is None:
        return False
    tail = _SUBJECT_LINK.sub("", m.group(0))
    if len(tail) < 4 or not tail.endswith(_THINGS) or tail.startswith(("本", "该", "此", "项目", "新", "拟")):
        return False
    return not any(tail in name for name in names)


_CLAUSE_REVERSED = re.compile(f"[^{_SENTENCE_END}]*")


def _clause_start(body: str, at: int) -> int:
    """Just after the last sentence end in the 160 characters before ``at``; 0 when there is none."""
    window = body[max(0, at - 160): at]
    run = _CLAUSE_REVERSED.match(window[::-1]).end()  # type: ignore[union-attr]
    return 0 if run == len(window) else at - run


def check_mlps(project: Project, ctx: Context) -> Iterator[Hit]:
    security = mapping(project.data.get("security"))
    level = security.get("mlps_level") if security else None
    if not isinstance(level, int) or security is None:
        return
    systems = [(text(s.get("name")), text(s.get("id")), s) for _, s in items(project.data.get("systems"))]
    names = subjects(project)
    for draft in project.drafts.values():
        body = draft.text
        if not body or "级" not in body:
            continue
        for at, written, said, floor in _mlps_mentions(body):
            start = _clause_start(body, at)
            clause = body[start: at]
            named = [(name, s) for name, sid, s in systems if (name and name in clause) or (sid and sid in clause)]
            want, pos, what = level, security.at("mlps_level"), "security.mlps_level（项目等保级别）"
            if named:
                name, system = named[-1]
                sys_level = system.get("mlps_level")
                if not isinstance(sys_level, int):
                    continue
                want, pos, what = sys_level, system.at("mlps_level"), f"“{name}”的 mlps_level"
            elif other_subject(clause, names):
                continue
            if (want < said) if floor else (said != want):
                line = body.count("\n", 0, at) + 1
                yield Hit((line, at - body.rfind("\n", 0, at)),
                          f"《{draft.kind}》第{line}行写“{written}”（第{said}级），与 {where(project, pos)} "
                          f"的 {what}（第{want}级）不一致", path=draft.path)


NAMES_KEY = "prose.names"   # ctx.extras: every project name of the run, known before any draft is scanned
_NAME_LINE = re.compile(r"^name:[ \t]*(.+?)[ \t]*$", re.M)
SYSTEMS_RULE, FOREIGN_RULE = "art08.prose-systems", "art08.foreign-project"


def name_candidates(sources: Iterable[str]) -> tuple[str, ...]:
    """The project names in ``sources`` (project.yaml texts), read from their top-level name line.

    A cheap first pass, so that each project's drafts can be scanned for the others' names while
    only that project is in memory; the portfolio half keeps only hits on names a loaded project
    really has.
    """
    out: dict[str, None] = {}
    for source in sources:
        m = _NAME_LINE.search(source)
        if m:
            name = m.group(1)
            if name[0] in "|>&!*{[#" or "\\" in name or "#" in name:
                name = _parsed_name(source)   # a block scalar, tag, anchor or escape: let YAML say what it is
            elif len(name) > 1 and name[0] == name[-1] and name[0] in "'\"":
                name = name[1:-1]
            if len(name) >= 8:
                out.setdefault(name)
    return tuple(out)


def _parsed_name(source: str) -> str:
    """The top-level name as YAML reads it, for the few spellings the line pattern cannot take apart."""
    import yaml

    try:
        data = yaml.load(source, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return ""   # the loader reports the file; a name it cannot read is no candidate
    name = data.get("name") if isinstance(data, dict) else None
    return name.strip() if isinstance(name, str) else ""


def _ids(pattern: re.Pattern[str], body: str) -> Iterator[tuple[int, str]]:
    for m in pattern.finditer(body):
        prefix = _PREFIX.search(body, max(0, m.start() - 12), m.start())
        if prefix:
            yield prefix.start(), body[prefix.start(): m.end()]


def summarize_systems(project: Project, ctx: Context) -> dict[str, Any]:
    """The system ids this project lists, and those its drafts mention without listing them."""
    listed_ids = [[sid, i, *s.at("id")] for i, s in items(project.data.get("systems")) if (sid := text(s.get("id")))]
    own = {text(s.get("id")) for _, s in items(project.data.get("systems"))}
    systems = project.data.get("systems")
    listed = where(project, systems.pos if hasattr(systems, "pos") else project.data.at("systems"))  # type: ignore[union-attr]
    hits = []
    for draft in project.drafts.values():
        if not draft.text or "-SYS-" not in draft.text:
            continue
        for at, sid in _ids(_SYSTEM_ID, draft.text):
            if sid not in own and sid not in project.source:
                hits.append([draft.path, draft.kind, draft.text.count("\n", 0, at) + 1, sid])
    return {"systems": listed_ids, "listed": listed, "hits": hits}


def _owners(index: Index, wanted: set[str], names: bool = False) -> dict[str, tuple[Entry, str, int]]:
    """(entry, field, line) of the first project holding each wanted id (or name), in index order."""
    out: dict[str, tuple[Entry, str, int]] = {}
    if not wanted:
        return out
    for entry in index:
        systems = entry.parts.get(SYSTEMS_RULE)
        foreign = entry.parts.get(FOREIGN_RULE)
        if names:
            if foreign and foreign["name"] and entry.name in wanted:
                out.setdefault(entry.name, (entry, "name", foreign["name"]))
            continue
        if foreign and entry.id in wanted:
            out.setdefault(entry.id, (entry, "id", foreign["id"]))
        for sid, i, line, _ in systems["systems"] if systems else ():
            if sid in wanted:
                out.setdefault(sid, (entry, f"systems[{i}].id", line))
    return out


def portfolio_systems(index: Index, ctx: Context) -> Iterator[Hit]:
    """A system id the drafts mention but the project does not list, naming the project that owns it."""
    wanted = {hit[3] for _, part in summaries(index, SYSTEMS_RULE) for hit in part["hits"]}
    owners = _owners(index, wanted)
    for entry, part in summaries(index, SYSTEMS_RULE):
        for path, kind, line, sid in part["hits"]:
            owner = owners.get(sid)
            whose = (f"它是项目 {owner[0].id}（{owner[0].name}）的系统（{owner[0].yaml_path} 第{owner[2]}行）"
                     if owner and owner[0].id != entry.id else "全库没有登记这个系统编号")
            yield Hit((line, 1), f"《{kind}》第{line}行提到系统 {sid}，但本项目的 systems（{part['listed']}）没有列出它，"
                                 f"{whose}；请改正编号，或把该系统列入 systems", path=path)


@functools.lru_cache(maxsize=8)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """All project names in one pattern: the engine factors out their common prefix (忻州市…), so a draft is
    scanned once however many projects the portfolio holds."""
    if not names:
        return None
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))


def summarize_foreign(project: Project, ctx: Context) -> dict[str, Any]:
    """Where this project's id and name are written, and the project ids and names of others its drafts hold."""
    pattern = _names_pattern(tuple(ctx.extras.get(NAMES_KEY, ())))
    drafts = []
    for draft in project.drafts.values():
        body = draft.text
        if not body:
            continue
        found: list[tuple[int, bool, str]] = [(at, False, pid) for at, pid in _ids(_PROJECT_ID, body)
                                              if pid != project.id and pid not in project.source]
        seen: set[str] = set()
        for m in pattern.finditer(body) if pattern else ():
            name = m.group(0)
            # Whether the name is another project's is decided at the end; the first place of each suffices.
            if name not in seen and name not in project.name and name not in project.source:
                seen.add(name)
                found.append((m.start(), True, name))
        if found:
            found.sort(key=lambda f: f[0])   # stable: an id and a name never start at one place
            drafts.append([draft.path, draft.kind, [[body.count("\n", 0, at) + 1, is_name, what]
                                                    for at, is_name, what in found]])
    name_line = project.data.at("name")[0] if len(project.name) >= 8 else None
    return {"id": project.data.at("id")[0], "name": name_line, "drafts": drafts}


def portfolio_foreign(index: Index, ctx: Context) -> Iterator[Hit]:
    """Another project's id or name in this project's drafts: copied text, or one project packaged as two."""
    ids: set[str] = set()
    names: set[str] = set()
    for _, part in summaries(index, FOREIGN_RULE):
        for _, _, found in part["drafts"]:
            for _, is_name, what in found:
                (names if is_name else ids).add(what)
    owners, holders = _owners(index, ids), _owners(index, names, names=True)
    for entry, part in summaries(index, FOREIGN_RULE):
        own = f"本项目是 {entry.id}（{entry.yaml_path} 第{part['id']}行 id）"
        for path, kind, found in part["drafts"]:
            for line, is_name, what in found:
                owner = (holders if is_name else owners).get(what)
                if is_name and (owner is None or owner[0].id == entry.id):
                    continue    # not a project's name after all, or this project's own
                other = (f"另一个项目 {owner[0].id}（{owner[0].name}，{owner[0].yaml_path} 第{owner[2]}行 "
                         f"{owner[1]}）" if owner and owner[0].id != entry.id else "全库没有的项目编号")
                yield Hit((line, 1), f"《{kind}》第{line}行出现“{what}”，是{other}；{own}。"
                                     "文稿不得照搬其他项目的内容（不得变相包装），请改为本项目的内容", path=path)
