"""Scale benchmark: 10k / 100k / 1M synthetic indicators on one machine, figures printed.

    python -m benchmarks.scale [--sizes 10000,100000,1000000] [--json benchmarks/results/scale.json]
                               [--work DIR] [--runs 5] [--cap 120] [--skip api,dups,rdflib,server,disk,memory]
    python -m benchmarks.scale --show benchmarks/results/scale.json   # print saved figures

Synthetic data "from the shapes of the real corpus": all 14 tables of data/demo (the seed
.txt and data/demo/corpus/*.csv, read with kg.readers.read_table) are mapped once with the
project's own code (kg.mapping); copies are then made under other department names and
fiscal years by rewriting the template's table URI, department URI, department name and
fiscal year in its N-Quads text, round after round until the indicator count is reached
(the last table is mapped again with fewer indicators so the count is exact). The N-Quads
file is streamed to the work directory, never held in memory, and loaded with
``oxigraph load`` (the CLI of the same engine as pyoxigraph 0.5.13); the loader's peak
resident set comes from wait4(2) and the store's size from its directory.

For each size:

* the 12 README queries (kg/queries) on (a) rdflib: every quad in one in-memory ``Graph``
  (rdflib's default ``Memory`` store, terms shared, see ``rdflib_graph``), only when the
  estimate from the smaller sizes fits in memory, (b) the embedded pyoxigraph store opened
  read-only on disk, (c) the same store copied into memory as the API does with
  ``IKG_STORE_IN_MEMORY`` (``kg.store.memory_copy``; ``--memory-from nquads`` bulk-loads the
  same quads into the same kind of store instead, which is faster to make), (d) ``oxigraph serve-read-only
  --union-default-graph`` over a backup (hard links) of the store, queried with urllib; each
  query runs up to ``--runs`` times (fewer when slow), p50/p95 by nearest rank, stopped at
  ``--cap`` seconds (reported "> cap"). A run's time is the query and the reading of every
  row as the engine's own terms; the rows are then normalised (untimed) and compared across
  engines as sorted rows. ``--skip disk,memory,server,rdflib`` leaves engines out.
* the duplicate sweep: the embedding index (embeddings.open_index, default encoder, on-disk
  vector cache shared across sizes) and ``find_duplicates`` over all indicators; peak RSS.
* API load with wrk (benchmarks/load_api.py's script): ``ikg serve --workers 1`` and ``2``
  on loopback, /api/search, /sparql Q11 and a count (sizes up to ``--api-max``).

Every heavy step runs in its own subprocess so its memory is its own and one engine's
caches do not warm another's.

The package, one module per part:

* ``machine``: what the machine says (resident sets, memory, other benchmarks running);
* ``data``: the synthetic N-Quads and ``oxigraph load`` into a store;
* ``answers``: rows normalised across engines, digests, agreement;
* ``engines``: the four query engines, the query worker and its driver;
* ``dups``: the duplicate sweep;
* ``load``: API load with wrk;
* ``measure``: one size, end to end;
* ``report``: printing, merging and saving figures;
* ``__main__``: the command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the project's packages, and the benchmark scripts beside this package (load_api) after
# everything else so they shadow nothing
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.append(str(ROOT / "benchmarks"))
