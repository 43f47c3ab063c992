"""libsock's PEP 517 build backend: a wheel carrying libsock.so and sockrun.

No dependency beyond the standard library, so a wheel builds offline. The
crate is found beside this package: the repository root (``python/..``) in a
checkout, the sdist's own root in an unpacked sdist.

Where the binaries come from:

* ``LIBSOCK_PREBUILT=DIR`` (``make dist``): DIR/libsock.so and DIR/sockrun,
  already built (by cargo-zigbuild against glibc 2.17's stubs). The wheel's
  platform tag is then ``LIBSOCK_WHEEL_PLATFORM`` (``make dist`` says
  ``manylinux_2_17_x86_64``, which ``make dist-test`` checks with
  auditwheel).
* otherwise ``cargo build --release --locked`` in the crate, and the tag is
  this machine's (``linux_x86_64``): a wheel built on this glibc is only
  known to run on it.

The wheel:  libsock/ (the Python package and libsock.so beside it, where
``libsock._lib`` looks first) and libsock-V.data/scripts/sockrun (pip puts it
in the environment's bin/, where sockrun finds ../lib/python3*/site-packages/
libsock/libsock.so).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import stat
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
PYTHON_DIR = HERE.parent  # holds pyproject.toml and libsock/

# What the sdist carries to build the crate (relative to the crate root).
CRATE_FILES = ["Cargo.toml", "Cargo.lock", "build.rs", "cbindgen.toml", "clippy.toml"]
CRATE_DIRS = ["src", "crates", "include"]


def _crate_root() -> Path:
    for root in (PYTHON_DIR, PYTHON_DIR.parent):
        if (root / "Cargo.toml").is_file() and (root / "src" / "lib.rs").is_file():
            return root
    raise RuntimeError(f"libsock build: no Cargo.toml with src/lib.rs in {PYTHON_DIR} or its parent")


def _project() -> Dict[str, str]:
    """name, version, description, requires-python from pyproject.toml's
    [project] table (the keys this backend uses are plain strings)."""
    text = (PYTHON_DIR / "pyproject.toml").read_text()
    table = re.search(r"^\[project\]\n(.*?)(?=^\[)", text, re.M | re.S)
    if table is None:
        raise RuntimeError("libsock build: pyproject.toml has no [project] table")
    values = dict(re.findall(r'^([a-z-]+) = "([^"]*)"', table.group(1), re.M))
    crate = re.search(r'^version = "([^"]+)"', (_crate_root() / "Cargo.toml").read_text(), re.M)
    if crate is None or crate.group(1) != values["version"]:
        raise RuntimeError(
            f"libsock build: pyproject.toml version {values['version']} is not Cargo.toml's"
            f" {crate.group(1) if crate else '(none)'}"
        )
    return values


def _metadata(project: Dict[str, str]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        "License: MIT OR Apache-2.0",
        f"Requires-Python: {project['requires-python']}",
        "Classifier: Operating System :: POSIX :: Linux",
        "Classifier: Programming Language :: Python :: 3",
        "Classifier: Typing :: Typed",
        "Provides-Extra: test",
        "Requires-Dist: pytest; extra == \"test\"",
        "Description-Content-Type: text/markdown",
    ]
    readme = PYTHON_DIR / "README.md"
    body = readme.read_text() if readme.is_file() else ""
    return "\n".join(lines) + "\n\n" + body


def _binaries() -> Tuple[Path, Path, str]:
    """libsock.so, sockrun and the wheel's platform tag."""
    prebuilt = os.environ.get("LIBSOCK_PREBUILT")
    if prebuilt:
        directory = Path(prebuilt)
        platform = os.environ.get("LIBSOCK_WHEEL_PLATFORM") or _local_platform()
    else:
        root = _crate_root()
        cargo = os.environ.get("CARGO", "cargo")
        subprocess.run([cargo, "build", "--release", "--locked"], cwd=root, check=True, stdout=sys.stderr)
        target = Path(os.environ.get("CARGO_TARGET_DIR") or root / "target")
        directory = (target if target.is_absolute() else root / target) / "release"
        platform = _local_platform()
    lib, sockrun = directory / "libsock.so", directory / "sockrun"
    for path in (lib, sockrun):
        if not path.is_file():
            raise RuntimeError(f"libsock build: {path} not found")
    return lib, sockrun, platform


def _local_platform() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


class _Wheel:
    """A wheel being written: each file goes into the zip and RECORD."""

    def __init__(self, path: Path) -> None:
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.record: List[str] = []
        # Reproducible: every entry dated by SOURCE_DATE_EPOCH (or 1980).
        epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
        self.date = time.gmtime(max(epoch, 315532800))[:6]

    def add(self, name: str, data: bytes, executable: bool = False) -> None:
        info = zipfile.ZipInfo(name, date_time=self.date)
        mode = 0o755 if executable else 0o644
        info.external_attr = (stat.S_IFREG | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        self.record.append(f"{name},{_record_hash(data)},{len(data)}")

    def close(self, record_name: str) -> None:
        self.record.append(f"{record_name},,")
        info = zipfile.ZipInfo(record_name, date_time=self.date)
        info.external_attr = (stat.S_IFREG | 0o644) << 16
        self.zip.writestr(info, "\n".join(self.record) + "\n")
        self.zip.close()


def _dist_info(wheel: _Wheel, project: Dict[str, str], tag: str) -> str:
    dist_info = f"{project['name']}-{project['version']}.dist-info"
    wheel.add(f"{dist_info}/METADATA", _metadata(project).encode())
    wheel.add(
        f"{dist_info}/WHEEL",
        (
            "Wheel-Version: 1.0\n"
            "Generator: libsock_build\n"
            f"Root-Is-Purelib: {'true' if tag.endswith('-any') else 'false'}\n"
            f"Tag: {tag}\n"
        ).encode(),
    )
    return f"{dist_info}/RECORD"


def _package_files() -> List[Path]:
    package = PYTHON_DIR / "libsock"
    return sorted(
        p
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".typed")
    )


# ----------------------------------------------------------------- PEP 517 hooks


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def build_wheel(
    wheel_directory: str,
    config_settings: Optional[Dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    project = _project()
    lib, sockrun, platform = _binaries()
    tag = f"py3-none-{platform}"
    name = f"{project['name']}-{project['version']}-{tag}.whl"
    wheel = _Wheel(Path(wheel_directory) / name)
    for path in _package_files():
        wheel.add(path.relative_to(PYTHON_DIR).as_posix(), path.read_bytes())
    wheel.add("libsock/libsock.so", lib.read_bytes(), executable=True)
    data = f"{project['name']}-{project['version']}.data"
    wheel.add(f"{data}/scripts/sockrun", sockrun.read_bytes(), executable=True)
    wheel.close(_dist_info(wheel, project, tag))
    return name


def build_editable(
    wheel_directory: str,
    config_settings: Optional[Dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    """A .pth pointing at the checkout's python/ directory; the package then
    finds the build tree's target/release/libsock.so (run `make` first)."""
    project = _project()
    tag = "py3-none-any"
    name = f"{project['name']}-{project['version']}-{tag}.whl"
    wheel = _Wheel(Path(wheel_directory) / name)
    wheel.add("libsock_editable.pth", (str(PYTHON_DIR) + "\n").encode())
    wheel.close(_dist_info(wheel, project, tag))
    return name


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    """The Python package, this backend and the crate's sources, laid out so
    that the sdist's root is both the Python project and the crate."""
    project = _project()
    root = _crate_root()
    base = f"{project['name']}-{project['version']}"
    name = f"{base}.tar.gz"
    members: List[Tuple[Path, str]] = [
        (PYTHON_DIR / "pyproject.toml", "pyproject.toml"),
        (PYTHON_DIR / "README.md", "README.md"),
        (HERE / "libsock_build.py", "_build/libsock_build.py"),
    ]
    members += [(p, p.relative_to(PYTHON_DIR).as_posix()) for p in _package_files()]
    members += [(root / f, f) for f in CRATE_FILES if (root / f).is_file()]
    for d in CRATE_DIRS:
        members += [
            (p, p.relative_to(root).as_posix()) for p in sorted((root / d).rglob("*")) if p.is_file()
        ]
    pkg_info = _metadata(project).encode()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    with tarfile.open(Path(sdist_directory) / name, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for path, arcname in members:
            info = tar.gettarinfo(str(path), f"{base}/{arcname}")
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = epoch
            with open(path, "rb") as f:
                tar.addfile(info, f)
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(pkg_info)
        info.mode = 0o644
        info.mtime = epoch
        tar.addfile(info, io.BytesIO(pkg_info))
    return name


def _main() -> None:
    """`python3 libsock_build.py wheel|sdist DIR`: what `make dist` runs."""
    kind, directory = sys.argv[1], sys.argv[2]
    Path(directory).mkdir(parents=True, exist_ok=True)
    hook = {"wheel": build_wheel, "sdist": build_sdist}[kind]
    print(Path(directory) / hook(directory))


if __name__ == "__main__":
    _main()
