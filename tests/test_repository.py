"""The repository stands on its own: no path outside it is named, no tool cache is tracked."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = (".md", ".py", ".toml", ".sh", ".txt", ".cfg", ".yaml", ".yml", ".html", ".js")


def tracked() -> list[str]:
    listing = subprocess.run(
        [shutil.which("git") or "git", "ls-files"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return listing.stdout.splitlines()


def test_no_file_names_a_path_outside_the_repository():
    outside = ("../shared", "shared/SPEC", "shared/PEERS", "/work/")
    here = Path(__file__).relative_to(ROOT).as_posix()
    found = [
        (name, needle)
        for name in tracked()
        if name.endswith(TEXT) and name != here
        for needle in outside
        if needle in (ROOT / name).read_text(errors="replace")
    ]
    assert found == []


def test_the_fuzzers_cache_is_not_tracked():
    assert [name for name in tracked() if name.startswith(".schemathesis/")] == []
