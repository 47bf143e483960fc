"""One validated settings object, read from the environment (prefix ``IKG_``).

Every command, the API and the notebooks take their configuration from here;
an unknown ``IKG_`` variable is an error rather than a silent no-op.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IKG_", extra="forbid", validate_default=True)

    data_dir: Path = Field(
        default=Path("data/build"),
        description="where the graph store (store/), the embedding index and caches live",
    )
    store: Literal["oxigraph", "oxigraph-server"] = Field(
        default="oxigraph",
        description=(
            "graph store backend: 'oxigraph', the embedded on-disk store under data_dir/store; "
            "'oxigraph-server', an Oxigraph server at store_url (oxigraph serve / serve-read-only)"
        ),
    )
    store_url: str | None = Field(
        default=None,
        description="the Oxigraph server's base URL (http://host:7878) when store=oxigraph-server",
    )
    store_timeout_s: float = Field(
        default=60.0, gt=0, le=3600, description="HTTP timeout of requests to the Oxigraph server"
    )
    store_in_memory: Literal["auto", "yes", "no"] = Field(
        default="auto",
        description=(
            "serve SPARQL and the table pages from a copy of the embedded store held in memory "
            "(pyoxigraph's in-memory store: the README queries 3-13x faster than on disk; RAM "
            "about 2.7x the store's size on disk, per API worker; read when the server starts, "
            "about 35 s per 100k indicators). auto: when the store on disk is at most "
            "store_in_memory_max_mb. Never with SPARQL updates enabled or with the server store"
        ),
    )
    store_in_memory_max_mb: float = Field(
        default=512,
        ge=0,
        description="auto: the largest store on disk (MB) copied into memory (512 MB: ~130k indicators)",
    )
    validate_shacl: bool = Field(
        default=True,
        description="validate each table's graph against ontology/shapes.ttl before commit",
    )
    validate_engine: Literal["native", "pyshacl"] = Field(
        default="native",
        description=(
            "SHACL engine: 'native', the shapes compiled to SPARQL on an in-memory pyoxigraph "
            "store (milliseconds per table); 'pyshacl', the reference engine (seconds per table)"
        ),
    )
    build_workers: int = Field(
        default=0,
        ge=0,
        le=256,
        description=(
            "processes that read, map and validate the files of ikg build in parallel, and "
            "that score the similarity links' candidate pairs of a large graph: "
            "0 = one per CPU, 1 = in the build's own process (a single file always is)"
        ),
    )
    # Embedding index (embeddings/)
    embedding_model: str = Field(
        default="use-multilingual",
        description=(
            "encoder: an alias (use-multilingual, e5-small-q4, m3e-small, minilm-l6, hash), "
            "a local sentence-transformers folder, or a hub name already in the local cache"
        ),
    )
    embedding_device: str = Field(
        default="cpu", description="torch device for sentence-transformers models"
    )
    embedding_batch_size: int = Field(default=64, ge=1, le=4096)
    embedding_index: Literal["auto", "flat", "ivf", "hnsw"] = Field(
        default="auto", description="FAISS index type; auto: exact up to 50k vectors, IVF above"
    )
    embedding_cache: bool = Field(
        default=True, description="cache vectors on disk by model and text"
    )
    # duplicates (docs/embeddings.md): a name is a 共性指标 when this share of the departments
    # (and at least this many) carry it
    common_indicator_share: float = Field(
        default=0.5, ge=0, le=1, description="共性指标: share of the departments carrying a name"
    )
    common_indicator_min_departments: int = Field(
        default=3, ge=1, description="共性指标: at least this many departments"
    )
    # suggestions (docs/suggest.md): no suggestion from a match below the floor
    suggest_min_score: float = Field(
        default=0.15, ge=0, le=1, description="relevance floor of a suggestion (similarity)"
    )
    suggest_min_ratio: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="a category filler: at least this share of the task's best match",
    )
    # API / SPARQL endpoint
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    sparql_timeout_s: float = Field(default=10.0, gt=0, le=600)
    sparql_max_rows: int = Field(default=10_000, ge=1, le=10_000_000)
    sparql_max_depth: int = Field(
        default=64,
        ge=4,
        le=1000,
        description=(
            "deepest nesting of a SPARQL operation's groups, sub-selects, expressions and paths "
            "(parsed); a raw text with brackets nested over twice this is refused unparsed"
        ),
    )
    sparql_max_size: int = Field(
        default=5_000,
        ge=100,
        le=1_000_000,
        description=(
            "largest SPARQL operation in parse-tree nodes (VALUES and INSERT/DELETE DATA rows "
            "not counted); a raw text of over twice this many tokens is refused unparsed"
        ),
    )
    sparql_isolate_network: bool = Field(
        default=True,
        description=(
            "evaluate each query in a process without network access (a Linux user and network "
            "namespace) where the kernel allows it; behind the refusal of SERVICE and LOAD"
        ),
    )
    sparql_allow_update: bool = False
    sparql_update_token: str | None = None
    api_max_upload_bytes: int = 5_000_000
    api_review_max_files: int = Field(
        default=20,
        ge=1,
        description="files one batch review (POST /api/review/batch) may upload; their total "
        "size is bounded by api_max_upload_bytes (the request body limit)",
    )
    api_review_max_tables: int = Field(
        default=50,
        ge=1,
        description="stored tables one review of the store (/api/review/stored) may take",
    )
    api_max_json_bytes: int = Field(
        default=2_000_000,
        ge=1,
        description="the largest request body (bytes) of the JSON API (/api/*): 413 above",
    )
    api_query_cache_size: int = Field(
        default=2048,
        ge=0,
        description=(
            "query vectors (search, suggest, review texts) kept in memory per API process, "
            "least recently used dropped; never written to the on-disk embedding cache"
        ),
    )
    api_threads: int = Field(
        default=1,
        ge=0,
        description=(
            "threads of the numeric pools (BLAS, OpenMP, FAISS, the encoder) per API worker "
            "process; requests run in parallel across the threadpool and the workers instead. "
            "0: the libraries' defaults (as wide as the machine)"
        ),
    )
    api_search_inline_max: int = Field(
        default=200_000,
        ge=0,
        description=(
            "GET /api/search without filters over at most this many indicators runs on the "
            "worker's event loop (1-4 ms, an unseen query's encoding included), not in a "
            "thread: the hand-off costs 0.15-0.3 ms of such a request. Larger indexes and "
            "filtered queries go to a thread, so that a long search holds no other request. "
            "0: always a thread"
        ),
    )
    api_search_direct: bool = Field(
        default=True,
        description=(
            "GET /api/search that runs on the event loop (see api_search_inline_max) is "
            "answered before the framework's routing and per-parameter handling (0.16 ms of "
            "a 1.2 ms search at 100k), with the same validation and the same bytes; any other "
            "request, an invalid one included, goes to the route"
        ),
    )
    api_search_beside: bool = Field(
        default=True,
        description=(
            "a search over more than 50,000 indicators scores the names (its lexical side) in "
            "a helper thread (one per worker) while it runs FAISS: FAISS releases the GIL, so "
            "the two halves take two cores' time at once (at 100k, 0.33-0.37 ms less of a "
            "1.0-1.5 ms search in process)"
        ),
    )
    api_preload_index: bool = Field(
        default=True,
        description="ikg serve loads and warms up the embedding index in each worker process "
        "before it accepts requests (else on the first request that needs it)",
    )
    api_duplicates_page_bytes: int = Field(
        default=1_000_000,
        ge=10_000,
        description="GET /api/duplicates stops adding clusters to a page past this many bytes "
        "of JSON (and says so: truncated, next_offset)",
    )
    # Spreadsheets (.xlsx): checked before they are opened, refused past any limit
    xlsx_max_uncompressed_bytes: int = Field(
        default=100_000_000,
        ge=1,
        description="the largest total uncompressed size of a workbook's zip members",
    )
    xlsx_max_member_bytes: int = Field(
        default=50_000_000, ge=1, description="the largest uncompressed size of one zip member"
    )
    xlsx_max_ratio: float = Field(
        default=200,
        ge=1,
        description="the highest compression ratio of a zip member over 1 MB uncompressed",
    )
    xlsx_max_members: int = Field(default=1000, ge=1, description="zip members of a workbook")
    xlsx_max_cells: int = Field(
        default=500_000,
        ge=1,
        description=(
            "cells read from a workbook: the sheets' used ranges (rows x columns, merged "
            "ranges included), the cells written, the cells merged ranges cover and the shared "
            "strings each at most this many; XML elements at most 4x as many"
        ),
    )
    xlsx_max_merged_ranges: int = Field(
        default=10_000, ge=0, description="merged ranges in all the sheets of a workbook"
    )
    xlsx_max_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="time to inspect and read one workbook"
    )

    @model_validator(mode="after")
    def _update_needs_token(self) -> Settings:
        if self.sparql_allow_update and not self.sparql_update_token:
            raise ValueError("IKG_SPARQL_ALLOW_UPDATE needs IKG_SPARQL_UPDATE_TOKEN to be set")
        return self

    @model_validator(mode="after")
    def _server_needs_url(self) -> Settings:
        if self.store == "oxigraph-server":
            from urllib.parse import urlsplit

            url = urlsplit(self.store_url or "")
            if url.scheme not in ("http", "https") or not url.netloc:
                raise ValueError(
                    "IKG_STORE=oxigraph-server needs IKG_STORE_URL=http://host:port of an Oxigraph "
                    f"server (got {self.store_url!r})"
                )
        return self

    @property
    def store_path(self) -> Path:
        """Where the embedded store lives (data_dir/store)."""
        return self.data_dir / "store"

    @property
    def remote(self) -> bool:
        return self.store == "oxigraph-server"

    @property
    def store_target(self) -> Path | str:
        """What :class:`kg.store.GraphStore` opens: the embedded store's path or the server URL."""
        if self.remote:
            assert self.store_url is not None
            return self.store_url
        return self.store_path


def check_environment(environ: dict[str, str] | None = None) -> None:
    """Fail on an ``IKG_`` variable that no setting reads (a typo would otherwise be ignored)."""
    env = os.environ if environ is None else environ
    known = {f"IKG_{name.upper()}" for name in Settings.model_fields}
    unknown = sorted(k for k in env if k.upper().startswith("IKG_") and k.upper() not in known)
    if unknown:
        raise ValueError(
            f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def get_settings(**overrides: object) -> Settings:
    check_environment()
    return Settings(**overrides)  # type: ignore[arg-type]


def default_settings() -> Settings:
    """The declared defaults, without reading the environment: what a library function given
    no settings uses. Only the CLI and the API's app factory read ``IKG_`` variables
    (:func:`get_settings`) and pass the result down."""
    return Settings.model_construct()
