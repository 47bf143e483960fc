"""The reviewer's first pass over performance target tables (``ikg review``).

    from kg.review import review_file, review_files
    report = review_file(Path("table.txt"))                    # one table
    report = review_files(paths, against=Path("data/build"))   # many, and against the store
    print(render(report, "markdown"))

Each :class:`~kg.review.findings.Finding` names the rule, its severity, the item
and its values as printed, the file and line, a Chinese message for the
department and, where clear, a fix. A file that cannot be read yields a
``parse-error`` finding instead of an exception. See ``docs/review.md`` for the
rules and the JSON schema (``kg/review/report.schema.json``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kg.errors import SourceError
from kg.readers import read_tables
from kg.records import ParsedTable

from . import coverage as coverage_mod
from .findings import (
    SECTIONS,
    SEVERITIES,
    FileSummary,
    Finding,
    ReviewReport,
    TableCoverage,
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
    from kg.store import GraphStore

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


def _others(against: Against) -> Callable[[], list[OtherIndicator]] | None:
    if against is None:
        return None
    if callable(against):
        return against
    if isinstance(against, (str, Path)):
        cache: list[list[OtherIndicator]] = []
        data_dir = Path(against)

        def load() -> list[OtherIndicator]:
            if not cache:
                cache.append(load_other_indicators(data_dir))
            return cache[0]

        return load
    items = list(against)
    return lambda: items


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


def review_files(
    paths: Iterable[Path | str],
    against: Against = None,
    *,
    reader: str | None = None,
    similarity: Similarity | None = None,
    align: Aligner = lexical_alignment,
    scorer: EmbeddingScorer | bool | None = True,
) -> ReviewReport:
    """Review each file; a file that cannot be read becomes a ``parse-error`` finding.

    ``against``: a data directory (its store's indicators of *other* departments are compared
    for ``duplicate-across-departments``), or the indicators themselves, or None.
    Duplicates are scored by the embedding scorer of ``ikg duplicates`` when the embeddings
    extra is installed (``scorer=True``, the default; pass an :class:`EmbeddingScorer` to
    choose one, ``False`` for the lexical measure); passing a ``similarity`` uses that measure
    instead. ``align`` replaces the lexical task alignment (see :mod:`kg.review.similarity`).
    """
    chosen_scorer: EmbeddingScorer | None = None
    if similarity is None and scorer is True:
        chosen_scorer = embedding_scorer(
            Path(against) if isinstance(against, (str, Path)) else None
        )
    elif similarity is None and isinstance(scorer, EmbeddingScorer):
        chosen_scorer = scorer
    ctx = Context(
        similarity=similarity or lexical_similarity,
        align=align,
        others=_others(against),
        scorer=chosen_scorer,
    )
    lines = _Lines()
    files: list[FileSummary] = []
    findings: list[Finding] = []
    coverages: list[TableCoverage] = []
    order: dict[str, int] = {}
    for p in paths:
        path = Path(p)
        order.setdefault(str(path), len(order))
        try:
            chosen, tables = read_tables(path, reader)
        except SourceError as exc:
            where = f"第{exc.line}行：" if exc.line else ""
            findings.append(
                Finding(
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
            )
            files.append(FileSummary(file=str(path), parsed=False))
            continue
        for parsed in tables:  # one per project when the file lists several
            table_findings, table_cov = review_table(parsed, ctx)
            for f in table_findings:
                f.source_text = lines.excerpt(f.file, f.line, f.end_line)
                order.setdefault(f.file, order[str(path)])
            findings.extend(table_findings)
            coverages.append(table_cov)
        t = tables[0].table
        files.append(
            FileSummary(
                file=str(path),
                parsed=True,
                reader=chosen.name,
                title=t.title,
                department=t.department,
                fiscal_year=t.fiscal_year,
                indicators=sum(len(p.indicators) for p in tables),
                tasks=sum(len(p.tasks) for p in tables),
                projects=[p.table.project_name or "" for p in tables] if len(tables) > 1 else [],
            )
        )
    findings.sort(key=_sort_key(order))
    for fs in files:
        mine = [f for f in findings if order.get(f.file) == order[fs.file]]
        fs.counts = {s: sum(f.severity == s for f in mine) for s in SEVERITIES}
    return ReviewReport(
        files=files,
        findings=findings,
        coverage=coverages,
        summary=summarize(findings),
        rules=rule_infos(),
    )


def review_file(
    path: Path | str,
    against: Against = None,
    *,
    reader: str | None = None,
    similarity: Similarity | None = None,
    align: Aligner = lexical_alignment,
    scorer: EmbeddingScorer | bool | None = True,
) -> ReviewReport:
    """Review one table file; see :func:`review_files`."""
    return review_files(
        [path], against, reader=reader, similarity=similarity, align=align, scorer=scorer
    )


# re-exported for callers that build their own matrix
compute_coverage = coverage_mod.compute
