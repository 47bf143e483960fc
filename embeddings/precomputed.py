"""Reports the build computes once, saved beside the index and read by the API.

``ikg build`` already sweeps the whole index for duplicates (:func:`embeddings.links.write_links`
scores every candidate pair at the review threshold). :func:`save_duplicates` keeps that
report in the index folder::

    DATA_DIR/embeddings/index/precomputed/duplicates-<key>.pickle

``<key>`` is derived from the fingerprint of what the index was built from (every indicator URI
with its embedded text, the model, the recipe) and the 共性指标 settings the report was made
with, so a report is never read for another graph or other settings: a rebuilt index has
another fingerprint, and the old file is simply not found (the last few are kept, older ones
pruned). The file is written by the build in the project's own data directory (a temporary
file renamed into place), and read only from there.

:func:`answer_duplicates` answers a listing request (scope, threshold, band) from a saved
report whose threshold is at or below the request's and whose bands include the requested
ones. When the saved report listed every passing pair (small graphs: ``pairs_total`` pairs
listed) the clusters are recomputed from the filtered pairs exactly as
:func:`~embeddings.duplicates.find_duplicates` would; when it listed the best pairs per
indicator only (large graphs), its clusters are filtered instead (``approximate`` is True).
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._optional import require
from .corpus import fingerprint
from .duplicates import (
    COMMON_MIN_DEPARTMENTS,
    COMMON_SHARE,
    Cluster,
    DuplicatePair,
    DuplicateReport,
    KnownGroups,
    _clusters,
    _threshold_of,
    scope_of,
    shown_bands,
)
from .files import write_pickle
from .index import index_dir
from .text import IndicatorText

if TYPE_CHECKING:
    from kg.settings import Settings

    from .index import IndicatorIndex

log = logging.getLogger(__name__)

PRECOMPUTED_DIR = "precomputed"
#: saved reports kept per index folder (the newest); older ones are pruned on save
KEEP_REPORTS = 3
#: part of the key: raised when the report's content or the scorer's bands change, so a report
#: saved before is not read (2: the wording equivalences of embeddings.residues)
FORMAT = 2


def index_fingerprint(index: IndicatorIndex) -> str:
    """The fingerprint the index was saved with, or computed from its indicators."""
    saved = index.vectors.meta.get("fingerprint")
    return str(saved) if saved else fingerprint(index.items, index.model_id, index.recipe)


def report_key(index: IndicatorIndex, common_share: float, common_min_departments: int) -> str:
    raw = f"{FORMAT}|{index_fingerprint(index)}|{common_share!r}|{common_min_departments}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def report_path(
    index_folder: Path,
    index: IndicatorIndex,
    common_share: float = COMMON_SHARE,
    common_min_departments: int = COMMON_MIN_DEPARTMENTS,
) -> Path:
    key = report_key(index, common_share, common_min_departments)
    return index_folder / PRECOMPUTED_DIR / f"duplicates-{key}.pickle"


def save_duplicates(
    index: IndicatorIndex,
    report: DuplicateReport,
    settings: Settings | None,
    *,
    tables: set[str] | None = None,
) -> Path | None:
    """Save ``report`` for ``index`` in the data directory's index folder (None: no settings,
    nowhere to save). A failure to write is logged, never raised: the API then computes.
    ``tables``: the tables the report covers (default: every table of the index), for
    :func:`merge_delta`."""
    if settings is None:
        return None
    report.tables = frozenset(tables or {it.table for it in index.items})  # type: ignore[attr-defined]
    path = report_path(
        index_dir(Path(settings.data_dir)),
        index,
        report.common_share,
        report.common_min_departments,
    )
    try:
        write_pickle(path, report, _ReportPickler)
        _prune(path.parent, keep=path)
    except OSError as exc:
        log.warning("precomputed duplicates not saved at %s: %s", path, exc)
        return None
    return path


def merge_delta(
    index: IndicatorIndex,
    delta: DuplicateReport,
    changed: set[str],
    settings: Settings | None,
) -> Path | None:
    """After links were added for the indicators ``changed`` (the tables a build replaced;
    :func:`embeddings.links.write_links`), save the report of the index before it, with the
    pairs of ``changed`` replaced by ``delta``'s and the clusters made again, for this index.

    Only when the newest saved report was made for every table of the index but those that
    changed (``tables``, set on save), with the same model and settings; otherwise nothing is
    saved and the API computes its listing when asked. None when nothing was saved."""
    if settings is None:
        return None
    folder = index_dir(Path(settings.data_dir)) / PRECOMPUTED_DIR
    old = _newest(folder, index)
    tables = {it.table for it in index.items}
    unchanged = {it.table for it in index.items if it.id not in changed}
    if (
        old is None
        or old.model_id != index.model_id
        or abs(old.threshold - delta.threshold) > 1e-12
        or (old.common_share, old.common_min_departments)
        != (delta.common_share, delta.common_min_departments)
        or not unchanged <= getattr(old, "tables", frozenset())
    ):
        return None
    by_id = index.by_id
    kept, touched = [], {by_id[i] for i in changed if i in by_id}
    for p in old.pairs:
        if p.a.id in by_id and p.b.id in by_id and p.a.id not in changed and p.b.id not in changed:
            kept.append(p)
        else:  # a pair dropped: the component of its other end changes
            touched.update(by_id[e] for e in (p.a.id, p.b.id) if e in by_id)
    touched.update(by_id[e] for p in delta.pairs for e in (p.a.id, p.b.id))
    pairs = [replace(p, cluster=None) for p in kept + delta.pairs]
    listed = old.listed_per_indicator
    known = KnownGroups.of(index, old.clusters, touched)  # the untouched clusters as they were
    clusters = _clusters_of(
        index, pairs, delta.threshold, keep_unlisted=listed is not None, known=known
    )
    pairs.sort(key=lambda p: (p.scope != "within-table", -p.score.score))
    merged = replace(old, pairs=pairs, clusters=clusters, pairs_total=len(pairs))
    merged.departments = len({it.department for it in index.items})
    return save_duplicates(index, merged, settings, tables=tables)


def _clusters_of(
    index: IndicatorIndex, pairs: list[DuplicatePair], t: float, **kw: Any
) -> list[Cluster]:
    """The clusters of ``pairs`` (their ends as the index's rows; ``kw``: see _clusters)."""
    np = require("numpy")
    by_id = index.by_id
    pi = np.fromiter((by_id[p.a.id] for p in pairs), dtype=np.int64, count=len(pairs))
    pj = np.fromiter((by_id[p.b.id] for p in pairs), dtype=np.int64, count=len(pairs))
    ps = np.fromiter((p.score.score for p in pairs), dtype=np.float64, count=len(pairs))
    return _clusters(index, pi, pj, ps, pairs, t, **kw)


def _newest(folder: Path, index: IndicatorIndex) -> DuplicateReport | None:
    """The most recently saved report in ``folder``, or None (its indicators that ``index``
    no longer holds as bare ids: see :func:`_read`)."""
    files = sorted(folder.glob("duplicates-*.pickle"), key=lambda p: p.stat().st_mtime)
    if not files:
        return None
    try:
        report = _read(files[-1], index, missing_ok=True)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None
    return report if isinstance(report, DuplicateReport) else None


class _ReportPickler(pickle.Pickler):
    """Pickles a report's indicators by id: the index holds them already (a copy of every
    indicator a report names is up to the whole store, about a gigabyte at 1M indicators,
    made again by each server worker that loads it)."""

    def persistent_id(self, obj: Any) -> Any:
        return ("indicator", obj.id) if isinstance(obj, IndicatorText) else None


class _ReportUnpickler(pickle.Unpickler):
    """Reads :class:`_ReportPickler`'s ids back as the index's own indicators."""

    def __init__(self, fh: Any, index: IndicatorIndex, missing_ok: bool) -> None:
        super().__init__(fh)
        self.items, self.by_id, self.missing_ok = index.items, index.by_id, missing_ok

    def persistent_load(self, pid: Any) -> Any:
        kind, key = pid
        n = self.by_id.get(key) if kind == "indicator" else None
        if n is not None:
            return self.items[n]
        if kind == "indicator" and self.missing_ok:  # gone since: only its id is read
            return IndicatorText(id=key, name="")
        raise pickle.UnpicklingError(f"indicator {key} is not in the index")


def _read(path: Path, index: IndicatorIndex, missing_ok: bool = False) -> Any:
    """A saved report, its indicators the index's (reports of older releases hold copies);
    ``missing_ok``: an indicator the index lacks is read as its id alone, else refused."""
    with path.open("rb") as fh:  # written by the build in this data directory
        return _ReportUnpickler(fh, index, missing_ok).load()


def _prune(folder: Path, keep: Path) -> None:
    old = sorted(
        (p for p in folder.glob("duplicates-*.pickle") if p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for p in old[KEEP_REPORTS - 1 :]:
        p.unlink(missing_ok=True)


def load_duplicates(
    index_folder: Path,
    index: IndicatorIndex,
    common_share: float = COMMON_SHARE,
    common_min_departments: int = COMMON_MIN_DEPARTMENTS,
) -> DuplicateReport | None:
    """The report saved for exactly this index and these settings, or None."""
    path = report_path(index_folder, index, common_share, common_min_departments)
    try:
        report = _read(path, index)
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
        log.warning("precomputed duplicates at %s unreadable: %s", path, exc)
        return None
    if not isinstance(report, DuplicateReport) or report.model_id != index.model_id:
        return None
    return report


def covers(
    saved: DuplicateReport, index: IndicatorIndex, threshold: float | None, band: str | None
) -> bool:
    """Whether a listing at (threshold, band) is a subset of what ``saved`` passed."""
    bands = shown_bands(index.profile, band, threshold)  # type: ignore[arg-type]
    t = min(_threshold_of(index.profile, b) for b in bands) if threshold is None else threshold
    return t >= saved.threshold - 1e-12 and set(bands) <= set(saved.shown_bands)


def answer_duplicates(
    saved: DuplicateReport,
    index: IndicatorIndex,
    scope: str,
    threshold: float | None,
    band: str | None,
) -> DuplicateReport:
    """The listing at (scope, threshold, band) read from ``saved`` (see :func:`covers`)."""
    prof = index.profile
    bands = shown_bands(prof, band, threshold)  # type: ignore[arg-type]
    t = min(_threshold_of(prof, b) for b in bands) if threshold is None else threshold
    keep = [
        p
        for p in saved.pairs
        if p.score.score >= t
        and p.score.band in bands
        and (scope == "all" or scope_of(p.a, p.b) == scope)
    ]
    complete = saved.pairs_total == len(saved.pairs)
    pairs = [replace(p, cluster=None) for p in keep]
    if complete:
        clusters = _clusters_of(index, pairs, t, keep_unlisted=False)
        total, listed = len(pairs), None
    else:
        clusters = _filter_clusters(saved.clusters, pairs, t, prof.t_duplicate, scope)
        total, listed = len(pairs), saved.listed_per_indicator
    pairs.sort(key=lambda p: (p.scope != "within-table", -p.score.score))
    out = replace(
        saved,
        pairs=pairs,
        clusters=clusters,
        threshold=t,
        pairs_total=total,
        listed_per_indicator=listed,
        shown_bands=bands,
    )
    out.precomputed = True  # type: ignore[attr-defined]  # said in the API's answer
    return out


def _filter_clusters(
    clusters: list[Cluster], pairs: list[DuplicatePair], t: float, t_dup: float, scope: str
) -> list[Cluster]:
    """The saved clusters narrowed to the passing pairs: a cluster whose weakest pair passes
    stays whole; another keeps the members its passing pairs join (when at least two)."""
    by_key = {(p.a.id, p.b.id): p for p in pairs}
    out: list[Cluster] = []
    for c in clusters:
        mine = [by_key[k] for k in ((p.a.id, p.b.id) for p in c.pairs) if k in by_key]
        whole = c.min_similarity >= t and (scope == "all" or c.scopes <= {scope})
        if whole:
            members = c.members
        else:
            ids = {x for p in mine for x in (p.a.id, p.b.id)}
            members = [m for m in c.members if m.id in ids]
        if len(members) < 2:
            continue
        mn = c.min_similarity if whole else min(p.score.score for p in mine)
        labels = {p.label for p in mine}
        label = next(
            (
                x
                for x in ("suspected duplicate", "review", "common indicator", "related")
                if x in labels
            ),
            "suspected duplicate" if mn >= t_dup else "review",
        )
        scopes = {p.scope for p in mine} or set(c.scopes)
        new = Cluster(c.id, members, mn, scopes, label, [])
        for p in mine:
            p.cluster = c.id
            new.pairs.append(p)
        out.append(new)
    return out
