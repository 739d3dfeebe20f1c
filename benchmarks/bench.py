"""How fast `sqlsafe check` is next to Ruff (and Fixit) on real code, measured in one run.

    python benchmarks/bench.py                       # zenml, apache-airflow-core, sqlmodel
    python benchmarks/bench.py langflow-base mlflow  # corpora where most files use the ORM
    python benchmarks/bench.py zenml --repeat 7      # one corpus, more repetitions
    python benchmarks/bench.py --fixit zenml         # Fixit 2 on that corpus too (minutes)

Each corpus (pinned, from `benchmarks/corpora.py`) is copied to a scratch folder outside the
repository (`.corpora/` is gitignored, and the runs edit files). Every repetition runs every
mode once, in the same order, so that a slow moment of a shared machine hits all modes
alike; the table gives medians:

* `ruff`: `ruff check --select ALL --no-cache` (every Ruff rule);
* `cold`: `sqlsafe check --no-cache`;
* `warm`: `sqlsafe check` with the cache from the previous run, nothing changed;
* `touch`: the same after `touch`ing one file (new mtime, same bytes);
* `edit`: the same after appending a statement to one file that sqlsafe checks (the file is
  restored and the cache warmed again afterwards, outside the timing);
* `file-cold`, `file-warm`: `sqlsafe check FILE` of that one file (what pre-commit and editors
  run), without the cache and with the cache of a whole run; the index still covers the
  whole project;
* `fixit`: `fixit lint` (Fixit 2.2.1, default rules) from its own virtualenv in `.corpora/`.

Each corpus's line also gives the pre-filter's pass rate: the files whose text passes both of
its tests (they name the ORM or the project index, and an enabled rule's trigger), out of
all files; and the syntactic screen's: those of them in whose `ast` tree some triggered rule
finds a candidate site, and which libcst therefore parses (without the run's DETACH plan,
whose converted functions' callers the screen would keep too).

Wall time is measured around each process; peak memory is the largest resident set of the
process and of any worker it waited for (`wait4`'s `ru_maxrss`). Python runs with bytecode
caching on, as installed tools do.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpora import CACHE, fetch, python_files

FIXIT_VERSION = "2.2.1"
DEFAULT_CORPORA = ("zenml", "apache-airflow-core", "sqlmodel")
SQLSAFE_MODES = ("cold", "warm", "touch", "edit", "file-cold", "file-warm")
# A file checked alone from a warm cache (pre-commit, an editor): wall seconds.
FILE_WARM_TARGET = 0.5
EDIT = "\n_sqlsafe_benchmark_edit = 1\n"


@dataclass
class Sample:
    seconds: float
    peak_mb: float
    code: int


@dataclass
class Corpus:
    name: str
    folder: Path
    files: int
    lines: int
    target: Path
    """The file `touch` and `edit` change: a mid-sized one that imports the ORM."""
    passing: int
    """Files the pre-filter lets through."""
    screened: int
    """Files the screen then lets through to libcst."""
    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def median(self, mode: str) -> float:
        return statistics.median(s.seconds for s in self.samples[mode])

    def peak(self, mode: str) -> float:
        return max(s.peak_mb for s in self.samples[mode])


_launcher: ProcessPoolExecutor | None = None


def run(command: list[str], cwd: Path) -> Sample:
    """One timed run of `command`, started from a small process of its own: Linux gives a
    child the parent's peak resident set as its own starting peak (across fork and exec), and
    this process holds the corpora and an index while it counts the pass rates, so a command
    started from here would report this process's peak whenever its own is lower."""
    global _launcher
    if _launcher is None:
        _launcher = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    return _launcher.submit(_timed, command, cwd).result()


def _timed(command: list[str], cwd: Path) -> Sample:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    environment.pop("SQLSAFE_NO_CACHE", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    # Linux reports ru_maxrss in KiB.
    return Sample(seconds, usage.ru_maxrss / 1024, process.returncode)


def prepare(name: str, scratch: Path) -> Corpus:
    source = fetch(name)
    folder = scratch / name
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns(".complete"))
    files = list(python_files(folder))
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    orm = sorted(
        (
            path
            for path in files
            if b"sqlmodel" in path.read_bytes() or b"sqlalchemy" in path.read_bytes()
        ),
        key=lambda path: (path.stat().st_size, str(path)),
    )
    target = orm[len(orm) // 2] if orm else files[len(files) // 2]
    return Corpus(name, folder, len(files), lines, target, *pass_rates(folder, files))


def pass_rates(folder: Path, files: list[Path]) -> tuple[int, int]:
    """How many of `files` pass the pre-filter with the default settings, and how many of
    those the screen, judged against the index of the whole corpus as a run builds it."""
    from sqlsafe.config import Settings
    from sqlsafe.index import build_index, module_name
    from sqlsafe.prefilter import mentions_orm, triggered
    from sqlsafe.runner import selection_for
    from sqlsafe.screen import screened

    settings = Settings(root=folder)
    roots = settings.src_roots()
    index = build_index(files, roots)
    names = index.model_names | index.factory_names | index.alias_names
    rules = selection_for(folder / "x.py", settings).rules
    passing = kept = 0
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        found = triggered(rules, text, index) if mentions_orm(text, names) else ()
        passing += bool(found)
        if found:
            kept_rules, _ = screened(found, text, path, module_name(path, roots), index)
            kept += bool(kept_rules)
    return passing, kept


def sqlsafe(*args: str, path: str = ".") -> list[str]:
    return [sys.executable, "-m", "sqlsafe", "check", *args, path]


def measure(corpus: Corpus, repeat: int, fixit: Path | None, fixit_repeat: int) -> None:
    folder = corpus.folder
    modes = {"ruff": ["ruff", "check", "--select", "ALL", "--no-cache", "."]}
    # Not timed: bytecode written, the OS's file cache filled, the first cache built.
    for command in (modes["ruff"], sqlsafe("--no-cache"), sqlsafe()):
        run(command, folder)
    original = corpus.target.read_bytes()
    for repetition in range(repeat):
        samples = {"ruff": run(modes["ruff"], folder), "cold": run(sqlsafe("--no-cache"), folder)}
        samples["warm"] = run(sqlsafe(), folder)
        os.utime(corpus.target)
        samples["touch"] = run(sqlsafe(), folder)
        corpus.target.write_bytes(original + EDIT.encode())
        samples["edit"] = run(sqlsafe(), folder)
        corpus.target.write_bytes(original)
        run(sqlsafe(), folder)
        target = str(corpus.target.relative_to(folder))
        samples["file-warm"] = run(sqlsafe(path=target), folder)
        samples["file-cold"] = run(sqlsafe("--no-cache", path=target), folder)
        if fixit is not None and repetition < fixit_repeat:
            # Minutes per run: fewer repetitions, still alternating with the others.
            samples["fixit"] = run([str(fixit), "lint", "."], folder)
        for mode, sample in samples.items():
            corpus.samples.setdefault(mode, []).append(sample)
        line = "  ".join(f"{mode} {sample.seconds:6.2f}s" for mode, sample in samples.items())
        print(f"  {corpus.name} #{repetition + 1}: {line}", flush=True)


def fixit_binary() -> Path:
    """Fixit in its own virtualenv: it is no dependency of sqlsafe."""
    venv = CACHE / f"fixit-{FIXIT_VERSION}-venv"
    binary = venv / "bin" / "fixit"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"fixit=={FIXIT_VERSION}"], check=True
        )
    return binary


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory_text = f"{int(memory) / 1024**2:.0f} GiB RAM"
    except OSError:
        memory_text = "unknown RAM"
    ruff = subprocess.run(["ruff", "--version"], capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs (nproc), {cpu}, {memory_text}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; {ruff}; "
        f"load average at the end {load}"
    )


def table(corpora: list[Corpus]) -> str:
    header = (
        "| corpus | files | pre-filter passes | screen passes | lines | mode | median s | x Ruff "
        "| files/s | lines/s | max peak MB |\n"
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for corpus in corpora:
        ruff = corpus.median("ruff")
        for mode in ("ruff", *SQLSAFE_MODES, "fixit"):
            if mode not in corpus.samples:
                continue
            seconds = corpus.median(mode)
            label = {"ruff": "ruff --select ALL", "fixit": f"fixit {FIXIT_VERSION}"}.get(
                mode, f"sqlsafe {mode}"
            )
            rows.append(
                f"| {corpus.name} | {corpus.files:,} | {corpus.passing:,} | {corpus.screened:,} | "
                f"{corpus.lines:,} | "
                f"{label} | "
                f"{seconds:.2f} | {seconds / ruff:.2f} | {corpus.files / seconds:,.0f} | "
                f"{corpus.lines / seconds:,.0f} | {corpus.peak(mode):.0f} |"
            )
    return header + "\n".join(rows) + "\n"


def verdicts(corpora: list[Corpus]) -> str:
    lines = []
    for corpus in corpora:
        ruff = corpus.median("ruff")
        for mode, limit in (("cold", 2.0), ("warm", 0.25), ("touch", 0.25), ("edit", 0.5)):
            ratio = corpus.median(mode) / ruff
            verdict = "met" if ratio <= limit else "NOT met"
            lines.append(f"{corpus.name}: {mode} {ratio:.2f}x Ruff (target <= {limit}x): {verdict}")
        seconds = corpus.median("file-warm")
        verdict = "met" if seconds < FILE_WARM_TARGET else "NOT met"
        lines.append(
            f"{corpus.name}: one file, warm {seconds:.2f} s (target < {FILE_WARM_TARGET} s): "
            f"{verdict}; cold {corpus.median('file-cold'):.2f} s"
        )
        peak = max(corpus.peak(mode) for mode in SQLSAFE_MODES)
        lines.append(f"{corpus.name}: peak {peak:.0f} MB (target < 500 MB)")
        if "fixit" in corpus.samples:
            speedup = corpus.median("fixit") / corpus.median("cold")
            verdict = "met" if speedup >= 20 else "NOT met"
            lines.append(
                f"{corpus.name}: cold is {speedup:.1f}x faster than Fixit (>= 20x): {verdict}"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", default=list(DEFAULT_CORPORA))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fixit", action="append", default=[], metavar="CORPUS")
    parser.add_argument("--fixit-repeat", type=int, default=3)
    options = parser.parse_args(argv)
    fixit = fixit_binary() if options.fixit else None
    results = []
    with tempfile.TemporaryDirectory(prefix="sqlsafe-bench-") as scratch:
        for name in options.corpora:
            corpus = prepare(name, Path(scratch))
            edited = corpus.target.relative_to(corpus.folder)
            rate = f"{corpus.passing}/{corpus.files} ({corpus.passing / corpus.files:.0%})"
            kept = f"{corpus.screened}/{corpus.files} ({corpus.screened / corpus.files:.0%})"
            print(
                f"{name}: {corpus.files} files, {corpus.lines} lines; pre-filter passes {rate}, "
                f"the screen {kept}; edits {edited}",
                flush=True,
            )
            with_fixit = fixit if name in options.fixit else None
            measure(corpus, options.repeat, with_fixit, options.fixit_repeat)
            results.append(corpus)
    print()
    print(machine())
    print()
    print(table(results))
    print(verdicts(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
