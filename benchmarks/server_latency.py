"""How long `sqlsafe server` takes to publish the diagnostics of an edited file in a big project.

    python benchmarks/server_latency.py            # zenml (1,433 files), 10 edits
    python benchmarks/server_latency.py --edits 20

The corpus (from `benchmarks/corpora.py`) is copied to a scratch folder. The edited file is the
one closest to 500 lines among those that open a session. The first edit pays for the project
index (built, then cached); each later one is timed from `didChange` to the diagnostics.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from benchmarks.corpora import CORPORA, fetch
from tests.server.client import Editor, session


def _pick(root: Path) -> Path:
    files = [p for p in root.rglob("*.py") if "session" in p.read_text(errors="replace")]
    return min(files, key=lambda p: abs(len(p.read_text(errors="replace").splitlines()) - 500))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", default="zenml", choices=sorted(CORPORA))
    parser.add_argument("--edits", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / args.corpus
        shutil.copytree(fetch(args.corpus), root)
        (root / "pyproject.toml").touch()
        target = _pick(root)
        name = str(target.relative_to(root))
        text = target.read_text()
        count = len(list(root.rglob("*.py")))
        print(f"{args.corpus}: {count} files; editing {name} ({len(text.splitlines())} lines)")
        timings: list[float] = []

        async def script(editor: Editor) -> None:
            started = time.perf_counter()
            await editor.diagnostics(name, lambda: editor.open(name, text))
            print(f"open (first check, index built): {time.perf_counter() - started:.3f} s")
            for edit in range(args.edits):
                changed = f"{text}\nedited_{edit} = {edit}\n"
                started = time.perf_counter()
                await editor.diagnostics(name, lambda: editor.change(name, changed))  # noqa: B023
                timings.append(time.perf_counter() - started)

        session(root, script)
        first, median = timings[0] * 1000, statistics.median(timings) * 1000
        print(
            f"edits: first {first:.0f} ms, median {median:.0f} ms,"
            f" max {max(timings) * 1000:.0f} ms over {len(timings)}"
        )


if __name__ == "__main__":
    main()
