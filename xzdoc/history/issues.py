"""The ledger's issues with the head of the main branch, from a finished walk.

Layout (links, submodules, nested config and converting .gitattributes where the projects are), drift from
the approved content, deleted or unreadable approved projects, and filings dated after they were entered.
Each is an Issue with a complete Chinese message and the fix; the walk that finds them is in walk.py.
"""

from __future__ import annotations

from collections.abc import Iterable

from xzdoc.history import attributes as attributes_mod
from xzdoc.history import drift, gitlog
from xzdoc.history.records import CONFIG_FILE, PROJECT_FILE, REGISTER_FILE, Issue
from xzdoc.history.walk import Folder, Walk


def layout_issues(walk: Walk, attributes: bytes | None) -> list[Issue]:
    out = [Issue("art24.repository-layout", _folder_of(walk, path), path, commit,
                 f"{path} 是{what}：项目目录下不允许，审批台账和检查读到的内容会不一致。修改方法：删除它，"
                 "把文件以普通文件提交")
           for path, (commit, what) in sorted(walk.layout.items())]
    guarded = {p.split("/", 1)[0] for p in walk.prefixes} | {CONFIG_FILE, REGISTER_FILE}
    risky = attributes_mod.risky(attributes, guarded) if attributes else []
    if risky:
        out.append(Issue("art24.repository-layout", "", ".gitattributes", "",
                         f".gitattributes 第 {risky[0]} 行对项目目录、xzdoc.yaml 或 systems.yaml 设置了 filter、ident、"
                         "eol/text/crlf 或 encoding：检出的文件可能与提交的内容不同，审批台账与检查会读到不同的字节。"
                         "修改方法：删除这些设置，或把规则限定在其他目录（如 docs/*.pdf）"))
    return out


def _folder_of(walk: Walk, path: str) -> str:
    return next((f for f in walk.folders if path == f or path.startswith(f + "/")), "")


def state_issues(walk: Walk, workdir_folders: Iterable[Folder]) -> list[Issue]:
    """Drift, deleted approved projects and future-dated filings on the head."""
    out = []
    folders = list(workdir_folders)
    pairs = [(f.approved_tree, f.tree) for f in folders if f.drifted and f.approved_tree and f.tree]
    files = gitlog.diff_names(walk.history.workdir, pairs)  # type: ignore[arg-type]
    # Field digests for every drifted project.yaml, read in one batch rather than one git call a folder.
    walk.cache.complete(blob for f in folders if f.drifted and PROJECT_FILE in files.get((f.approved_tree or "",
                                                                                         f.tree or ""), [])
                        for blob in (f.approved_blob, f.blob))
    for folder in folders:
        if folder.approved_tree is not None and folder.tree is None:
            out.append(Issue("art24.deleted-project", folder.path, folder.path, folder.drifted.sha if folder.drifted
                             else "", f"经审批的项目 {folder.path} 已从主分支删除"
                             f"（自提交 {folder.drifted.sha[:10] if folder.drifted else '?'}）：删除不是审批。"
                             f"修改方法：恢复该目录（经审批的内容见提交 {folder.approved_commit[:10]}），"
                             "终止项目请把 stage 改为 terminated 并经局党组合并"))
        elif folder.drifted is not None:
            out.append(_drift_issue(walk, folder, files.get((folder.approved_tree or "", folder.tree or ""), [])))
        head = walk.cache.get(folder.blob) if folder.tree and folder.blob else None
        if head is not None and head.error:
            out.append(Issue("art24.unreadable-project", folder.path, f"{folder.path}/{PROJECT_FILE}", "",
                             f"主分支上的 {folder.path}/{PROJECT_FILE} 无法按 YAML 严格读取（{head.error}），"
                             "其中声称的阶段和备案一概不算。修改方法：修正该文件并经审批人合并"))
        elif folder.tree and not folder.blob and folder.approved_tree is not None:
            out.append(Issue("art24.unreadable-project", folder.path, folder.path, "",
                             f"主分支上的 {folder.path} 缺少 {PROJECT_FILE}。修改方法：恢复该文件"))
        for key, (commit, date, later, day) in sorted(folder.future.items()):
            # Two commits whose dates disagree: an approver's merge is believed over a plain push after it.
            # Otherwise one push dated years back would fail every approved filing made before it, for good;
            # it is then a warning naming both. A plain push dated ahead stays an error.
            if not later or commit not in walk.approving or later in walk.approving:
                out.append(Issue("art24.future-filing", folder.path, f"{folder.path}/{PROJECT_FILE}", commit,
                                 f"records.{key} 的日期 {date} 晚于登记它的提交 {commit[:10]}（或今天）：不能登记尚未发生的备案。"
                                 "修改方法：按实际日期登记"))
                continue
            out.append(Issue("art24.future-filing", folder.path, f"{folder.path}/{PROJECT_FILE}", commit,
                             f"records.{key} 的日期 {date} 晚于此后进入主分支的提交 {later[:10]} 的日期 {day}：要么登记它的"
                             f"提交 {commit[:10]} 的日期填在了将来（备案提前登记），要么提交 {later[:10]} 的日期被改早了。"
                             "请核对两个提交的实际时间：属前者时按实际日期登记；属后者时此项不影响备案",
                             level="warning"))
    return out


def _drift_issue(walk: Walk, folder: Folder, files: list[str]) -> Issue:
    assert folder.drifted is not None and folder.approved_tree is not None
    what = []
    for file in files[:8]:
        if file == PROJECT_FILE:
            fields = drift.changed_fields(walk.cache.full(folder.approved_blob), walk.cache.full(folder.blob))
            what.append(f"project.yaml（{'、'.join(fields[:8]) or '格式'}）")
        else:
            what.append(file)
    source = "采用 xzdoc 时的基线" if folder.adopted else f"提交 {folder.approved_commit[:10]}"
    return Issue("art24.content-drift", folder.path, f"{folder.path}/{PROJECT_FILE}", folder.drifted.sha,
                 f"{folder.path} 自提交 {folder.drifted.sha[:10]} 起偏离经审批的内容（{source}，目录树 "
                 f"{folder.approved_tree[:10]}）：改动了 {'、'.join(what) or '目录'}；这些改动没有经审批人合并，"
                 "也没有经审批的调整申请覆盖（第十六、二十四条）。修改方法：恢复为经审批的内容，或通过拉取请求由该阶段的"
                 "审批人合并；调整预算或建设内容须在 records.changes 中登记调整申请（approved、doc_no、fields）"
                 "并经局党组合并", brief=f"经审批的内容被改动且未经审批（{'、'.join(what) or '目录'}）")
