"""``ikg search``, ``ikg similar`` and ``ikg duplicates``: typer-annotated functions.

Registered on the main app with ``app.command()(search)`` etc. Each opens the
graph store read-only and the embedding index beside it; an index that no longer
matches the store is rebuilt from the cache first (said on stderr), never used
as it is.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from embeddings.duplicates import find_duplicates, listing_sections, year_region
from embeddings.index import AmbiguousIndicator, Filters, every_tenth, open_index
from kg.errors import EmbeddingError
from kg.i18n import band_name, error_prefix, tr
from kg.settings import get_settings
from kg.store import GraphStore

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="data directory (default: IKG_DATA_DIR or data/build)"),
]
K = Annotated[int, typer.Option("--k", "-k", min=1, max=1000, help="number of hits")]
Department = Annotated[
    str | None, typer.Option("--department", help="only this department (part of its name)")
]
Year = Annotated[int | None, typer.Option("--year", help="only this fiscal year")]
Level1 = Annotated[str | None, typer.Option("--level1", help="only this level-1 category")]
Level2 = Annotated[str | None, typer.Option("--level2", help="only this level-2 category")]


class HitFormat(StrEnum):
    text = "text"
    jsonl = "jsonl"


class DupFormat(StrEnum):
    text = "text"
    jsonl = "jsonl"
    csv = "csv"


class DupBand(StrEnum):
    duplicate = "duplicate"
    review = "review"
    related = "related"


class DupScope(StrEnum):
    within_table = "within-table"
    across_departments = "across-departments"
    all = "all"


def _err(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def _errors() -> Iterator[None]:

    try:
        yield
    except AmbiguousIndicator as exc:  # the candidates, in the output language
        _err(error_prefix() + exc.describe())
        raise typer.Exit(2) from exc
    except (EmbeddingError, ImportError, OSError, LookupError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        _err(f"{error_prefix()}{msg}")
        raise typer.Exit(2) from exc


def _open(data_dir: Path | None, *, need_encoder: bool):  # type: ignore[no-untyped-def]

    try:
        settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    except ValueError as exc:
        _err(f"{error_prefix()}{tr('设置', 'settings')}: {exc}")
        raise typer.Exit(2) from exc
    if not settings.remote and not settings.store_path.exists():
        _err(
            error_prefix()
            + tr(
                f"{settings.store_path} 没有图存储；请先运行 `ikg build`",
                f"no graph store at {settings.store_path}; run `ikg build` first",
            )
        )
        raise typer.Exit(2)

    def progress(message: str, n: int, total: int) -> None:
        if n == total:
            _err(f"{message}: {n}/{total}")

    with _errors():
        store = GraphStore(settings.store_target, read_only=True)
        index, report = open_index(
            store, settings.data_dir, settings, need_encoder=need_encoder, progress=progress
        )
    if report is not None:
        _err(
            tr(
                f"已重建向量索引（{report.reason}）：{report.summary()}",
                f"embedding index rebuilt ({report.reason}): {report.summary()}",
            )
        )
    return index


def _filters(department, year, level1, level2):  # type: ignore[no-untyped-def]

    if not any(x is not None for x in (department, year, level1, level2)):
        return None
    return Filters(department=department, year=year, level1=level1, level2=level2)


def _print_hits(hits: list[Any], fmt: HitFormat) -> None:
    if fmt is HitFormat.jsonl:
        for h in hits:
            sys.stdout.write(json.dumps(h.as_dict(), ensure_ascii=False) + "\n")
        return
    if not hits:
        _err(tr("没有结果", "no hits"))
        return
    target = tr("目标", "target")
    for n, h in enumerate(hits, start=1):
        band = f" [{band_name(h.band)}]" if h.band else ""
        typer.echo(
            f"{n:3d}. {h.score:.3f}{band}  {h.name}  〔{h.level1}/{h.level2}〕 {target} "
            f"{h.target or '—'}  {h.department} {h.year or ''}  {h.source}"
        )


def search(
    text: Annotated[str, typer.Argument(help="what to look for, e.g. 离休干部慰问金")],
    k: K = 10,
    data_dir: DataDir = None,
    format: Annotated[HitFormat, typer.Option("--format", "-f")] = HitFormat.text,
    department: Department = None,
    year: Year = None,
    level1: Level1 = None,
    level2: Level2 = None,
) -> None:
    """Indicators matching a text: dense and character n-gram similarity combined."""
    index = _open(data_dir, need_encoder=True)
    with _errors():
        hits = index.search(text, k, _filters(department, year, level1, level2))
    _print_hits(hits, format)


def similar(
    indicator: Annotated[
        str, typer.Argument(help="an indicator's URI, name, or a unique part of it")
    ],
    k: K = 10,
    data_dir: DataDir = None,
    format: Annotated[HitFormat, typer.Option("--format", "-f")] = HitFormat.text,
    department: Department = None,
    year: Year = None,
    level1: Level1 = None,
    level2: Level2 = None,
    of_department: Annotated[
        str | None,
        typer.Option(
            "--of-department",
            help="when several indicators carry the name: the one of this department "
            "(part of its name)",
        ),
    ] = None,
    of_year: Annotated[
        int | None,
        typer.Option(
            "--of-year", help="when several indicators carry the name: the one of this year"
        ),
    ] = None,
) -> None:
    """Indicators similar to one indicator, each with its band (duplicate / review / related).

    A name several indicators carry is refused with the list of them (department, year, table,
    line, id): pick one with --of-department / --of-year or give its id.
    """
    index = _open(data_dir, need_encoder=False)
    within = _filters(of_department, of_year, None, None)
    with _errors():
        hits = index.similar(indicator, k, _filters(department, year, level1, level2), within)
    _print_hits(hits, format)


_CSV_COLUMNS = [
    "cluster", "label", "scope", "score", "band", "a_name", "a_department", "a_year", "a_source",
    "b_name", "b_department", "b_year", "b_source", "dense", "lexical", "structure",
    "shared_terms", "same_unit", "same_target_form", "a_uri", "b_uri",
]  # fmt: skip


def duplicates(
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            "-t",
            min=0.0,
            max=1.0,
            help="minimum pair score (default: the lowest listed band's threshold; a "
            "threshold alone lists the band it falls in)",
        ),
    ] = None,
    band: Annotated[
        DupBand | None,
        typer.Option(
            "--band",
            help="widest band to list: duplicate (default), review (adds the review band) or "
            "related (adds review and related)",
        ),
    ] = None,
    scope: Annotated[DupScope, typer.Option("--scope")] = DupScope.all,
    k: Annotated[
        int, typer.Option("--k", "-k", min=1, max=200, help="neighbours per indicator")
    ] = 20,
    data_dir: DataDir = None,
    format: Annotated[DupFormat, typer.Option("--format", "-f")] = DupFormat.text,
) -> None:
    """Suspected duplicates grouped into clusters: within a table, across departments (by fiscal
    year and region), across one department's tables. Only the duplicate band by default;
    --band review / related widens the listing."""

    index = _open(data_dir, need_encoder=False)
    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    # a line at the end of each step, and every tenth on a sweep long enough to wait for
    progress = every_tenth(_err, from_total=200_000)
    with _errors():
        report = find_duplicates(
            index,
            threshold=threshold,
            scope=scope.value,
            k=k,
            progress=progress,
            band=None if band is None else band.value,
            common_share=settings.common_indicator_share,
            common_min_departments=settings.common_indicator_min_departments,
        )
    if format is DupFormat.jsonl:
        _write_jsonl(report)
    elif format is DupFormat.csv:
        _write_csv(report)
    else:
        _print_report(report)


def _write_jsonl(report: Any) -> None:
    """One pair a line: the pair's dict, its cluster's lowest similarity, and side a's
    category, target, department and source at the top level (as search hits have them)."""
    mins = {c.id: c.min_similarity for c in report.clusters}
    for p in report.pairs:
        d = p.as_dict()
        d["cluster_min_similarity"] = None if p.cluster is None else round(mins[p.cluster], 4)
        a = d["a"]
        d.update(
            name=f"{p.a.name} ⇄ {p.b.name}",
            **{x: a[x] for x in ("level1", "level2", "target", "department", "source")},
        )
        sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")


def _write_csv(report: Any) -> None:
    """One pair a row, the columns of :data:`_CSV_COLUMNS`."""
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(_CSV_COLUMNS)
    for p in report.pairs:
        d = p.as_dict()
        row = {
            **{c: d.get(c) for c in _CSV_COLUMNS},
            **{f"a_{x}": d["a"][x] for x in ("name", "department", "year", "source", "uri")},
            **{f"b_{x}": d["b"][x] for x in ("name", "department", "year", "source", "uri")},
            "shared_terms": "、".join(d["shared_terms"]),
        }
        w.writerow([row[c] for c in _CSV_COLUMNS])


def _print_report(report: Any) -> None:

    _print_header(report)
    titles = {
        "within-table": tr("同表重复", "within a table"),
        "across-departments": tr("跨部门（按年度、地区）", "across departments (by year, region)"),
        "across-tables": tr("同部门跨表/年度", "across tables of one department"),
    }
    for section, clusters in listing_sections(report):
        typer.echo(
            tr(
                f"\n== {titles[section]}：{len(clusters)} 组 ==",
                f"\n== {titles[section]}: {len(clusters)} cluster(s) ==",
            )
        )
        group = None
        for c in clusters:
            if section == "across-departments" and year_region(c) != group:
                group = year_region(c)
                year, region = group
                region = "/".join(x or tr("未注明地区", "?") for x in region.split("/"))
                typer.echo(
                    tr(
                        f"\n-- {year or '年度不详'}年 · {region} --",
                        f"\n-- {year or 'year unknown'} · {region} --",
                    )
                )
            _print_cluster(c)


def _print_header(report: Any) -> None:
    cal = (
        ""
        if report.calibrated
        else tr("（模型未校准：阈值为默认值）", " (uncalibrated model: thresholds are defaults)")
    )
    b = report.bands
    shown = "、".join(band_name(x) for x in report.shown_bands)
    typer.echo(
        tr(
            f"分档：疑似重复 ≥ {b[0]:.3f}，需复核 ≥ {b[1]:.3f}，相关 ≥ {b[2]:.3f}；"
            f"列出：{shown}（可用 --band 放宽）",
            f"bands: duplicate ≥ {b[0]:.3f}, review ≥ {b[1]:.3f}, related ≥ {b[2]:.3f}; "
            f"listed: {', '.join(report.shown_bands)} (--band review / related to widen)",
        )
    )
    if report.listed_per_indicator is None:
        pairs = tr(f"{len(report.pairs)} 对", f"{len(report.pairs)} pair(s)")
    else:
        pairs = tr(
            f"{report.pairs_total} 对（列出 {len(report.pairs)} 对：每条指标最相似的 "
            f"{report.listed_per_indicator} 对）",
            f"{report.pairs_total} pair(s) ({len(report.pairs)} listed: an indicator's best "
            f"{report.listed_per_indicator})",
        )
    share = round(100 * report.common_share)
    typer.echo(
        tr(
            f"阈值 {report.threshold:.3f}，模型 {report.model_id}{cal}；{pairs}，"
            f"{len(report.clusters)} 组，涉及 {report.departments} 个部门；"
            f"共性指标：至少 {share}% 的部门（且至少 {report.common_min_departments} 个）使用的指标名",
            f"threshold {report.threshold:.3f}, model {report.model_id}{cal}; {pairs}, "
            f"{len(report.clusters)} cluster(s), {report.departments} department(s); "
            f"common indicator: a name at least {share}% of the departments (and at least "
            f"{report.common_min_departments}) carry",
        )
    )


def _print_cluster(c: Any) -> None:
    typer.echo(
        tr(
            f"\n[{c.id}] {band_name(c.label)} — {len(c.members)} 条指标，"
            f"两两最低相似度 {c.min_similarity:.3f}",
            f"\n[{c.id}] {c.label} — {len(c.members)} indicators, "
            f"min pairwise similarity {c.min_similarity:.3f}",
        )
    )
    for m in c.members:
        typer.echo(
            f"    · {m.name}  ({m.department} {m.year or ''}, {m.source_file}:{m.source_line})"
        )
    for p in sorted(c.pairs, key=lambda p: -p.score.score):
        typer.echo(f"    {p.score.score:.3f} [{band_name(p.score.band)}] {p.a.name} ⇄ {p.b.name}")
        typer.echo(f"          {tr('；', '; ').join(p.reasons)}")
