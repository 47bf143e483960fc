"""Write the two notebooks (outputs cleared) from the cell text below.

    python notebooks/_make.py

Edit the cells here, not in the .ipynb files, so the two stay in step; the
notebooks only call the packages and display what they return.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
LANGUAGE_INFO = {"name": "python"}

# The set-up cell is the same in both notebooks: find the repository (walk up
# from the working directory to pyproject.toml) and the data directory.
SETUP = """\
import os
from pathlib import Path

from kg.settings import get_settings

ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "pyproject.toml").exists())
# work from the repository: source files are then recorded as `ikg build data/demo` records them
os.chdir(ROOT)
settings = get_settings()  # IKG_DATA_DIR, else data/build, as for the ikg command
STORE = settings.store_path.resolve()
print("repository:", ROOT)
print("store:     ", STORE)"""

BUILD = [
    new_markdown_cell(
        "# 构建知识图谱 / Build the graph\n"
        "\n"
        "把随附的演示数据 `data/demo/`（一张真实的部门整体支出绩效目标表，文字未改动）"
        "读入、映射为 RDF、用 SHACL 校验，再写入图存储（pyoxigraph）。\n"
        "\n"
        "*Read the bundled demo table, map it to RDF, validate it against the SHACL shapes "
        "and load it into the graph store.*"
    ),
    new_markdown_cell(
        "## 1. 仓库与数据目录 / Repository and data directory\n"
        "\n"
        "从当前目录向上查找 `pyproject.toml` 定位仓库；数据目录取环境变量 "
        "`IKG_DATA_DIR`，未设置时为 `data/build`（与 `ikg` 命令相同）。\n"
        "\n"
        "*The repository is the first parent holding `pyproject.toml`; the data directory is "
        "`IKG_DATA_DIR`, else `data/build`, as for the `ikg` command.*"
    ),
    new_code_cell(SETUP),
    new_markdown_cell(
        "## 2. 构建 / Build\n"
        "\n"
        "`kg.build.build` 先读取、映射、校验全部文件，再写入存储；同一张表（部门、年度、表类型相同）"
        "再次构建会替换原有的命名图，不会重复。\n"
        "\n"
        "*Everything is read, mapped and validated before the store is written; building the "
        "same table again replaces its named graph.*"
    ),
    new_code_cell('from kg.build import build\n\nreport = build([Path("data/demo")], STORE)'),
    new_markdown_cell(
        "## 3. 每张表的数量 / Counts per table\n"
        "\n"
        "部门、年度、所用读取器，以及指标、任务、目标和三元组的数量。\n"
        "\n"
        "*Department, year, reader, and the number of indicators, tasks, goals and triples.*"
    ),
    new_code_cell(
        "[\n"
        "    {\n"
        '        "department": t.parsed.table.department,\n'
        '        "year": t.parsed.table.fiscal_year,\n'
        '        "reader": t.reader,\n'
        "        **t.counts,\n"
        "    }\n"
        "    for t in report.tables\n"
        "]"
    ),
    new_markdown_cell(
        "## 4. 前几条指标及出处 / The first indicators and where they were printed\n"
        "\n"
        "每条记录都带着源文件和行号，审核人员可以回到原表核对。\n"
        "\n"
        "*Every record keeps its source file and line, so a reviewer can check it against the "
        "published table.*"
    ),
    new_code_cell(
        "table = report.tables[0]\n"
        "[\n"
        "    {\n"
        '        "level1": i.level1,\n'
        '        "level2": i.level2,\n'
        '        "name": i.name,\n'
        '        "target": i.target,\n'
        '        "form": i.target_parsed.form,\n'
        '        "file": i.source.file,\n'
        '        "line": i.source.line,\n'
        "    }\n"
        "    for i in table.parsed.indicators[:6]\n"
        "]"
    ),
    new_markdown_cell(
        "## 5. SHACL 校验 / SHACL validation\n"
        "\n"
        "构建时每张表都已校验；这里用 `kg.validate.conforms` 对这张表的图（连同机构信息）再校验一次，"
        "显示结果。\n"
        "\n"
        "*The build validated every table already; `kg.validate.conforms` shows the result for "
        "this table's graph (with its organisations).*"
    ),
    new_code_cell(
        "from kg.validate import conforms\n"
        "\n"
        "ok, text = conforms(table.graph + table.organisations)\n"
        'print("conforms:", ok)\n'
        "print(text)"
    ),
    new_markdown_cell(
        "## 6. 存储 / The store\n"
        "\n"
        "每张表一个命名图，另有本体与类别、机构两个命名图。下一个笔记本 `02_sparql_queries.ipynb` "
        "在同一存储上运行示例查询。\n"
        "\n"
        "*One named graph per table, plus the ontology and organisations graphs. Notebook 02 "
        "queries this store.*"
    ),
    new_code_cell(
        "from kg.store import GraphStore\n"
        "\n"
        "with GraphStore(STORE, read_only=True) as store:\n"
        '    print(len(store), "quads")\n'
        "    graphs = store.named_graphs()\n"
        "graphs"
    ),
]

QUERIES = [
    new_markdown_cell(
        "# SPARQL 查询示例 / Example queries\n"
        "\n"
        "在 `01_build_graph.ipynb` 构建的存储上运行 README 中给审核人员的全部示例查询，"
        "并画两张图：各二级类别的指标数、各项任务的预算。\n"
        "\n"
        "*Run every reviewer query of the README on the store notebook 01 built, and draw two "
        "charts: indicators per level-2 category and budget per task.*"
    ),
    new_markdown_cell(
        "## 1. 打开存储 / Open the store\n"
        "\n"
        "数据目录与笔记本 01 相同（`IKG_DATA_DIR`，默认 `data/build`）；其中还没有存储时，"
        "用 `kg.build.build` 先构建演示数据。\n"
        "\n"
        "*Same data directory as notebook 01; when it holds no store yet, the demo data is built "
        "first.*"
    ),
    new_code_cell(SETUP),
    new_code_cell(
        "from kg.build import build\n"
        "from kg.store import GraphStore\n"
        "\n"
        "if not STORE.exists():\n"
        '    build([Path("data/demo")], STORE)\n'
        "store = GraphStore(STORE, read_only=True)\n"
        'print(len(store), "quads")'
    ),
    new_markdown_cell(
        "## 2. 示例查询 / The example queries\n"
        "\n"
        "查询文本来自 `kg.examples.example_queries()`（即 `kg/queries/*.rq`，与 README 相同）；"
        "每个查询显示前五行，未绑定的变量不显示。`ikg:`、`cat:`、`skos:` 等前缀已预先声明。\n"
        "\n"
        "*The queries come from `kg.examples.example_queries()` (the README's text); the first "
        "five rows of each are shown, unbound variables left out. The project's prefixes are "
        "predeclared.*"
    ),
    new_code_cell(
        "from IPython.display import display\n"
        "\n"
        "from kg.examples import example_queries\n"
        "\n"
        "for q in example_queries():\n"
        "    names, rows = store.select(q.sparql)\n"
        '    print(f"\\n{q.id} {q.title} (rows: {len(rows)})\\n{q.sparql.strip()}")\n'
        "    display(\n"
        "        [{n: str(v) for n, v in zip(names, row, strict=True) if v is not None} for row in rows[:5]]\n"
        "    )"
    ),
    new_markdown_cell(
        "## 3. 各二级类别的指标数 / Indicators per level-2 category\n"
        "\n"
        "用非交互的 Agg 后端作图，`display(fig)` 输出 PNG。坐标轴用类别的英文 `skos:prefLabel`"
        "（运行环境没有中文字体，汉字会显示为方框）。\n"
        "\n"
        "*Matplotlib with the non-interactive Agg backend; axis labels are the categories' "
        "English `skos:prefLabel` (no CJK font on the machine).*"
    ),
    new_code_cell(
        "import matplotlib\n"
        "\n"
        'matplotlib.use("Agg")\n'
        "import matplotlib.pyplot as plt\n"
        "from matplotlib_inline.backend_inline import set_matplotlib_formats\n"
        "\n"
        'set_matplotlib_formats("png")  # display(fig) shows the figure as a PNG'
    ),
    new_code_cell(
        'PER_CATEGORY = """\n'
        "SELECT ?level2 (COUNT(?i) AS ?indicators) WHERE {\n"
        "  ?i a ikg:Indicator ; ikg:level2/skos:prefLabel ?level2 .\n"
        '  FILTER(lang(?level2) = "en")\n'
        "} GROUP BY ?level2 ORDER BY DESC(?indicators) ?level2\n"
        '"""\n'
        "names, rows = store.select(PER_CATEGORY)\n"
        "\n"
        "fig, ax = plt.subplots(figsize=(8, 4.5))\n"
        "ax.bar([str(label) for label, _ in rows], [int(n) for _, n in rows])\n"
        'ax.set_ylabel("indicators")\n'
        'ax.set_title("Indicators per level-2 category (demo table)")\n'
        'plt.setp(ax.get_xticklabels(), rotation=30, ha="right")\n'
        "fig.tight_layout()\n"
        "display(fig)\n"
        "plt.close(fig)"
    ),
    new_markdown_cell(
        "## 4. 各项任务预算 / Budget per task (万元)\n"
        "\n"
        "金额取自示例查询 Q5（按合计金额从大到小）。条形标为 T1…T13，下面打印编号与任务名称的对照。\n"
        "\n"
        "*Amounts from example query Q5, largest first; bars are labelled T1…T13 and the legend "
        "below maps them to the task names.*"
    ),
    new_code_cell(
        "from kg.examples import example\n"
        "\n"
        'names, rows = store.select(example("Q5").sparql)\n'
        "tasks = [dict(zip(names, row, strict=True)) for row in rows]\n"
        "len(tasks)"
    ),
    new_code_cell(
        "fig, ax = plt.subplots(figsize=(8, 5))\n"
        'ax.barh([f"T{n}" for n in range(1, len(tasks) + 1)], [float(t["total"]) for t in tasks])\n'
        "ax.invert_yaxis()  # T1, the largest, at the top\n"
        'ax.set_xlabel("total budget (10,000 yuan)")\n'
        'ax.set_title("Budget per task (demo table)")\n'
        "fig.tight_layout()\n"
        "display(fig)\n"
        "plt.close(fig)"
    ),
    new_markdown_cell(
        "编号对照：T 编号 → 合计金额、任务名称（报送单位）。\n"
        "\n"
        "*Legend: T-number → total amount, task name (reporting unit, where the row names one).*"
    ),
    new_code_cell(
        "for n, t in enumerate(tasks, start=1):\n"
        "    print(f\"T{n:<3} {float(t['total']):>9.2f} 万元  {t['task']}  {t['unit'] or ''}\")"
    ),
    new_code_cell("store.close()"),
]


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = LANGUAGE_INFO
    for i, cell in enumerate(nb.cells):  # stable ids, so regenerating gives the same file
        cell["id"] = f"cell-{i:02d}"
    return nb


def main() -> None:
    for name, cells in (("01_build_graph.ipynb", BUILD), ("02_sparql_queries.ipynb", QUERIES)):
        nb = notebook(cells)
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
