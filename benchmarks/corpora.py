"""Real code to run sqlsafe on: pinned distributions from the package index, unpacked once.

Each corpus is fetched with `pip download --no-deps` into `.corpora/` at the repository root
(ignored by git) and unpacked next to the archive; later calls reuse the folder. Benchmarks
and the slow corpus tests share it.

    python benchmarks/corpora.py                 # fetch every corpus, print the folders
    python benchmarks/corpora.py sqlmodel zenml  # only these
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".corpora"


@dataclass(frozen=True)
class Corpus:
    name: str
    version: str
    kind: Literal["sdist", "wheel"]
    """An sdist carries the tests and docs sources; a wheel only the package."""

    @property
    def folder_name(self) -> str:
        return f"{self.name}-{self.version}-{self.kind}"


CORPORA: dict[str, Corpus] = {
    corpus.name: corpus
    for corpus in (
        # The SQLModel tutorials (docs_src/) are correct code: no finding is expected there.
        Corpus("sqlmodel", "0.0.50", "sdist"),
        Corpus("fastapi-users-db-sqlmodel", "0.3.0", "sdist"),
        Corpus("zenml", "0.98.0", "wheel"),
        Corpus("apache-airflow-core", "3.3.2", "wheel"),
        # Most of their files use the ORM: the pre-filter lets most of them through.
        Corpus("langflow-base", "1.13.0", "wheel"),
        Corpus("mlflow", "3.18.0", "wheel"),
        Corpus("open-webui", "0.12.4", "wheel"),
    )
}


def fetch(name: str, cache: Path = CACHE) -> Path:
    """The unpacked folder of a corpus, downloading and unpacking it the first time."""
    corpus = CORPORA[name]
    folder = cache / corpus.folder_name
    done = folder / ".complete"
    if done.exists():
        return folder
    downloads = cache / "downloads" / corpus.folder_name
    downloads.mkdir(parents=True, exist_ok=True)
    archive = _archive(downloads)
    if archive is None:
        binary = ["--no-binary", ":all:"] if corpus.kind == "sdist" else ["--only-binary", ":all:"]
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                *binary,
                "--dest",
                str(downloads),
                f"{corpus.name}=={corpus.version}",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        archive = _archive(downloads)
        if archive is None:
            raise RuntimeError(f"pip download left no archive for {corpus.name}")
    folder.mkdir(parents=True, exist_ok=True)
    _unpack(archive, folder)
    done.write_text(f"{archive.name}\n")
    return folder


def _archive(downloads: Path) -> Path | None:
    found = sorted(
        p for p in downloads.iterdir() if p.name.endswith((".tar.gz", ".zip", ".whl", ".tgz"))
    )
    return found[0] if found else None


def _unpack(archive: Path, folder: Path) -> None:
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.namelist():
                # Archives from an index are trusted only so far: nothing may land outside.
                if not (folder / member).resolve().is_relative_to(folder.resolve()):
                    raise RuntimeError(f"{archive.name}: unsafe member {member}")
            zipped.extractall(folder)
        return
    with tarfile.open(archive) as tarred:
        if hasattr(tarfile, "data_filter"):
            tarred.extractall(folder, filter="data")
        else:  # Python < 3.10.12 / 3.11.4
            for member in tarred.getmembers():
                if not (folder / member.name).resolve().is_relative_to(folder.resolve()):
                    raise RuntimeError(f"{archive.name}: unsafe member {member.name}")
            tarred.extractall(folder)


def python_files(folder: Path) -> Iterator[Path]:
    """Every .py file under `folder`, in a stable order."""
    yield from sorted(p for p in folder.rglob("*.py") if p.is_file())


def main(argv: list[str]) -> int:
    names = argv or list(CORPORA)
    unknown = [name for name in names if name not in CORPORA]
    if unknown:
        print(f"unknown corpus: {', '.join(unknown)}; known: {', '.join(CORPORA)}")
        return 2
    for name in names:
        folder = fetch(name)
        print(f"{name}\t{sum(1 for _ in python_files(folder))} .py files\t{folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
