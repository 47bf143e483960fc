"""The language of the command line's text output: Chinese unless the user asks for English.

``ikg --lang en …`` sets it for one run (:func:`set_lang`); messages are written as pairs,
``tr("已写入 {path}", "wrote {path}")``, so each line is in one language. JSON output keeps its
English keys whatever the language. The API and the web pages are Chinese and never call
:func:`set_lang`.
"""

from __future__ import annotations

from enum import StrEnum


class Lang(StrEnum):
    zh = "zh"
    en = "en"


_lang = Lang.zh


def set_lang(lang: Lang | str) -> None:
    global _lang
    _lang = Lang(lang)


def lang() -> Lang:
    return _lang


def tr(zh: str, en: str) -> str:
    """``zh`` or ``en``, whichever language the output is in."""
    return en if _lang is Lang.en else zh


#: similarity bands (embeddings.scoring.Band) and duplicate-cluster labels, by language
BAND_NAMES = {
    "duplicate": ("疑似重复", "duplicate"),
    "review": ("需复核", "review"),
    "related": ("相关", "related"),
    "none": ("不相似", "none"),
    "suspected duplicate": ("疑似重复", "suspected duplicate"),
    "common indicator": ("共性指标", "common indicator"),
}
SCOPE_NAMES = {
    "within-table": ("同一张表内", "within the table"),
    "across-departments": ("跨部门", "across departments"),
    "across-tables": ("同部门跨表", "across tables of one department"),
    "all": ("全部", "all"),
}


#: target forms (kg.records.TargetForm) as reasons name them
FORM_NAMES = {
    "numeric": "数值",
    "range": "区间",
    "deadline": "截止日期",
    "recurring": "周期性期限",
    "duration": "时长",
    "schedule": "进度安排",
    "qualitative": "定性描述",
    "not_applicable": "不适用",
    "text": "未识别文本",
}


def form_name(form: str) -> str:
    return tr(FORM_NAMES.get(form, form), form)


def band_name(band: str) -> str:
    pair = BAND_NAMES.get(band)
    return tr(*pair) if pair else band


def scope_name(scope: str) -> str:
    pair = SCOPE_NAMES.get(scope)
    return tr(*pair) if pair else scope


def error_prefix() -> str:
    return tr("错误：", "error: ")


def warning_prefix() -> str:
    return tr("警告：", "warning: ")
