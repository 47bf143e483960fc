"""The notebooks run from top to bottom and show what they claim; they are committed without outputs.

Both notebooks are executed with nbclient in a kernel on this interpreter,
from ``notebooks/`` as the working directory, sharing one data directory
(``IKG_DATA_DIR``): 01 builds the demo data into it, 02 queries it.

The kernel: a kernel spec written into a pytest temp directory whose argv is
``sys.executable -m ipykernel_launcher``, handed to nbclient through its own
kernel spec manager. So the kernel always runs in the interpreter (the venv)
running the tests, whatever kernels are or are not installed for the user or
the system, and nothing is written into the venv or the home directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

from ipykernel.kernelspec import write_kernel_spec  # noqa: E402
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUILD_NB = NOTEBOOKS / "01_build_graph.ipynb"
QUERIES_NB = NOTEBOOKS / "02_sparql_queries.ipynb"
KERNEL = "ikg-test-python3"
CELL_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(kernels / KERNEL)  # argv: [sys.executable, "-m", "ipykernel_launcher", ...]
    return KernelSpecManager(kernel_dirs=[str(kernels)])


def run(path: Path, kernel_specs: KernelSpecManager, data_dir: Path):
    nb = nbformat.read(path, as_version=4)
    km = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=60,
        resources={"metadata": {"path": str(NOTEBOOKS)}},  # the kernel's cwd
    )
    env = {**os.environ, "IKG_DATA_DIR": str(data_dir)}
    client.execute(env=env)  # raises CellExecutionError on the first failing cell
    return nb


@pytest.fixture(scope="module")
def executed(kernel_specs, tmp_path_factory):
    """Both notebooks, executed in order on one data directory."""
    data_dir = tmp_path_factory.mktemp("notebook-data")
    built = run(BUILD_NB, kernel_specs, data_dir)
    assert (data_dir / "store").is_dir(), "notebook 01 did not build the store in IKG_DATA_DIR"
    queried = run(QUERIES_NB, kernel_specs, data_dir)
    return built, queried


def outputs(nb) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def text_of(nb) -> str:
    parts = []
    for out in outputs(nb):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("path", [BUILD_NB, QUERIES_NB], ids=lambda p: p.name)
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [], f"{path.name}: a cell has outputs; clear them before committing"
        assert cell.execution_count is None, f"{path.name}: a cell has an execution count"
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.slow  # executes both notebooks in a kernel (end to end)
def test_build_notebook(executed) -> None:
    text = text_of(executed[0])
    assert re.search(r"'indicators': 166\b", text), text
    assert re.search(r"'tasks': 13\b", text), text
    assert "'department': '中共深圳市福田区委组织部'" in text
    assert "'year': 2024" in text
    assert "'reader': 'pdf-text'" in text
    # the first indicator, with its source file and line
    assert "全年辅助人员流失人数" in text
    assert "'file': 'data/demo/000_3b89ef93caa61199.txt'" in text
    assert "'line': 614" in text
    assert "conforms: True" in text


@pytest.mark.slow  # executes both notebooks in a kernel (end to end)
def test_queries_notebook(executed) -> None:
    from kg.examples import example_queries

    nb = executed[1]
    pngs = [o for o in outputs(nb) if "image/png" in o.get("data", {})]
    assert len(pngs) == 2, "expected the two charts as PNG outputs"
    text = text_of(nb)
    for q in example_queries():
        assert f"{q.id} {q.title} (rows: " in text, f"{q.id} was not run"
    assert "预算执行率" in text or "基本支出" in text
    assert "干部综合业务" in text  # Q5's largest task
    assert re.search(r"^T13 ", text, re.MULTILINE), "the T-number legend of the budget chart"
