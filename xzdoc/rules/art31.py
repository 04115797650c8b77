"""第三十一、三十二条: 等保, commercial cryptography in step, risk assessment, emergency plans."""

from __future__ import annotations

import re
from collections.abc import Iterator

from xzdoc.model import WARNING, Project
from xzdoc.rules.base import Context, Hit, items, mapping, text
from xzdoc.source.drafts import ALLOW_MARK
from xzdoc.source.yamlio import YMap

LEVELS = range(1, 6)
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Every byte but an ASCII digit becomes a space, so eleven digits in a row show as one substring.
_DIGITS_ONLY = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
IN_STEP = {"planning": "同步规划", "construction": "同步建设", "operation": "同步运行"}


def _security(project: Project):  # type: ignore[no-untyped-def]
    return mapping(project.data.get("security"))


def check_mlps(project: Project, ctx: Context) -> Iterator[Hit]:
    security = _security(project)
    levels = []
    if security is not None:
        level = security.get("mlps_level")
        if level is None:
            yield Hit(security.pos, "安全保障缺少网络安全等级保护级别（mlps_level，1–5）")
        elif level not in LEVELS:
            yield Hit(security.at("mlps_level"), f"等保级别 {level} 无效，应为 1–5（第一级至第五级）")
        else:
            levels.append(level)
    for _, system in items(project.data.get("systems")):
        level = system.get("mlps_level")
        if level is None and system.get("action") not in ("下线", None, ""):
            yield Hit(system.pos, f"信息系统“{text(system.get('name'))}”缺少等保级别（mlps_level，1–5）：每个系统单独定级")
        elif level is not None and level not in LEVELS:
            yield Hit(system.at("mlps_level"), f"信息系统“{text(system.get('name'))}”的等保级别 {level} 无效，应为 1–5")
        elif security is not None and level is not None and levels and level > levels[0]:
            yield Hit(system.at("mlps_level"), f"信息系统“{text(system.get('name'))}”的等保级别 {level} 高于项目等保级别"
                                               f" {levels[0]}：项目级别应取所含系统的最高级别")


def check_crypto(project: Project, ctx: Context) -> Iterator[Hit]:
    security = _security(project)
    if security is None:
        return
    crypto = mapping(security.get("crypto"))
    if crypto is None:
        yield Hit(security.pos, "缺少商用密码应用方案（security.crypto），须与系统同步规划、同步建设、同步运行")
        return
    in_step = mapping(crypto.get("in_step"))
    for key, label in IN_STEP.items():
        if not in_step or in_step.get(key) is not True:
            yield Hit(in_step.at(key) if in_step else crypto.pos, f"商用密码保障系统未做到“{label}”（crypto.in_step.{key}）")
    level, mlps = crypto.get("level"), security.get("mlps_level")
    if level is not None and level not in LEVELS:
        yield Hit(crypto.at("level"), f"密码应用等级 {level} 无效，应为 1–5（GB/T 39786 第一级至第五级）")
        return
    if isinstance(level, int) and isinstance(mlps, int) and level < mlps:
        yield Hit(crypto.at("level"), f"密码应用等级 {level} 低于等保级别 {mlps}，通常应与等保级别一致", level="warning")


def check_risk(project: Project, ctx: Context) -> Iterator[Hit]:
    security = _security(project)
    if security is not None and not security.get("risk_assessment"):
        yield Hit(security.pos, "缺少网络与信息安全风险评估（security.risk_assessment）")


def check_emergency(project: Project, ctx: Context) -> Iterator[Hit]:
    if not ctx.std.reached(project.stage, "building"):
        return
    security = _security(project)
    if security is None or not security.get("emergency_plan"):
        yield Hit(security.pos if security else project.data.pos,
                  f"阶段“{project.stage}”须有网络安全事件应急预案（security.emergency_plan）")


def id_card_valid(number: str) -> bool:
    """GB 11643 check digit: a random 18-digit string passes one time in eleven."""
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def personal_info(text: str, raw: bytes = b"") -> Iterator[tuple[int, int, str]]:
    """(line, column, what) for each ID-card or mobile number not marked as intentional."""
    # Both kinds hold eleven digits in a row; a C-level prefilter spares the regex scan of most drafts.
    if b"00000000000" not in (raw or text.encode("utf-8")).translate(_DIGITS_ONLY):
        return
    for pattern, label in ((_ID_CARD, "身份证号"), (_MOBILE, "手机号码")):
        for match in pattern.finditer(text):
            if label == "身份证号" and not id_card_valid(match.group(0)):
                continue
            start = match.start()
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", start)
            if ALLOW_MARK in text[line_start: line_end if line_end >= 0 else len(text)]:
                continue
            yield text.count("\n", 0, start) + 1, start - line_start + 1, label


def check_personal_info(project: Project, ctx: Context) -> Iterator[Hit]:
    sources = [(None, project.source, b"")] + [(d.path, d.text, d.raw) for d in project.drafts.values() if d.text]
    for path, body, raw in sources:
        for line, col, label in personal_info(body, raw):
            yield Hit((line, col), f"疑似{label}：项目材料会随申报材料包流转，个人信息应删除或脱敏"
                                   f"（如确需保留，在该行末尾注明“{ALLOW_MARK}”）", path=path)


# Sensitive personal information (个人信息保护法 第二十八条) as 信息项 names show it.
_SENSITIVE = (
    (re.compile(r"人脸|面部|生物识别|指纹|虹膜|声纹|掌纹|步态"), "生物识别信息"),
    (re.compile(r"身份证|公民身份号码|身份证件号码"), "身份证号"),
    (re.compile(r"手机号|移动电话号码"), "手机号码"),
    (re.compile(r"行踪"), "行踪轨迹"),
    (re.compile(r"银行卡号|银行账号|银行账户"), "金融账户"),                     # 个人信息保护法第二十八条
    (re.compile(r"病历|病史|健康状况|体检结果"), "医疗健康信息"),
)
_WHEREABOUTS = re.compile(r"轨迹|位置|定位|经度|纬度")
_PERSON = re.compile(r"人员|乘客|旅客|驾驶员|驾驶人|司机|车主|船员|个人|居民|游客|公众|用户|学生|考生|行人|患者|职工|当事人|投诉人")


def sensitive_items(project: Project) -> Iterator[tuple[YMap, str, str, str]]:
    """(item, resource name, item name, kind) of every 信息项 holding sensitive personal information."""
    for _, resource in items(project.data.get("resources")):
        about = f"{text(resource.get('name'))}{text(resource.get('summary'))}"
        persons = _PERSON.search(about) is not None
        for _, item in items(resource.get("items")):
            name = text(item.get("name"))
            kind = next((label for pattern, label in _SENSITIVE if pattern.search(name)), None)
            personal = persons or _PERSON.search(name) is not None
            if kind is None and personal and _WHEREABOUTS.search(name):
                kind = "个人行踪轨迹"
            if kind:
                yield item, text(resource.get("name")), name, kind


def check_pi_assessment(project: Project, ctx: Context) -> Iterator[Hit]:
    if not ctx.std.reached(project.stage, "submitted"):
        return
    security = _security(project)
    if security is not None and security.get("pi_assessment"):
        return
    level = None if ctx.std.reached(project.stage, "building") else WARNING
    for item, resource, name, kind in sensitive_items(project):
        yield Hit(item.pos, f"信息资源“{resource}”的信息项“{name}”属于敏感个人信息（{kind}），须开展个人信息保护"
                            "影响评估并在 security.pi_assessment 中登记（date、by、summary）；"
                            f"阶段“{project.stage}”{'起为错误' if level is None else '为警告，进入建设阶段起为错误'}",
                  level=level)
