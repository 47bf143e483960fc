"""``ikg suggest``: indicator suggestions for a task being drafted (apps.suggest)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from apps.suggest import suggest as run
from kg.errors import EmbeddingError
from kg.i18n import error_prefix, tr
from kg.settings import get_settings


class SuggestFormat(StrEnum):
    text = "text"
    jsonl = "jsonl"


def _err(message: str) -> None:
    typer.echo(message, err=True)


def suggest(
    task: Annotated[str, typer.Option("--task", help="任务名称 (task name)")],
    content: Annotated[str, typer.Option("--content", help="主要内容 (what the task does)")] = "",
    department: Annotated[
        str | None,
        typer.Option("--department", help="the drafting department (marks its own rows)"),
    ] = None,
    k: Annotated[
        int, typer.Option("--k", "-k", min=1, max=50, help="至多这么多条建议 (at most k)")
    ] = 10,
    year: Annotated[
        int | None,
        typer.Option("--year", min=2000, max=2100, help="编制年度（默认明年） (drafting year)"),
    ] = None,
    min_score: Annotated[
        float | None,
        typer.Option(
            "--min-score",
            min=0.0,
            max=1.0,
            help="相关度下限（默认 IKG_SUGGEST_MIN_SCORE=0.15） (relevance floor)",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="data directory (default: IKG_DATA_DIR or data/build)"),
    ] = None,
    fmt: Annotated[
        SuggestFormat, typer.Option("--format", help="text or jsonl")
    ] = SuggestFormat.text,
) -> None:
    """为一项任务建议绩效指标：分类、典型目标值、使用部门及出处 (indicator suggestions for a task)."""

    settings = _settings(data_dir)
    try:
        res = run(
            task,
            content,
            department=department,
            k=k,
            fiscal_year=year,
            min_score=min_score,
            data_dir=settings.data_dir,
            settings=settings,
        )
    except (EmbeddingError, ImportError, OSError) as exc:  # the index, its extra, the store
        _err(f"{error_prefix()}{exc}")
        raise typer.Exit(2) from exc
    if fmt is SuggestFormat.jsonl:
        for s in res.suggestions:
            sys.stdout.write(s.model_dump_json() + "\n")
        return
    _print_text(res)
    if not content.strip() and not res.content_from_store:
        _name_alone_note()


def _name_alone_note() -> None:
    """Said when only a task name was given and the store has no task of that name."""
    _err(
        tr(
            "提示：只给了任务名称，图中也没有同名任务；用 --content 写上主要内容，建议更贴近任务",
            "note: a task name alone (no stored task of that name): give --content for "
            "suggestions closer to the task",
        )
    )


def _settings(data_dir: Path | None) -> Any:
    """The settings (``--data-dir`` over IKG_DATA_DIR); exit 2 when they are invalid or
    there is no store to suggest from."""

    try:
        settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    except ValueError as exc:
        _err(f"{error_prefix()}{tr('设置', 'settings')}: {exc}")
        raise typer.Exit(2) from exc
    if not settings.remote and not (settings.store_path / "CURRENT").is_file():
        _err(
            error_prefix()
            + tr(
                f"{settings.store_path} 没有图存储；请先运行 `ikg build`",
                f"no graph store at {settings.store_path}; run `ikg build` first",
            )
        )
        raise typer.Exit(2)
    return settings


def _print_text(res: Any) -> None:
    """The suggestions as text: the call's parameters, each suggestion, the categories."""
    if not res.suggestions:
        _err(
            tr(
                f"没有相关度不低于 {res.min_score:.2f} 的指标可建议",
                f"no suggestion at relevance {res.min_score:.2f} or above",
            )
        )
    typer.echo(
        f"任务：{res.task}（{res.indicators_indexed} 个指标中检索，模型 {res.model}；"
        f"{res.fiscal_year} 年度，相关度下限 {res.min_score:.2f}，"
        f"补齐类别的相关度下限 {res.fill_min_score:.2f}）"
    )
    if res.content_from_store:
        shown = " ".join(res.content_from_store.split())
        shown = shown if len(shown) <= 80 else shown[:80] + "…"
        typer.echo(f"主要内容（未给出，取自图中同名任务）：{shown}")
    for n, s in enumerate(res.suggestions, start=1):
        _print_suggestion(n, s)
    typer.echo("指标类别：")
    for c in res.categories:
        mark = "草稿已有" if c.in_draft else ("已建议" if c.suggested else "缺")
        req = "必设" if c.required else "适用"
        typer.echo(f"  {c.level1}/{c.level2}（{req}）：{mark}，建议{c.suggested}项")
        if c.note:
            typer.echo(f"       · {c.note}")


def _print_suggestion(n: int, s: Any) -> None:
    """One suggestion: name, category, target, relevance, reasons, variants, first links."""
    ev = s.evidence
    typer.echo(
        f"{n:3d}. {s.name}  〔{s.level1}/{s.level2}〕 目标 {s.target}  相关度 {s.relevance:.2f}"
        f"（{s.typical_target.note}）  {ev.departments}个部门 {ev.tables}张表"
    )
    for r in s.reasons:
        typer.echo(f"       · {r.text}")
    if s.variants:
        typer.echo(f"       · 其他写法：{'；'.join(s.variants[:5])}")
    for link in ev.links[:3]:
        typer.echo(f"       → {link.department} {link.year or ''} {link.source}  {link.target}")
