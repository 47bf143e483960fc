"""Sibling or duplicate? What each of two indicator names has that the other lacks.

Two indicators of one table often share a long template and differ in one slot::

    药品监管企业数 / 化妆品监管企业数                      siblings: 药品 / 化妆品
    发放市转企业离休干部慰问金人次 / 节日慰问市转企业离休干部人次   siblings: 慰问金 / 节日
    慰问金发放覆盖率 / 市转企业离休干部慰问金发放覆盖率          duplicate: only one side adds words

Text similarity (dense or lexical) scores such siblings as high as rewordings, because
almost every character is shared. This module aligns the two names and keeps, for each,
the *residue*: its words that the other name does not contain.

0. **reading** — a name is read in one spelling (:func:`canonical`): a variant word as its one
   form (集聚 / 聚集), a satisfaction name without the survey it names (一报告两评议);
1. **alignment** — a character of ``a`` is shared when one of its character bigrams occurs
   anywhere in ``b`` (order-free, so 干部选拔任用 and 选拔任用干部 align); the name is cut
   into words (jieba, a private tokenizer; without jieba, runs of unshared characters);
   a word with no unshared character is dropped, and a word partly shared keeps only its
   unshared part when that part is still a word (工程验收 → 工程; 慰问金 stays whole);
2. **qualifiers** — words that do not change *what* is counted are dropped: the measure
   (人数, 覆盖率, 满意度 …: :mod:`embeddings.scoring` compares measures on its own),
   generic verbs and heads (完成, 发放, 开展, 工作, 项目, 人员 …), function words, and
   the organisation itself (单位, 部门, 全区 … or a word of the table's department name), and
   between two budget-execution rates the words of that measure (:data:`EXECUTION_WORDS`);
   single characters other than numbers say too little to make a difference;
3. **matching** — a residue word that has an equivalent in the other name is dropped:
   the same word family (:data:`EQUIVALENT_WORDS`: 预算/资金/经费, 受训/参训/培训 …) or,
   when a ``similarity`` callable is given (the model's cosine of the two words), a
   similarity of at least ``theta`` (受训 / 培训 0.92 with the default model, 药品 / 化妆品 0.41).

The pair is a **sibling** when both residues keep a substantive word: each name counts
something the other does not. One empty residue means one name only qualifies the other:
that stays a duplicate candidate. Two *sentences* (both names at least
:data:`SENTENCE_CHARS` characters: outcome statements such as 提升…人才聚集效应 /
为…集聚更多优秀人才、形成更强智力支撑) reword more than they fill a template's slot; the
check leaves them to the text score.

The residues are measured on ``benchmarks/data`` (``benchmarks/embeddings_eval.py``): see
docs/embeddings.md for what the signal adds and what it cannot tell (synonyms that share
no word and no similar vector, e.g. 科普宣传对象 / 科普服务对象).
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kg.processes import pool_context
from kg.words import SATISFACTION_NAME

from .files import write_pickle
from .text import clean, measure_of

log = logging.getLogger(__name__)

#: ``similarity(words_a, words_b) -> matrix`` of cosines, rows ``words_a``
WordSimilarity = Callable[[Sequence[str], Sequence[str]], Any]

# fmt: off
#: words that do not change what is counted (measures, generic verbs and heads, function
#: words, the organisation and its people, and the public at large a project serves:
#: 市民满意度 / 群众满意度 are the project's 满意度, while 学生 / 家长 name people of their own)
_QUALIFIER_TEXT = """
满意度 满意率 满意 知晓率 知晓度 知晓 及时率 及时性 时效 时效性 完成时间 时间 合格率 合格 通过率 达标率 达标
覆盖率 覆盖面 覆盖 完成率 执行率 到位率 出勤率 比例 比率 占比 率 考核 质量 标准
人数 人次 次数 场次 批次 天数 课时 学时 数量 个数 篇数 份数 数 量 次 场 个 项 件 人 名 户次
成本 经费 费用 水平 能力 效率 效果 效益 程度 情况 成效 作用 影响
完成 发放 开展 开设 举办 组织 召开 实施 做好 提升 提高 促进 加强 推进 推动 实现 保障 确保 落实
参加 参与 享受 获得 进行 持续 有效 全面 全部 全 各 各项 各类 相关 累计 年度 全年 本年 当年 本 总
工作 项目 任务 计划 活动 管理 服务 业务 按时 及时 按期 如期 按计划 预期 实际
单位 部门 组工 本单位 全区 辖区 全市 全县 区 市 县
人员 对象 学员 工作人员 人群
效应 更 更多 更加 更强 更好 更高 更大 进一步 不断
市民 群众 公众 社会公众 居民 民众
的 对 及 和 与 或 等 为 中 在 了 得到 通过 之 其 好 以 所 其他
"""
# fmt: on
QUALIFIER_WORDS: frozenset[str] = frozenset(_QUALIFIER_TEXT.split())

#: families of words that budget-performance tables use for one thing (written by hand for
#: this vocabulary; the benchmark reports the check with and without them)
EQUIVALENT_WORDS: tuple[frozenset[str], ...] = tuple(
    frozenset(g.split())
    for g in (
        "预算 资金 经费 财政资金",
        "执行 支出 使用",
        "受训 参训 培训 参会 与会 轮训",
        "采购 购置 购买",
        "资助 补助 补贴",
        "到位 下达 拨付",
        "及时 按时 按期 如期",
    )
)
_FAMILY: dict[str, int] = {w: n for n, g in enumerate(EQUIVALENT_WORDS) for w in g}

#: one word written two ways, its characters in either order (集聚 / 聚集, both "gather"):
#: a name is read with the first spelling replaced by the second, word by word
VARIANT_WORDS: dict[str, str] = {"集聚": "聚集"}

#: how a satisfaction is surveyed, not whose it is: a satisfaction name that names its
#: survey — 干部选拔任用“一报告两评议”满意度 (the annual report on the selection and
#: appointment of cadres and the two appraisals: the units' rating of that work), 民主测评
#: 满意度 — measures the same satisfaction as a name that does not; read without the survey
APPRAISAL_TERMS: tuple[str, ...] = ("一报告两评议", "民主评议", "民主测评")

#: the words of the budget-execution measure itself: 预算执行率, 资金支出率, 支出进度（达标率）,
#: 资金支付率 all measure the money spent against the budget, so between two names
#: of that measure (:func:`embeddings.text.measure_of` ``execution_rate``) these words say the
#: measure, not an object. Money arriving (到位, 拨付, 下达: 资金到位率 is of that kind too) is
#: another measure: a name that says it is read without them.
EXECUTION_WORDS: frozenset[str] = frozenset(
    ["预算", "资金", "经费", "财政资金", "执行", "支出", "使用", "支付", "进度"]
)
ARRIVAL_WORDS: tuple[str, ...] = ("到位", "拨付", "下达")


def same_family(a: str, b: str) -> bool:
    """Two different words of one family of :data:`EQUIVALENT_WORDS` (及时 / 按时)."""
    fa = _FAMILY.get(a)
    return a != b and fa is not None and fa == _FAMILY.get(b)


_NUMBER = re.compile(r"^[0-9０-９.]+$")

#: two names at least this long (characters, cleaned) are sentences — outcome statements
#: such as 通过制定保健对象档案…提高保健对象健康水平 — whose rewordings share few words;
#: the sibling check leaves them to the text score (chosen on the dev half: 16–18 best)
SENTENCE_CHARS = 18


@dataclass(frozen=True)
class Residues:
    """Substantive words of ``a`` that ``b`` lacks, and of ``b`` that ``a`` lacks."""

    a: tuple[str, ...]
    b: tuple[str, ...]
    #: both names are sentences (≥ :data:`SENTENCE_CHARS`): rewordings, left to the text score
    sentences: bool = False

    @property
    def sibling(self) -> bool:
        """Both names keep substantive words of their own: different objects."""
        return bool(self.a and self.b) and not self.sentences

    def describe(self) -> str:
        return f"{'、'.join(self.a) or '—'} / {'、'.join(self.b) or '—'}"


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    try:
        import jieba
    except ImportError:  # the embeddings extra brings jieba; without it, character runs
        return None
    jieba.setLogLevel(logging.WARNING)
    return jieba.Tokenizer()


def words(text: str) -> list[str]:
    """``text`` (cleaned) cut into words: jieba when installed, else the whole text."""
    c = clean(text)
    tok = _tokenizer()
    if tok is None:
        return [c] if c else []
    return list(_jieba_words(c))


def _jieba_words(text: str) -> tuple[str, ...]:
    found = _REMEMBERED.get(text)
    if found is None and _AHEAD:
        _take_ahead()
        found = _REMEMBERED.get(text)
    if found is None:
        found = _jieba_cut(text)
        if _REMEMBERING:
            _REMEMBERED[text] = found
    if _REMEMBERING:  # kept for the next run unless its file has it (remembered_words)
        _USED.add(text)
    return found


@lru_cache(maxsize=65536)
def _jieba_cut(text: str) -> tuple[str, ...]:
    return tuple(w for w in _tokenizer().lcut(text, HMM=True) if w.strip())


#: segmentations read by :func:`remembered_words` (text → words), and those made since
_REMEMBERED: dict[str, tuple[str, ...]] = {}
#: the texts looked up or cut ahead inside remembered_words (in memory before or not: the
#: file may lack them)
_USED: set[str] = set()
_REMEMBERING: list[Path] = []


#: texts being cut in a process of their own (:func:`cut_ahead`): (pool, future)
_AHEAD: list[tuple[Any, Any]] = []


def cut_ahead(texts: Iterable[str]) -> None:
    """Start cutting ``texts`` that are not remembered yet in a process of their own.

    Inside :func:`remembered_words` only. A rebuild that meets a new name must load jieba's
    dictionary (about 1 s, a sixth of a one-table rebuild at 1,000 tables): the child
    process loads it and cuts the new texts on the other core while this one reads, encodes
    and searches; the first word looked up that is not remembered waits for its result. The
    words are jieba's own either way; if the child fails, the texts are cut here.
    """
    if not _REMEMBERING or _tokenizer() is None:
        return
    todo = sorted({c for t in texts if t and (c := clean(t)) and c not in _REMEMBERED})
    if not todo:
        return
    try:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=pool_context())
        _AHEAD.append((pool, pool.submit(_cut_all, todo)))
    except OSError:  # no process to be had: cut here when asked
        return


def _cut_all(texts: list[str]) -> dict[str, tuple[str, ...]]:
    """(In the child of :func:`cut_ahead`.) Each text's words."""
    return {t: _jieba_cut(t) for t in texts}


def _take_ahead() -> None:
    """The words of :func:`cut_ahead`'s children, waited for, remembered (and kept)."""
    while _AHEAD:
        pool, future = _AHEAD.pop()
        try:
            found = future.result()
        except Exception:  # the child failed: what it was cutting is cut here when asked
            log.warning("cutting words in a child process failed; cutting them here", exc_info=True)
            found = {}
        finally:
            pool.shutdown(wait=True)
        _REMEMBERED.update(found)
        if _REMEMBERING:
            _USED.update(found)


def _segmenter_id() -> str:
    from importlib.metadata import version

    return f"jieba-{version('jieba')}-hmm"


@contextmanager
def remembered_words(path: Path) -> Iterator[None]:
    """Segmentations kept in ``path`` between runs: read before, the new ones added after.

    Loading jieba's dictionary takes about 1 s, longer than the rest of the pair scoring of a
    one-table rebuild; the words of names and department names seen before come from the
    file, so a rebuild that meets no new text never loads it. The file holds jieba's own
    output, tagged with its version: another version (or a damaged file) is ignored and
    written again. Without jieba nothing is read or written.
    """
    if _tokenizer() is None:
        yield
        return
    tag = _segmenter_id()
    saved: dict[str, tuple[str, ...]] = {}
    with contextlib.suppress(OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
        with path.open("rb") as f:
            kept = pickle.load(f)
        if isinstance(kept, dict) and kept.get("segmenter") == tag:
            saved = kept["words"]
    _REMEMBERED.update(saved)
    _REMEMBERING.append(path)
    try:
        yield
    finally:
        _take_ahead()  # what children cut is kept too
        _REMEMBERING.pop()
        learnt = {t: _REMEMBERED[t] for t in _USED if t not in saved and t in _REMEMBERED}
        if not _REMEMBERING:
            _USED.clear()
        if learnt:
            write_pickle(path, {"segmenter": tag, "words": {**saved, **learnt}})


@lru_cache(maxsize=4096)
def context_words(context: tuple[str, ...]) -> frozenset[str]:
    """The words of ``context`` (department names) that count as qualifiers."""
    return frozenset(w for t in context for w in words(t) if len(w) >= 2)


def found_in(ca: str, cb: str, context: frozenset[str]) -> frozenset[str]:
    """The words of ``context`` that occur in the cleaned names ``ca`` or ``cb``: all that
    :func:`lexical_residues` reads of its context (a qualifier counts only where it is
    found), so two pairs of the same names whose departments differ but offer the same words
    here have the same residues."""
    return frozenset(w for w in context if w in ca or w in cb)


def canonical(text: str) -> str:
    """``text`` cleaned, as the residues read it: a satisfaction name without the survey it
    names (:data:`APPRAISAL_TERMS`), each variant spelling as its one form
    (:data:`VARIANT_WORDS`)."""
    return _canonical(clean(text))


@lru_cache(maxsize=65536)
def _canonical(c: str) -> str:
    if SATISFACTION_NAME.search(c):
        for term in APPRAISAL_TERMS:
            c = c.replace(term, "")
    if _tokenizer() is not None and any(v in c for v in VARIANT_WORDS):
        c = "".join(VARIANT_WORDS.get(w, w) for w in _jieba_words(c))
    return c


def _measure_words(a: str, b: str) -> frozenset[str]:
    """Words that are the two names' shared measure (:data:`EXECUTION_WORDS` between two
    budget-execution names), qualifiers between them."""
    if measure_of(a) == measure_of(b) == "execution_rate" and not any(
        w in a or w in b for w in ARRIVAL_WORDS
    ):
        return EXECUTION_WORDS
    return frozenset()


def _shared_mask(a: str, b: str) -> list[bool]:
    grams = {b[i : i + 2] for i in range(len(b) - 1)}
    mask = [False] * len(a)
    for i in range(len(a) - 1):
        if a[i : i + 2] in grams:
            mask[i] = mask[i + 1] = True
    return mask


def _substantive(word: str, extra: frozenset[str]) -> bool:
    if word in QUALIFIER_WORDS or word in extra or _qualifiers_only(word, extra):
        return False
    if _NUMBER.match(word):
        return True
    return len(word) >= 2


def _residue(a: str, b: str, extra: frozenset[str]) -> list[str]:
    ca, cb = clean(a), clean(b)
    mask = _shared_mask(ca, cb)
    cut: list[tuple[str, list[bool]]] = []
    pos = 0
    for w in _cut(ca, mask):
        m = mask[pos : pos + len(w)]
        pos += len(w)
        # a lone unshared character belongs to the word before it (人才|日 → 人才日, 市|转 → 市转)
        if cut and len(w) == 1 and not m[0] and _joins(w):
            pw, pm = cut.pop()
            w, m = pw + w, pm + m
        cut.append((w, m))
    out: list[str] = []
    for w, m in cut:
        if all(m):
            continue
        # a word partly shared keeps its unshared part when that is still a word
        lo, hi = 0, len(w)
        while lo < hi and m[lo]:
            lo += 1
        while hi > lo and m[hi - 1]:
            hi -= 1
        part = w[lo if lo >= 2 else 0 : hi if len(w) - hi >= 2 else len(w)]
        if len(part) < 2:
            part = w
        part = "".join(ch for ch in part if ch.isalnum())
        if not part or part in out:
            continue
        if _substantive(part, extra) and _substantive(w, extra):
            out.append(part)
    return out


@lru_cache(maxsize=65536)
def _qualifiers_only(word: str, extra: frozenset[str]) -> bool:
    """``word`` is qualifier words run together (各项任务 = 各项 + 任务; 保障工作)."""
    ok = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 4), end):
            piece = word[start:end]
            if ok[start] and (piece in QUALIFIER_WORDS or piece in extra):
                ok[end] = True
                break
    return ok[-1] and len(word) > 1


_NUMERALS = frozenset("一二三四五六七八九十两百千万零")


def _joins(ch: str) -> bool:
    return ch.isalpha() and ch not in QUALIFIER_WORDS and ch not in _NUMERALS


def _cut(text: str, mask: list[bool]) -> list[str]:
    if _tokenizer() is not None:
        return list(_jieba_words(text))
    # no segmenter: alternate runs of shared and unshared characters
    runs: list[str] = []
    for ch, m in zip(text, mask, strict=True):
        if runs and _last_mask(runs, mask) == m:
            runs[-1] += ch
        else:
            runs.append(ch)
    return runs


def _last_mask(runs: list[str], mask: list[bool]) -> bool:
    return mask[sum(len(r) for r in runs) - 1]


def lexical_residues(a: str, b: str, *, context: Sequence[str] = ()) -> Residues:
    """Residues by alignment and qualifiers only (steps 1–2 of the module docstring).

    ``context``: texts whose words count as qualifiers (the department's name: 组工 in a
    组织部 table is the organisation itself).
    """
    sentences = min(len(clean(a)), len(clean(b))) >= SENTENCE_CHARS
    ca, cb = canonical(a), canonical(b)
    if ca == cb:  # the same name: nothing of either is missing from the other
        return Residues((), (), sentences)
    extra = context_words(tuple(context)) | _measure_words(a, b)
    return Residues(tuple(_residue(ca, cb, extra)), tuple(_residue(cb, ca, extra)), sentences)


def match(
    res: Residues,
    similarity: WordSimilarity | None = None,
    theta: float = 0.8,
    *,
    families: bool = True,
) -> Residues:
    """Drop residue words that have an equivalent on the other side (step 3).

    ``families=False`` ignores :data:`EQUIVALENT_WORDS` (the benchmark measures both).
    """
    if not (res.a and res.b):
        return res
    sim = None
    if similarity is not None:
        sim = similarity(res.a, res.b)

    def equivalent(i: int, j: int) -> bool:
        wa, wb = res.a[i], res.b[j]
        fa, fb = _FAMILY.get(wa), _FAMILY.get(wb)
        if families and fa is not None and fa == fb:
            return True
        return sim is not None and float(sim[i][j]) >= theta

    keep_a = tuple(
        w for i, w in enumerate(res.a) if not any(equivalent(i, j) for j in range(len(res.b)))
    )
    keep_b = tuple(
        w for j, w in enumerate(res.b) if not any(equivalent(i, j) for i in range(len(res.a)))
    )
    return Residues(keep_a, keep_b, res.sentences)


def residues(
    a: str,
    b: str,
    *,
    similarity: WordSimilarity | None = None,
    theta: float = 0.8,
    context: Sequence[str] = (),
) -> Residues:
    """What each name has that the other lacks, after alignment, qualifiers and matching."""
    return match(lexical_residues(a, b, context=context), similarity, theta)


__all__ = [
    "APPRAISAL_TERMS",
    "EQUIVALENT_WORDS",
    "EXECUTION_WORDS",
    "QUALIFIER_WORDS",
    "SENTENCE_CHARS",
    "VARIANT_WORDS",
    "Residues",
    "WordSimilarity",
    "canonical",
    "lexical_residues",
    "match",
    "residues",
    "same_family",
    "words",
]
