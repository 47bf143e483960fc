"""The store's indicators as the last index step read them, kept beside the index.

Reading every indicator back from the store (:func:`embeddings.corpus.load_indicators`) is
the largest fixed cost of a rebuild that changed one table of a thousand: about 1.5 s at
12,000 indicators, a minute at 1M. :func:`load_indicators_saved` reads from the store only
the tables that may have changed since, and takes the others from ``indicators.pickle``.

A table's saved indicators are used again only when the store still says nothing about the
table changed:

* its similarity links are marked computed (``ikg:similarityLinksComputed``). Every way the
  project writes a table (``GraphStore.write_tables``, ``replace_table``, an Oxigraph server)
  drops that mark in the same step, so a replaced table is always read again;
* its named graph holds as many indicators as were saved (an indicator added or removed by
  a SPARQL update is noticed; an edit in place is not: ``ikg build --all`` reads everything);
* the file was written by this format and release of the code.

Everything is read again when more than :data:`READ_ALL_SHARE` of the tables (or more than
:data:`READ_BY_GRAPH_MAX` of them) are to be read: scanning the whole store is then cheaper
than scanning it graph by graph. The result equals ``load_indicators(store)`` (a test checks).
"""

from __future__ import annotations

import pickle
from dataclasses import fields
from pathlib import Path
from typing import Any

from kg import __version__
from kg.namespaces import IKG, SIMILARITY_GRAPH

from .corpus import load_indicators
from .files import write_pickle
from .text import IndicatorText

FILE_NAME = "indicators.pickle"
FORMAT = 2
#: read the whole store when more than this share of its tables are to be read …
READ_ALL_SHARE = 0.25
#: … or more than this many (one VALUES clause per scan)
READ_BY_GRAPH_MAX = 200


def _counts(store: Any) -> dict[str, int]:
    """Named graph → how many indicators it holds."""
    rows = store.query(
        f"SELECT ?g (COUNT(?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a <{IKG.Indicator}> }} }} GROUP BY ?g"
    )
    return {sol["g"].value: int(sol["n"].value) for sol in rows}


def _marked(store: Any) -> set[str]:
    """The tables whose similarity links are marked computed (unchanged since)."""
    rows = store.query(
        f"SELECT ?t WHERE {{ GRAPH <{SIMILARITY_GRAPH}> "
        f"{{ ?t <{IKG.similarityLinksComputed}> ?how }} }}"
    )
    return {sol["t"].value for sol in rows}


def _in_default_graph(store: Any) -> bool:
    """Whether the default graph holds an indicator (only named graphs are read by graph)."""
    ask = f"ASK {{ ?s a <{IKG.Indicator}> }}"
    return bool(store.query(ask, use_default_graph_as_union=False))


def read_saved(path: Path) -> dict[str, tuple[int, list[IndicatorText]]]:
    """Table → (how many indicators its graph held, the indicators read of them); empty when
    the file is missing, unreadable or was written by another format or release of the code
    (it is only a cache: nothing is lost)."""
    try:
        with path.open("rb") as fh:
            data = pickle.load(fh)  # written by the index step in this data directory
        if (data["format"], data["code"], data["fields"]) != (FORMAT, __version__, _FIELDS):
            return {}
        return {
            table: (n, [IndicatorText(*row[:-1], extra=dict(row[-1])) for row in rows])
            for table, (n, rows) in data["tables"].items()
        }
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError):
        return {}


_FIELDS = tuple(f.name for f in fields(IndicatorText) if f.name != "extra")


def _row(it: IndicatorText) -> tuple:
    """The fields in order, ``extra`` last without its caches (keys starting with _)."""
    extra = {k: v for k, v in it.extra.items() if not k.startswith("_")}
    return (*(getattr(it, f) for f in _FIELDS), extra)


def write_saved(path: Path, tables: dict[str, tuple[int, list[IndicatorText]]]) -> None:
    """Write ``tables`` (as :func:`read_saved` returns them) to ``path``: a temporary file
    renamed over it, so it is never half written. A pickle of plain tuples: at 124k
    indicators 1.2 s to write and 1.3 s to read back (52 MB), where reading them from the
    store takes 19 s."""
    data = {
        "format": FORMAT,
        "code": __version__,
        "fields": _FIELDS,
        "tables": {t: (n, [_row(it) for it in items]) for t, (n, items) in tables.items()},
    }
    write_pickle(path, data)


def load_indicators_saved(
    store: Any, path: Path, *, full: bool = False, write: bool = True
) -> list[IndicatorText]:
    """Every indicator in ``store``, as :func:`load_indicators` reads them, reading from the
    store only the tables that may have changed since ``path`` was written (all with
    ``full``); ``path`` is then brought up to date (unless ``write`` is false)."""
    counts = _counts(store)
    saved = {} if full else read_saved(path)
    marked = _marked(store) if saved else set()
    keep = {g for g, n in counts.items() if g in marked and g in saved and saved[g][0] == n}
    todo = [g for g in counts if g not in keep]
    too_many = len(todo) > min(READ_BY_GRAPH_MAX, READ_ALL_SHARE * len(counts))
    if too_many or _in_default_graph(store):
        fresh, keep = load_indicators(store), set()
    else:
        fresh = load_indicators(store, todo)
    by_table: dict[str, list[IndicatorText]] = {g: list(saved[g][1]) for g in keep}
    for it in fresh:
        by_table.setdefault(it.table, []).append(it)
    if write and (todo or counts.keys() != saved.keys()):
        write_saved(path, {g: (n, by_table.get(g, [])) for g, n in counts.items()})
    items = [it for items in by_table.values() for it in items]
    return sorted(items, key=lambda x: (x.table, x.source_line or 0, x.id))
