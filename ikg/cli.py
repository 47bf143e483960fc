"""The ``ikg`` command line. Its commands mirror the API.

Errors in the input are reported as ``error: FILE:LINE: message`` on stderr
with exit code 2; nothing is written to the store when any input is bad.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import pyoxigraph as ox
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from apps.library import link_library
from embeddings.index import open_index
from ikg.review import review
from ikg.search import duplicates, search, similar
from ikg.suggest import suggest
from kg import writers
from kg.build import build as run_build
from kg.build import index_done
from kg.errors import IkgError, ValidationFailed
from kg.i18n import Lang, error_prefix, set_lang, tr, warning_prefix
from kg.namespaces import ORGANISATIONS_GRAPH
from kg.readers import flat_text, pick, read_tables, try_readers
from kg.readers.projects import split as split_projects
from kg.remote import RemoteStore, RemoteStoreError, RemoteUnsupported
from kg.settings import Settings, get_settings
from kg.sparql_guard import Limits as SparqlLimits
from kg.sparql_guard import check as check_sparql
from kg.store import DANGLING_LINKS, GraphStore, table_graphs
from kg.validate import conforms, use_engine

app = typer.Typer(
    name="ikg",
    help="indicator-kg：绩效目标表知识图谱 (performance target tables as a knowledge graph).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(soft_wrap=True)


@app.callback()
def _main(
    lang: Annotated[
        Lang,
        typer.Option(
            "--lang",
            help="language of the text output: zh (default) or en; JSON keys are English "
            "either way (ikg --lang en COMMAND …)",
        ),
    ] = Lang.zh,
) -> None:
    set_lang(lang)


def _error(message: str) -> str:
    """``错误：message`` (``error: message`` with --lang en), red prefix for rich."""
    return f"[red]{error_prefix()}[/red]{message}"


def _warning(message: str) -> str:
    return f"[yellow]{warning_prefix()}[/yellow]{message}"


DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="data directory (default: IKG_DATA_DIR or data/build)"),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="oxigraph (embedded, under --data-dir) or oxigraph-server (default: IKG_STORE)",
    ),
]
StoreUrlOpt = Annotated[
    str | None,
    typer.Option("--store-url", help="the Oxigraph server, http://host:port (IKG_STORE_URL)"),
]
ReaderOpt = Annotated[
    str | None,
    typer.Option("--reader", help="force a reader (pdf-text, flat-text, template, jsonl)"),
]
DepartmentOpt = Annotated[
    str | None,
    typer.Option("--department", help="预算单位 for a table that does not print one"),
]
YearOpt = Annotated[
    int | None,
    typer.Option("--year", min=2000, max=2099, help="预算年度 for a table that does not print one"),
]


class ParseFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    xlsx = "xlsx"


class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _settings(
    data_dir: Path | None, store: str | None = None, store_url: str | None = None
) -> Settings:
    overrides: dict[str, Any] = {"data_dir": data_dir, "store": store, "store_url": store_url}
    if store_url and not store:
        overrides["store"] = "oxigraph-server"
    try:
        settings = get_settings(**{k: v for k, v in overrides.items() if v})
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        err.print(_error(f"{tr('设置', 'settings')}: {exc}"), highlight=False)
        raise typer.Exit(2) from exc
    use_engine(settings.validate_engine)  # IKG_VALIDATE_ENGINE for build and validate
    return settings


@contextmanager
def _errors() -> Iterator[None]:
    """Turn the project's errors into one line on stderr and exit code 2."""
    try:
        yield
    except ValidationFailed as exc:
        conform = tr("图不符合 SHACL 约束", "the graph does not conform to the SHACL shapes")
        err.print(_error(f"{exc.file}: {conform}"), highlight=False)
        err.print(exc.report, markup=False, highlight=False)
        raise typer.Exit(2) from exc
    except RemoteStoreError as exc:  # an IkgError, with its own exit code
        err.print(_error(str(exc)), highlight=False)
        raise typer.Exit(3) from exc
    except IkgError as exc:
        err.print(_error(""), end="")
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from exc
    except FileNotFoundError as exc:
        err.print(_error(str(exc)), highlight=False)
        raise typer.Exit(2) from exc


@app.command()
def parse(
    file: Annotated[
        Path,
        typer.Argument(
            help="a table file (PDF text, flattened table text, template XLSX/CSV, JSONL)"
        ),
    ],
    format: Annotated[ParseFormat, typer.Option("--format", "-f")] = ParseFormat.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here (required for xlsx)")
    ] = None,
    reader: ReaderOpt = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="say which reader and layout were chosen and why, the header and the role of "
            "each column, and every line skipped with its reason (instead of the records)",
        ),
    ] = False,
    department: DepartmentOpt = None,
    year: YearOpt = None,
) -> None:
    """Read one table and print its records (one JSON object per line by default).

    A file listing several projects holds one table per project: JSONL prints them one
    after the other; CSV and XLSX (one table a file) write OUTPUT's name with __p1, __p2 ….
    """

    if explain:
        with _errors():
            _explain(file, reader, department=department, year=year)
        return
    with _errors():
        _chosen, tables = read_tables(file, reader, department=department, year=year)
    for w in (w for parsed in tables for w in parsed.warnings):
        _print_warning(w)
    if format is ParseFormat.jsonl:
        with _output(output) as fh:
            for parsed in tables:
                writers.write_jsonl(parsed, fh)
        return
    _write_tables(tables, format, output)


def _print_warning(w: Any) -> None:
    """A reader's warning on stderr: file:line: message: text."""
    err.print(
        _warning(escape(f"{w.source.file}:{w.source.line}: {w.message}: {w.text}")),
        highlight=False,
    )


def _write_tables(tables: list[Any], format: ParseFormat, output: Path | None) -> None:
    """ikg parse as CSV (stdout for one table) or XLSX: a file per table (__p1, __p2 … of
    OUTPUT's name when the file lists several projects)."""

    if output is None and (format is ParseFormat.xlsx or len(tables) > 1):
        if format is ParseFormat.xlsx:
            why = tr("--format xlsx 需要 --output 文件", "--format xlsx needs --output FILE")
        else:
            why = tr(
                f"本文件有 {len(tables)} 个项目（各成一表），--format csv 需要 --output 文件",
                f"a file of {len(tables)} projects (a table each) as csv needs --output FILE",
            )
        err.print(_error(why))
        raise typer.Exit(2)
    if output is None:
        writers.write_csv(tables[0], sys.stdout)
        return
    names = (
        [output]
        if len(tables) == 1
        else [
            output.with_name(f"{output.stem}__p{k}{output.suffix}")
            for k in range(1, len(tables) + 1)
        ]
    )
    for parsed, name in zip(tables, names, strict=True):
        if format is ParseFormat.xlsx:
            writers.write_xlsx(parsed, name)
        else:
            with name.open("w", encoding="utf-8", newline="") as fh:  # write_csv writes a BOM
                writers.write_csv(parsed, fh)
        err.print(tr(f"已写入 {name}", f"wrote {name}"))


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """OUTPUT opened for text, or stdout."""
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as fh:
        yield fh
    err.print(tr(f"已写入 {path}", f"wrote {path}"))


_SCHEME_NAMES = {"legacy": "成本指标属产出指标", "2021": "财预〔2021〕101号（成本指标为一级）"}


def _explain(file: Path, reader: str | None, **hints: object) -> None:
    """ikg parse --explain: the reading, step by step, in words a reviewer can check."""

    out.print(f"文件: {file}", markup=False, highlight=False)
    choice = _explain_readers(file, reader, **hints)
    parsed = choice.parsed
    if choice.reader.name == flat_text.NAME:
        _explain_layout(file, **hints)
    else:
        out.print(f"版式: {choice.reader.layout_name}", markup=False)
        if choice.reader.blocks is not None:  # a document of tables: each table read
            _explain_blocks(file, choice.reader, parsed)
        else:
            for label, (first, last, n) in _source_spans(parsed).items():
                lines = f"第 {first} 行" if first == last else f"第 {first}–{last} 行"
                out.print(f"来源: {label} {lines}（指标 {n}）", markup=False, highlight=False)
    _explain_result(file, parsed)


def _explain_readers(file: Path, reader: str | None, **hints: object) -> Any:
    """The candidate readers with their scores, and the one chosen (returned) with why."""

    tried = try_readers(file, reader, **hints)
    out.print("候选读取器（后缀相符的读取器，依次初筛并读取，按读入的指标数评分）:", markup=False)
    for c in tried:
        name = f"{c.reader.name}（{c.reader.layout_name}）"
        if c.parsed is None:
            out.print(f"  {name}: 未得分 — {c.reason}", markup=False, highlight=False)
        else:
            out.print(f"  {name}: 指标 {c.score}, 警告 {c.warnings}", markup=False)
    choice = pick(file, tried, forced=reader is not None)
    out.print(f"读取器: {choice.reader.name}（{choice.reason}）", markup=False, highlight=False)
    return choice


def _explain_layout(file: Path, **hints: object) -> None:
    """The flat-text reader's layout: why, the header's lines and words, each row's columns."""

    given = {k: v for k, v in hints.items() if v is not None}
    layout, _again = flat_text.explain(file, **given)
    kind = str(layout["layout"])
    reason = layout.get("layout_reason", "")
    out.print(f"版式: {flat_text.LAYOUT_NAMES.get(kind, kind)} — {reason}", markup=False)
    if "header_lines" in layout:
        a, b = layout["header_lines"]  # type: ignore[misc]
        lines = f"第 {a} 行" if a == b else f"第 {a}–{b} 行"
        roles = flat_text.ROLE_NAMES
        words = " | ".join(f"{w}={roles[r]}" for w, r in layout["header"])  # type: ignore[attr-defined]
        out.print(f"表头（{lines}）: {words or '（未印出，按内容推断）'}", markup=False)
        columns = ["name", *layout["columns_after_name"]]  # type: ignore[list-item]
        cols = " → ".join(roles[c] for c in columns)
        out.print(f"每行的列: {cols}", markup=False)
        if layout.get("side_by_side_blocks"):
            out.print("并排的两组（中期/年度）: 年度值为指标值，另一组记为中期指标值", markup=False)


def _explain_blocks(file: Path, chosen: Any, parsed: Any) -> None:
    """A document of tables: each table read, its lines and the indicators read from it."""
    per_row: dict[tuple[str, int], int] = {}
    for i in parsed.indicators:
        key = (i.source.file, i.source.line)
        per_row[key] = per_row.get(key, 0) + 1
    tables = [b for b in chosen.blocks(file) if b.is_table and b.rows]
    out.print(f"读入的表格: {len(tables)} 个", markup=False)
    for b in tables:
        (label, first), (_, last) = b.where[0], b.where[-1]
        n = sum(per_row.get(w, 0) for w in b.where)
        out.print(
            f"  {_short_label(label, file) or label + ' '}第 {first}–{last} 行，"
            f"{len(b.rows)} 行非空，指标 {n}",
            markup=False,
            highlight=False,
        )


def _explain_result(file: Path, parsed: Any) -> None:
    """What was read: the table, the counts, the projects it splits into, every warning."""

    t = parsed.table
    out.print(
        f"表: {t.title} | 单位: {t.department} | 年度: {t.fiscal_year} | 类别体系: "
        f"{_SCHEME_NAMES[t.category_scheme]} | 自评表: {'是' if t.self_evaluation else '否'}",
        markup=False,
    )
    tables = split_projects(parsed)
    warnings = sorted(
        (w for t in tables for w in t.warnings),
        key=lambda w: (w.source.file, w.source.line, w.source.end_line or 0),
    )
    out.print(
        f"读入: 指标 {len(parsed.indicators)}, 任务 {len(parsed.tasks)}, "
        f"目标 {len(parsed.goals)}, 警告 {len(warnings)}",
        markup=False,
    )
    if len(tables) > 1:
        out.print(f"本文件有 {len(tables)} 个项目（或表），各成一表:", markup=False)
        for t in tables:
            out.print(
                f"  第 {t.table.source.line} 行起: {t.table.project_name or t.table.title} | "
                f"单位: {t.table.department} | 指标 {len(t.indicators)}",
                markup=False,
                highlight=False,
            )
    for w in warnings:
        text = f" ‹{w.text[:60]}›" if w.text else ""
        where = _short_label(w.source.file, file)
        out.print(
            f"  {where}第 {w.source.line} 行: {w.message}{text}", markup=False, highlight=False
        )


def _short_label(label: str, file: Path) -> str:
    """A source label as --explain prints it before a line: nothing for the file itself,
    the part after ``#`` (a sheet, a PDF page) for a part of it."""
    if label == str(file):
        return ""
    return f"{label.removeprefix(f'{file}#')} "


def _source_spans(parsed: Any) -> dict[str, tuple[int, int, int]]:
    """For each source label the records cite: first line, last line, indicators."""
    spans: dict[str, tuple[int, int, int]] = {}
    indicators = {id(i) for i in parsed.indicators}
    for record in parsed.records():
        src = getattr(record, "source", None)
        if src is None:
            continue
        last = src.end_line or src.line
        n = 1 if id(record) in indicators else 0
        a, b, k = spans.get(src.file, (src.line, last, 0))
        spans[src.file] = (min(a, src.line), max(b, last), k + n)
    return spans


@app.command()
def build(
    sources: Annotated[
        list[Path],
        typer.Argument(help="table and indicator-library files, or folders of them"),
    ],
    data_dir: DataDir = None,
    reader: ReaderOpt = None,
    no_shacl: Annotated[bool, typer.Option("--no-shacl", help="skip SHACL validation")] = False,
    store: StoreOpt = None,
    store_url: StoreUrlOpt = None,
    department: DepartmentOpt = None,
    year: YearOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--all",
            "--force",
            help="read every file again, also those unchanged since they were built, and "
            "compute every similarity link again (by default a file with the same content, "
            "reader and options is skipped, and only the replaced tables are linked again)",
        ),
    ] = False,
) -> None:
    """Read tables, validate them and load them into the graph store (replacing earlier versions)."""
    settings = _settings(data_dir, store, store_url)
    report = _run_build(
        sources, settings, reader, no_shacl, {"department": department, "year": year}, force
    )
    _print_build(report, settings)


def _run_build(
    sources: list[Path],
    settings: Settings,
    reader: str | None,
    no_shacl: bool,
    hints: dict[str, Any],
    force: bool = False,
) -> Any:
    """The build under a progress bar on stderr, then the embedding index and the library
    links when tables were loaded (also when an earlier build's index step did not finish, and
    always on a server; not when every table of an embedded store was unchanged)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    record = settings.data_dir / "store-sources.json"

    with (
        _errors(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
            auto_refresh=False,  # no refresh thread: the build's workers fork from this process
        ) as bar,
    ):
        task = bar.add_task("", total=None)

        def progress(message: str, n: int, total: int) -> None:
            bar.update(task, description=message, completed=n, total=total)
            bar.refresh()

        report = run_build(
            sources,
            settings.store_target,
            reader=reader,
            shacl=settings.validate_shacl and not no_shacl,
            progress=progress,
            hints=hints,
            workers=settings.build_workers,
            force=force,
            record=record,
        )
        # a server may have been written by others (kg.build.build without this record): its
        # links are brought in step after every build
        if report.tables or report.index_pending or settings.remote:
            _index_after_build(settings, progress, full_links=force)
            index_done(record)
    return report


def _print_build(report: Any, settings: Settings) -> None:
    """Each table and library loaded with its counts, the warnings, and the total."""
    for t in report.tables:
        c = t.counts
        err.print(
            f"{t.file}: {t.parsed.table.department} {t.parsed.table.fiscal_year} "
            f"[{t.reader}] 指标 {c['indicators']}, 任务 {c['tasks']}, 目标 {c['goals']}, "
            f"不适用类别 {c['not_applicable']}, 警告 {c['warnings']}, 三元组 {c['triples']}",
            markup=False,
        )
    for lib in report.libraries:
        c = lib.counts
        err.print(
            f"{lib.file}: 指标库 {lib.parsed.title} 指标 {c['library_indicators']}, "
            f"警告 {c['warnings']}, 三元组 {c['triples']}",
            markup=False,
        )
    for w in report.warnings:
        _print_warning(w)
    err.print(_build_summary(report, settings.store_target), highlight=False)


def _build_summary(report: Any, target: Path | str) -> str:
    """The last line: tables (and libraries) written, and the unchanged tables not read again,
    which the store holds all the same."""
    n_tables, n_libs, n_same = len(report.tables), len(report.libraries), len(report.unchanged)
    zh = f"已将 {n_tables} 张表" + (f"和 {n_libs} 个指标库" if n_libs else "") + f"载入 {target}"
    en = (
        f"built {n_tables} table(s)"
        + (f" and {n_libs} indicator library(ies)" if n_libs else "")
        + f" into {target}"
    )
    if n_same:
        files, total = report.unchanged_files, n_tables + n_same
        zh += (
            f"；未变 {n_same} 张（{files} 个文件未改动，未重读），这些来源的 {total} 张表都在存储中"
        )
        en += (
            f"; {n_same} unchanged ({files} file(s) as built before, not read again): "
            f"all {total} table(s) of these sources are in the store"
        )
    return tr(zh, en)


def _index_after_build(settings: Settings, progress: Any, *, full_links: bool = False) -> None:
    """Bring the embedding index (and the similarity links: all of them with ``full_links``)
    in step with the new graph."""
    try:
        from embeddings import index_for_store
    except ImportError as exc:  # pragma: no cover - only without the embeddings extra
        err.print(
            tr(
                f"注意：未建向量索引（{exc}）；请安装 indicator-kg[embeddings]",
                f"note: embedding index not built ({exc}); install indicator-kg[embeddings]",
            ),
            markup=False,
        )
        _link_library(settings)
        return
    try:
        report = index_for_store(
            settings.store_target,
            settings.data_dir,
            settings,
            progress=progress,
            full_links=full_links,
        )
    except ImportError as exc:
        err.print(
            tr(f"注意：未建向量索引：{exc}", f"note: embedding index not built: {exc}"),
            markup=False,
        )
        _link_library(settings)
        return
    err.print(report.summary(), markup=False, highlight=False)
    _link_library(settings)


def _link_library(settings: Settings) -> None:
    """Link table indicators to the indicator libraries (apps.library), after the index."""

    report = link_library(settings.store_target, settings.data_dir, settings)
    err.print(report.summary(), markup=False, highlight=False)


def _open_store(settings: Settings):  # type: ignore[no-untyped-def]

    with _errors():
        store = GraphStore(
            settings.store_target, read_only=True, timeout_s=settings.store_timeout_s
        )
        if store.url is not None:
            store.ox.ping()  # type: ignore[attr-defined]
        return store


def _read_query(text: str) -> str:
    if text == "-":
        return sys.stdin.read()
    if text.startswith("@"):
        return Path(text[1:]).read_text(encoding="utf-8")
    return text


def _cell(term: Any) -> str:
    return "" if term is None else term.value if hasattr(term, "value") else str(term)


@app.command()
def query(
    sparql: Annotated[str, typer.Argument(help="a SPARQL query, @file.rq, or - for stdin")],
    format: Annotated[QueryFormat, typer.Option("--format", "-f")] = QueryFormat.table,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    store_url: StoreUrlOpt = None,
) -> None:
    """Run a read-only SPARQL query (prefixes ikg:, cat:, skos: … are predeclared)."""
    settings = _settings(data_dir, store, store_url)
    graph_store = _open_store(settings)
    text = _read_query(sparql)
    with _errors():  # refused from its parse (SERVICE, too deep or large …): exit 2
        checked = check_sparql(text, limits=SparqlLimits.from_settings(settings))
    text = checked.text  # the text that was checked (\u escapes expanded)
    # the query's own FROM / FROM NAMED make its dataset; else the union of every graph
    kwargs: dict[str, Any] = {"use_default_graph_as_union": not checked.has_dataset}
    if checked.calls("textSimilarity"):  # the similarity function needs the embedding index
        from api.sparql_functions import custom_functions

        index, _ = open_index(graph_store, settings.data_dir, settings)
        kwargs["custom_functions"] = custom_functions(index)
    try:
        with _errors():
            result = graph_store.query(text, **kwargs)
    except SyntaxError as exc:
        err.print(_error(f"{tr('SPARQL 语法错误', 'malformed SPARQL')}: {exc}"), highlight=False)
        raise typer.Exit(2) from exc
    except RemoteUnsupported as exc:
        err.print(_error(str(exc)), highlight=False)
        raise typer.Exit(2) from exc
    if isinstance(result, (bool, ox.QueryBoolean)):
        print("true" if result else "false")
        return
    if not hasattr(result, "variables"):  # CONSTRUCT / DESCRIBE (embedded or remote)
        sys.stdout.write(result.serialize(format=ox.RdfFormat.TURTLE).decode("utf-8"))
        return
    if format is QueryFormat.table:
        names = [v.value for v in result.variables]
        table = Table(*names, show_lines=False)
        n = 0
        for sol in result:
            table.add_row(*[_cell(sol[v]) for v in names])
            n += 1
        out.print(table)
        err.print(tr(f"共 {n} 行", f"{n} row(s)"))
        return
    fmt = ox.QueryResultsFormat.CSV if format is QueryFormat.csv else ox.QueryResultsFormat.JSON
    sys.stdout.write(result.serialize(format=fmt).decode("utf-8"))
    if format is QueryFormat.json:
        sys.stdout.write("\n")


@app.command("validate")
def validate_cmd(
    data_dir: DataDir = None, store: StoreOpt = None, store_url: StoreUrlOpt = None
) -> None:
    """Validate every table graph in the store against ontology/shapes.ttl."""

    settings = _settings(data_dir, store, store_url)
    graph_store = _open_store(settings)
    bad = 0
    graphs = list(table_graphs(graph_store))
    organisations = graph_store.graph(ORGANISATIONS_GRAPH)
    for g in graphs:
        ok, text = conforms(graph_store.graph(g) + organisations)
        if ok:
            err.print(f"{tr('通过', 'ok  ')} {g}", highlight=False)
        else:
            bad += 1
            err.print(f"{tr('不通过', 'FAIL')} {g}\n{text}", highlight=False)
    good = len(graphs) - bad
    err.print(
        tr(
            f"{good}/{len(graphs)} 个表图符合约束",
            f"{good}/{len(graphs)} table graph(s) conform",
        ),
        highlight=False,
    )
    _, dangling = graph_store.select(DANGLING_LINKS)
    for graph, link, indicator in dangling[:20]:
        err.print(
            tr(
                f"不通过 {graph}: {link} 指向不存在的指标 {indicator}",
                f"FAIL {graph}: {link} points to a missing indicator {indicator}",
            ),
            highlight=False,
        )
    err.print(
        tr(
            f"{len(dangling)} 条链接指向不存在的指标（相似关系、指标库链接）",
            f"{len(dangling)} link(s) to missing indicators (similarity, library links)",
        ),
        highlight=False,
    )
    if bad or dangling:
        raise typer.Exit(1)


STATS_QUERY = """
SELECT ?l1 ?l2 (COUNT(?i) AS ?n) WHERE {
  ?i a ikg:Indicator ; ikg:level1 ?c1 ; ikg:level2 ?c2 .
  ?c1 skos:prefLabel ?l1 . FILTER(lang(?l1) = "zh")
  ?c2 skos:prefLabel ?l2 . FILTER(lang(?l2) = "zh")
} GROUP BY ?l1 ?l2 ORDER BY ?l1 ?l2
"""


#: ikg stats: the text output's labels (the JSON keys stay as they are)
STATS_LABELS = {
    "tables": ("绩效目标表", "tables"),
    "departments": ("部门", "departments"),
    "fiscal_years": ("预算年度", "fiscal_years"),
    "units": ("预算单位", "units"),
    "tasks": ("任务", "tasks"),
    "goals": ("绩效目标", "goals"),
    "indicators": ("指标", "indicators"),
    "not_applicable_categories": ("不适用的指标类别", "not_applicable_categories"),
    "libraries": ("指标库", "libraries"),
    "library_indicators": ("指标库指标", "library_indicators"),
    "indicators_linked_to_library": ("关联到指标库的指标", "indicators_linked_to_library"),
    "triples": ("三元组", "triples"),
}
STATS_HEADER = (("一级指标", "level 1"), ("二级指标", "level 2"), ("指标数", "indicators"))


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal (CJK characters take two)."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


@app.command()
def stats(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    store: StoreOpt = None,
    store_url: StoreUrlOpt = None,
) -> None:
    """Counts: tables, departments, years, tasks, indicators per category, triples."""
    settings = _settings(data_dir, store, store_url)
    graph_store = _open_store(settings)

    def count(where: str) -> int:
        _, rows = graph_store.select(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}")
        return int(rows[0][0].toPython())  # type: ignore[union-attr]

    summary: dict[str, Any] = {
        "tables": count("?x a ikg:TargetTable"),
        "departments": count("?t ikg:department ?x"),
        "fiscal_years": count("?t ikg:fiscalYear ?x"),
        "units": count("?x a ikg:BudgetUnit"),
        "tasks": count("?x a ikg:Task"),
        "goals": count("?x a ikg:Goal"),
        "indicators": count("?x a ikg:Indicator"),
        "not_applicable_categories": count("?x a ikg:CategoryNotApplicable"),
        "libraries": count("?x a ikg:IndicatorLibrary"),
        "library_indicators": count("?x a ikg:LibraryIndicator"),
        "indicators_linked_to_library": count("?x ikg:matchesLibraryIndicator ?l"),
        "triples": len(graph_store),
    }
    _, rows = graph_store.select(STATS_QUERY)
    summary["indicators_by_category"] = [
        {"level1": str(r[0]), "level2": str(r[1]), "count": int(r[2].toPython())}
        for r in rows  # type: ignore[union-attr]
    ]
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    for key, value in summary.items():
        if key != "indicators_by_category":
            label = tr(*STATS_LABELS[key]) if key in STATS_LABELS else key
            out.print(f"{label}{' ' * max(1, 28 - _width(label))}{value}")
    table = Table(*(tr(*h) for h in STATS_HEADER))
    for r in summary["indicators_by_category"]:
        table.add_row(r["level1"], r["level2"], str(r["count"]))
    out.print(table)


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, max=64, help="API worker processes (each opens the store read-only)"
        ),
    ] = 1,
    store: StoreOpt = None,
    store_url: StoreUrlOpt = None,
    in_memory: Annotated[
        str | None,
        typer.Option(
            "--in-memory",
            help="auto|yes|no: query a copy of the embedded store held in memory (faster, "
            "RAM ~2.7x the store on disk per worker; auto: stores up to 512 MB on disk)",
        ),
    ] = None,
) -> None:
    """Serve the SPARQL endpoint, the JSON API and the web pages."""
    from api.server import serve as run

    settings = _serve_settings(_settings(data_dir, store, store_url), host, port, in_memory)
    _check_servable(settings, workers)
    run(settings, workers=workers)


def _serve_settings(
    settings: Settings, host: str | None, port: int | None, in_memory: str | None
) -> Settings:
    """The settings with --host, --port and --in-memory over them; exit 2 on a bad
    --in-memory."""
    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    if in_memory:
        if in_memory not in ("auto", "yes", "no"):
            err.print(
                _error(
                    tr(
                        f"--in-memory 只能是 auto、yes 或 no（收到 {in_memory!r}）",
                        f"--in-memory takes auto, yes or no (got {in_memory!r})",
                    )
                ),
                highlight=False,
            )
            raise typer.Exit(2)
        overrides["store_in_memory"] = in_memory
    if overrides:
        settings = settings.model_copy(update=overrides)
    return settings


def _check_servable(settings: Settings, workers: int) -> None:
    """Exit 2 without a store to serve, or with several workers writing to the embedded
    store; a remote store that does not answer is only warned about."""
    if settings.remote:
        try:
            RemoteStore(settings.store_url or "", timeout_s=5).ping()
        except RemoteStoreError as exc:  # serve anyway: the API answers 503 until it is back
            err.print(_warning(str(exc)), highlight=False)
    elif not settings.store_path.exists():
        err.print(
            _error(
                tr(
                    f"{settings.store_path} 没有图存储；请先运行 `ikg build`",
                    f"no graph store at {settings.store_path}; run `ikg build` first",
                )
            ),
            highlight=False,
        )
        raise typer.Exit(2)
    if workers > 1 and settings.sparql_allow_update and not settings.remote:
        err.print(
            _error(
                tr(
                    "--workers > 1 且设置了 IKG_SPARQL_ALLOW_UPDATE 时须用 Oxigraph 服务器存储"
                    "（内嵌存储只允许一个写入者）",
                    "--workers > 1 with IKG_SPARQL_ALLOW_UPDATE needs the Oxigraph "
                    "server store (the embedded store has one writer)",
                )
            )
        )
        raise typer.Exit(2)


def _register_optional_commands() -> None:

    app.command("review")(review)
    app.command("suggest")(suggest)
    app.command("search")(search)
    app.command("similar")(similar)
    app.command("duplicates")(duplicates)


_register_optional_commands()

if __name__ == "__main__":  # pragma: no cover
    app()
