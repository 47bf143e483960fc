"""The reviewer's first pass over performance target tables (``ikg review``).

    from apps.review import review_file, review_files
    report = review_file(Path("table.txt"))                    # one table
    report = review_files(paths, against=Path("data/build"))   # many, and against the store
    print(render(report, "markdown"))

Each :class:`~apps.review.findings.Finding` names the rule, its severity, the item
and its values as printed, the file and line, a Chinese message for the
department and, where clear, a fix. A file that cannot be read yields a
``parse-error`` finding instead of an exception. See ``docs/review.md`` for the
rules and the JSON schema (``apps/review/report.schema.json``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kg.errors import SourceError
from kg.readers import read_tables
from kg.records import ParsedTable
from kg.sources import classify_sources
from kg.store import GraphStore

from . import coverage as coverage_mod
from . import crossyear
from .findings import (
    SECTIONS,
    SEVERITIES,
    AgainstInfo,
    Comparison,
    FileSummary,
    Finding,
    ReviewReport,
    TableCoverage,
    TableSummary,
    summarize,
)
from .render import render
from .rules import RULES, Context, OtherIndicator, rule_infos, run_rules
from .similarity import (
    Aligner,
    EmbeddingScorer,
    Similarity,
    embedding_scorer,
    lexical_alignment,
    lexical_similarity,
)

if TYPE_CHECKING:
    from kg.settings import Settings
    from kg.store import GraphStore

__all__ = [
    "RULES",
    "Context",
    "Finding",
    "OtherIndicator",
    "ReviewReport",
    "load_other_indicators",
    "others_in_store",
    "render",
    "review_file",
    "review_files",
    "review_table",
    "store_path",
]

Against = Path | str | Callable[[], list[OtherIndicator]] | Sequence[OtherIndicator] | None

#: The SPARQL that reads every indicator of the store with its department (``--against``).
OTHERS_QUERY = """
SELECT ?name ?target ?department ?year ?file ?line ?level2 WHERE {
  ?i a ikg:Indicator ; ikg:name ?name ; ikg:level2 ?level2 ; ikg:inTable ?t .
  ?t ikg:department/ikg:name ?department .
  OPTIONAL { ?t ikg:fiscalYear ?year }
  OPTIONAL { ?i ikg:target/ikg:rawText ?target }
  OPTIONAL { ?i ikg:sourceFile ?file }
  OPTIONAL { ?i ikg:sourceLine ?line }
}
"""


def store_path(data_dir: Path) -> Path:
    """The graph store under a data directory (``DATA_DIR/store``, as ``ikg build`` makes it);
    a path that is itself the store is taken as it is."""
    return data_dir / "store" if (data_dir / "store").is_dir() else data_dir


def load_other_indicators(data_dir: Path) -> list[OtherIndicator]:
    """Every indicator in the store at ``data_dir`` (all departments; rules filter their own).

    Raises FileNotFoundError when there is no store there."""

    path = store_path(data_dir)
    if not path.exists():
        raise FileNotFoundError(
            f"no graph store at {path}; run `ikg build --data-dir {data_dir}` first"
        )
    store = GraphStore(path, read_only=True)
    try:
        return others_in_store(store)
    finally:
        store.close()


def others_in_store(store: GraphStore) -> list[OtherIndicator]:
    """Every indicator in an open store, as the cross-department rules read them."""
    _, rows = store.select(OTHERS_QUERY)
    return [
        OtherIndicator(
            name=str(name),
            target="" if target is None else str(target),
            department=str(dept),
            fiscal_year=None if year is None else int(str(year)),
            file="" if file is None else str(file),
            line=None if line is None else int(str(line)),
            concept=str(level2).rsplit("/", 1)[-1],
        )
        for name, target, dept, year, file, line, level2 in rows
    ]


def is_store(path: Path) -> bool:
    """A data directory with a built store (``DATA_DIR/store``) or the store itself."""
    return (path / "store").is_dir() or (path / "CURRENT").is_file()


def others_of_tables(tables: Iterable[ParsedTable]) -> list[OtherIndicator]:
    """The indicators of parsed tables as the cross-department rule reads them."""
    out = []
    for parsed in tables:
        t = parsed.table
        for ind in parsed.indicators:
            out.append(
                OtherIndicator(
                    name=ind.name,
                    target=ind.target,
                    department=t.department,
                    fiscal_year=t.fiscal_year,
                    file=ind.source.file,
                    line=ind.source.line,
                    concept=coverage_mod.concept_id(ind.level2, 2, t.category_scheme) or "",
                )
            )
    return out


def read_table_folder(path: Path, reader: str | None = None) -> list[ParsedTable]:
    """Every table under a folder (or in one file); unreadable files and libraries are skipped."""

    out: list[ParsedTable] = []
    for p in classify_sources([path], reader).tables:
        try:
            out.extend(read_tables(p, reader)[1])
        except SourceError:
            continue
    return out


class _Against:
    """What ``--against`` holds, loaded once: the store's (or folder's) indicators and tables."""

    def __init__(self, against: Against, reader: str | None = None) -> None:
        self.source: str | None = None
        self._others: Callable[[], list[OtherIndicator]] | None = None
        self._priors: list[crossyear.PriorTable] | None = None
        self._folder: list[ParsedTable] | None = None
        self._path: Path | None = None
        self._reader = reader
        if against is None:
            return
        if callable(against):
            self._others = against
            self.source = "indicators"
            return
        if isinstance(against, (str, Path)):
            self._path = Path(against)
            self.source = str(against)
            self._others = self._load_others
            return
        items = list(against)
        self._others = lambda: items
        self.source = "indicators"

    @property
    def has_tables(self) -> bool:
        """A store or a folder: earlier tables for the cross-year rules (a list has none)."""
        return self._path is not None

    @property
    def is_store(self) -> bool:
        return self._path is not None and is_store(self._path)

    def _folder_tables(self) -> list[ParsedTable]:
        if self._folder is None:
            assert self._path is not None
            self._folder = read_table_folder(self._path, self._reader)
        return self._folder

    def _load_others(self) -> list[OtherIndicator]:
        if not hasattr(self, "_others_cache"):
            assert self._path is not None
            if self.is_store or not self._path.exists():
                self._others_cache = load_other_indicators(self._path)
            else:
                self._others_cache = others_of_tables(self._folder_tables())
        return self._others_cache

    def others(self) -> Callable[[], list[OtherIndicator]] | None:
        return self._others

    def priors(self) -> list[crossyear.PriorTable]:
        """The earlier tables --against holds (none for a plain list of indicators)."""
        if self._priors is None:
            if self._path is None:
                self._priors = []
            elif self.is_store:
                self._priors = load_prior_tables(self._path)
            else:
                self._priors = crossyear.priors_of_tables(self._folder_tables())
        return self._priors


def load_prior_tables(data_dir: Path) -> list[crossyear.PriorTable]:
    """Every table in the store at ``data_dir`` with its indicators (the cross-year rules)."""

    store = GraphStore(store_path(data_dir), read_only=True)
    try:
        return crossyear.priors_in_store(store.select)  # type: ignore[arg-type]
    finally:
        store.close()


# --------------------------------------------------------------------------- source lines

_MAX_EXCERPT_LINES = 8


class _Lines:
    """Source files' lines, read once, for the excerpts shown with each finding."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str] | None] = {}

    def get(self, file: str) -> list[str] | None:
        if file not in self._cache:
            try:
                data = Path(file).read_bytes()
                self._cache[file] = (
                    None if b"\x00" in data[:8192] else data.decode("utf-8-sig").splitlines()
                )
            except (OSError, UnicodeDecodeError):
                self._cache[file] = None
        return self._cache[file]

    def excerpt(self, file: str, line: int | None, end_line: int | None) -> str | None:
        lines = self.get(file)
        if lines is None or line is None or line > len(lines):
            return None
        chunk = [s.rstrip() for s in lines[line - 1 : (end_line or line)] if s.strip()]
        if len(chunk) > _MAX_EXCERPT_LINES:
            chunk = [*chunk[: _MAX_EXCERPT_LINES - 1], "…"]
        return "\n".join(chunk) or None


# --------------------------------------------------------------------------- review


def review_table(
    parsed: ParsedTable, ctx: Context | None = None
) -> tuple[list[Finding], TableCoverage]:
    """Findings and the coverage matrix of an already parsed table (no source excerpts)."""
    ctx = ctx or Context()
    return run_rules(parsed, ctx), ctx.coverage(parsed).table


def _sort_key(order: dict[str, int]) -> Callable[[Finding], tuple[int, int, int, int]]:
    sections = {s: k for k, s in enumerate(SECTIONS)}
    rules = {r: k for k, r in enumerate(RULES)}
    return lambda f: (order.get(f.file, 0), sections[f.section], f.line or 0, rules.get(f.rule, 99))


Progress = Callable[[int, int, str], None]

#: Rules counted as "vague" and "duplicate" in the batch summary.
_VAGUE_RULES = frozenset(("vague-target", "vague-name"))
_DUPLICATE_RULES = frozenset(("duplicate-in-table", "duplicate-across-departments"))


def review_files(
    paths: Iterable[Path | str],
    against: Against = None,
    *,
    reader: str | None = None,
    similarity: Similarity | None = None,
    align: Aligner = lexical_alignment,
    scorer: EmbeddingScorer | bool | None = True,
    earlier: Sequence[ParsedTable | crossyear.PriorTable] | None = None,
    compare_batch: bool = True,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> ReviewReport:
    """Review each file; a file that cannot be read becomes a ``parse-error`` finding.

    ``against``: a data directory with a built store, or a folder (or file) of tables —
    its indicators of *other* departments are compared for ``duplicate-across-departments``
    and its tables of the *same* department in earlier years for the cross-year rules
    (``target-lowered`` …) — or a list of :class:`OtherIndicator`, or None.
    ``earlier``: more earlier tables for the cross-year rules; with ``compare_batch`` (the
    default) the files reviewed are compared with one another too (a folder holding a
    department's 2023 and 2024 tables compares 2024 with 2023).
    Duplicates are scored by the embedding scorer of ``ikg duplicates`` when the embeddings
    extra is installed (``scorer=True``, the default; pass an :class:`EmbeddingScorer` to
    choose one, ``False`` for the lexical measure); passing a ``similarity`` uses that measure
    instead (and for matching indicators across years; lexical otherwise). ``align`` replaces
    the lexical task alignment (see :mod:`apps.review.similarity`). ``progress(done, total,
    file)`` is called after each file. ``settings`` choose the embedding scorer's model (the
    default model without them).
    """
    paths = [Path(p) for p in paths]
    ag = _Against(against, reader)
    chosen_scorer = _chosen_scorer(against, ag, similarity, scorer, settings)
    # read every file first: the batch's own tables are earlier tables of one another
    readings = _read_all(paths, reader)
    batch = [p for _, _, r in readings if isinstance(r, list) for p in r]
    extra = [
        e if isinstance(e, crossyear.PriorTable) else crossyear.prior_of(e) for e in earlier or []
    ]
    ctx = Context(
        similarity=similarity or lexical_similarity,
        align=align,
        others=ag.others(),
        scorer=chosen_scorer,
        priors=_priors(ag, extra, batch, compare_batch),
    )
    out = _Collected()
    for done, (path, chosen, result) in enumerate(readings, 1):
        out.order.setdefault(str(path), len(out.order))
        if isinstance(result, SourceError):
            out.findings.append(_parse_error(path, result))
            out.files.append(FileSummary(file=str(path), parsed=False))
        else:
            out.add_file(path, chosen, result, ctx)
        if progress:
            progress(done, len(readings), str(path))
    against_info = _against_info(ag, extra, batch, compare_batch) if ctx.priors else None
    return out.report(against_info)


Reading = tuple[Path, object, list[ParsedTable] | SourceError]


def _chosen_scorer(
    against: Against,
    ag: _Against,
    similarity: Similarity | None,
    scorer: EmbeddingScorer | bool | None,
    settings: Settings | None = None,
) -> EmbeddingScorer | None:
    """The embedding scorer of the duplicate rules: None when a ``similarity`` is given or
    ``scorer`` is false; the store's scorer for ``scorer=True``."""
    if similarity is None and scorer is True:
        return embedding_scorer(
            Path(against) if isinstance(against, (str, Path)) and ag.is_store else None, settings
        )
    if similarity is None and isinstance(scorer, EmbeddingScorer):
        return scorer
    return None


def _read_all(paths: list[Path], reader: str | None) -> list[Reading]:
    """Each file's reader and tables, or the error that it could not be read."""
    readings: list[Reading] = []
    for path in paths:
        try:
            chosen, tables = read_tables(path, reader)
            readings.append((path, chosen, tables))
        except SourceError as exc:
            readings.append((path, None, exc))
    return readings


def _priors(
    ag: _Against,
    extra: list[crossyear.PriorTable],
    batch: list[ParsedTable],
    compare_batch: bool,
) -> Callable[[], list[crossyear.PriorTable]] | None:
    """The earlier tables of the cross-year rules (--against's, ``earlier``, the batch's
    own), gathered on first use; None when there are none to gather."""
    if not (ag.has_tables or extra or (compare_batch and len(batch) > 1)):
        return None
    prior_cache: list[list[crossyear.PriorTable]] = []

    def priors() -> list[crossyear.PriorTable]:
        if not prior_cache:
            own = crossyear.priors_of_tables(batch) if compare_batch and len(batch) > 1 else []
            prior_cache.append(_unique([*ag.priors(), *extra, *own]))
        return prior_cache[0]

    return priors


def _parse_error(path: Path, exc: SourceError) -> Finding:
    """The ``parse-error`` finding of a file that cannot be read."""
    where = f"第{exc.line}行：" if exc.line else ""
    return Finding(
        rule="parse-error",
        severity="error",
        section="parse",
        item_kind="file",
        item_name=path.name,
        file=str(path),
        line=exc.line,
        message_zh=f"文件无法作为绩效目标表读取（{where}{exc.message}）；请检查文件格式或重新导出后再提交。",
        fix_zh=None,
        values={},
    )


def _file_summary(path: Path, chosen: object, tables: list[ParsedTable]) -> FileSummary:
    """A file read: its reader, the first table's title, department and year, the counts."""
    t = tables[0].table
    return FileSummary(
        file=str(path),
        parsed=True,
        reader=getattr(chosen, "name", None),
        title=t.title,
        department=t.department,
        fiscal_year=t.fiscal_year,
        indicators=sum(len(p.indicators) for p in tables),
        tasks=sum(len(p.tasks) for p in tables),
        projects=[p.table.project_name or "" for p in tables] if len(tables) > 1 else [],
    )


@dataclass
class _Collected:
    """What the review of several files gathers, file by file."""

    lines: _Lines = field(default_factory=_Lines)
    files: list[FileSummary] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    coverages: list[TableCoverage] = field(default_factory=list)
    table_rows: list[TableSummary] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    #: file → the position of the file given that holds it (a CSV's findings under the CSV)
    order: dict[str, int] = field(default_factory=dict)

    def add_file(self, path: Path, chosen: object, tables: list[ParsedTable], ctx: Context) -> None:
        """The findings (with their source lines), coverage and summaries of a file's tables."""
        for parsed in tables:  # one per project when the file lists several
            table_findings, table_cov = review_table(parsed, ctx)
            for f in table_findings:
                f.source_text = self.lines.excerpt(f.file, f.line, f.end_line)
                if f.file != str(path):
                    f.input_file = str(path)
                self.order.setdefault(f.file, self.order[str(path)])
            self.findings.extend(table_findings)
            self.coverages.append(table_cov)
            self.table_rows.append(_table_summary(path, parsed, table_findings, ctx))
            comp = ctx.comparison(parsed)
            if comp is not None:
                self.comparisons.append(_comparison(path, parsed, comp))
        self.files.append(_file_summary(path, chosen, tables))

    def report(self, against: AgainstInfo | None) -> ReviewReport:
        """The report: findings in file, section and line order, counts per file, the tables
        most in need of attention first."""
        findings, order = self.findings, self.order
        findings.sort(key=_sort_key(order))
        for fs in self.files:
            mine = [
                f
                for f in findings
                if (f.input_file or f.file) == fs.file
                or (f.input_file is None and order.get(f.file) == order[fs.file])
            ]
            fs.counts = {s: sum(f.severity == s for f in mine) for s in SEVERITIES}
        self.table_rows.sort(key=_attention)
        return ReviewReport(
            files=self.files,
            findings=findings,
            coverage=self.coverages,
            summary=summarize(findings),
            rules=rule_infos(),
            tables=self.table_rows,
            against=against,
            comparisons=self.comparisons,
        )


def _table_summary(
    path: Path, parsed: ParsedTable, findings: list[Finding], ctx: Context
) -> TableSummary:
    t = parsed.table
    n = len(parsed.indicators)
    lines_of = lambda rules: {  # noqa: E731 - indicators counted once however many rules
        (f.file, f.line) for f in findings if f.rule in rules and f.item_kind == "indicator"
    }
    comp = ctx.comparison(parsed)
    return TableSummary(
        file=str(path),
        title=t.title,
        department=t.department,
        fiscal_year=t.fiscal_year,
        project=t.project_name,
        indicators=n,
        counts={s: sum(f.severity == s for f in findings) for s in SEVERITIES},
        vague_share=round(len(lines_of(_VAGUE_RULES)) / n, 3) if n else 0.0,
        duplicate_share=round(len(lines_of(_DUPLICATE_RULES)) / n, 3) if n else 0.0,
        cross_year=sum(f.section == "history" for f in findings),
        compared_with=comp.prior.file
        if comp and comp.status == "compared" and comp.prior
        else None,
    )


def _attention(t: TableSummary) -> tuple[int, int, int, float, str, str]:
    """Most errors first, then warnings, cross-year changes, vague share."""
    return (
        -t.counts.get("error", 0),
        -t.counts.get("warning", 0),
        -t.cross_year,
        -t.vague_share,
        t.department,
        t.file,
    )


def _comparison(path: Path, parsed: ParsedTable, c: crossyear.Comparison) -> Comparison:
    t = parsed.table
    return Comparison(
        file=str(path),
        title=t.title,
        department=t.department,
        fiscal_year=t.fiscal_year,
        status=c.status,
        earlier_tables=c.candidates,
        prior_title=c.prior.title if c.prior else None,
        prior_year=c.prior.fiscal_year if c.prior else None,
        prior_file=c.prior.file if c.prior else None,
        matched=len(c.pairs),
        dropped=len(c.dropped),
        identical=c.identical,
    )


def _unique(tables: list[crossyear.PriorTable]) -> list[crossyear.PriorTable]:
    """Each table once (a folder given to --against may hold the files under review)."""
    seen: set[tuple[str, int | None, str, str, int | None]] = set()
    out = []
    for t in tables:
        key = (Path(t.file).name, t.line, t.title, t.department, t.fiscal_year)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def _against_info(
    ag: _Against,
    extra: list[crossyear.PriorTable],
    batch: list[ParsedTable],
    compare_batch: bool,
) -> AgainstInfo:
    tables = [*ag.priors(), *extra]
    sources = [ag.source] if ag.has_tables and ag.source else []
    if extra:
        sources.append("earlier")
    if compare_batch and len(batch) > 1:  # one table alone is compared with nothing of its own
        sources.append("batch")
        tables += crossyear.priors_of_tables(batch)
    tables = _unique(tables)
    return AgainstInfo(
        sources=sources,
        tables=len(tables),
        departments=len({t.department for t in tables}),
        years=sorted({t.fiscal_year for t in tables if t.fiscal_year is not None}),
        indicators=sum(len(t.indicators) for t in tables),
    )


def review_file(
    path: Path | str,
    against: Against = None,
    *,
    reader: str | None = None,
    similarity: Similarity | None = None,
    align: Aligner = lexical_alignment,
    scorer: EmbeddingScorer | bool | None = True,
    earlier: Sequence[ParsedTable | crossyear.PriorTable] | None = None,
    settings: Settings | None = None,
) -> ReviewReport:
    """Review one table file; see :func:`review_files`."""
    return review_files(
        [path],
        against,
        reader=reader,
        similarity=similarity,
        align=align,
        scorer=scorer,
        earlier=earlier,
        settings=settings,
    )


# re-exported for callers that build their own matrix
compute_coverage = coverage_mod.compute
