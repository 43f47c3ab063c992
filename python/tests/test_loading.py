"""The package loads the libsock.so under test, and its calls go through it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from typing import Dict, Optional

from _support import PYTHON_DIR, REPO, expected_library

import libsock
from libsock import _lib


def _run_import(
    env_update: Dict[str, Optional[str]],
    code: str = "import libsock; print(libsock.lib_path)",
    path: str = str(PYTHON_DIR),
    cwd: Optional[str] = None,
) -> "subprocess.CompletedProcess[str]":
    """``code`` in a fresh interpreter that imports the package from
    ``path``, with the environment changed by ``env_update`` (None: unset)."""
    env = dict(os.environ)
    for name, value in env_update.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env["PYTHONPATH"] = path
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


class LoadingTest(unittest.TestCase):
    def test_lib_is_libsock(self) -> None:
        self.assertIsInstance(libsock.version(), str)
        self.assertEqual(libsock.lib.libsock_version().decode(), libsock.version())
        self.assertRegex(libsock.version(), r"^\d+\.\d+\.\d+")

    def test_version_matches_the_crate(self) -> None:
        cargo = REPO / "Cargo.toml"
        if expected_library() is None or not cargo.is_file() or os.environ.get("LIBSOCK_LIB"):
            self.skipTest("not testing the build tree's library")
        match = re.search(r'^version = "([^"]+)"', cargo.read_text(), re.M)
        assert match is not None
        self.assertEqual(libsock.version(), match.group(1))

    def test_loaded_from_the_library_under_test(self) -> None:
        expected = expected_library()
        if expected is None:
            self.skipTest("no LIBSOCK_LIB and no build tree: loaded from the system")
        self.assertEqual(os.path.realpath(libsock.lib_path), str(expected))

    def test_socket_symbols_resolve_into_libsock(self) -> None:
        # dladdr on the function pointers ctypes holds: each export is
        # libsock's own definition, not glibc's.
        for name in _lib.PROTOTYPES:
            with self.subTest(name=name):
                where = _lib.defining_object(getattr(libsock.lib, name))
                self.assertIsNotNone(where)
                self.assertEqual(os.path.realpath(str(where)), os.path.realpath(libsock.lib_path))

    def test_every_export_has_a_prototype(self) -> None:
        for name, (restype, argtypes) in _lib.PROTOTYPES.items():
            with self.subTest(name=name):
                function = getattr(libsock.lib, name)
                self.assertIs(function.restype, restype)
                self.assertEqual(list(function.argtypes), argtypes)

    def test_env_names_a_missing_file(self) -> None:
        result = _run_import({"LIBSOCK_LIB": "/nonexistent/libsock.so"})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("LibsockNotFoundError", result.stderr)
        self.assertIn("/nonexistent/libsock.so", result.stderr)

    def test_env_names_a_library_that_is_not_libsock(self) -> None:
        result = _run_import({"LIBSOCK_LIB": "libc.so.6"})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not libsock", result.stderr)

    def test_env_wins(self) -> None:
        expected = expected_library()
        if expected is None:
            self.skipTest("no library to point LIBSOCK_LIB at")
        link = REPO / "target" / "release" / "libsock.so.0"
        target = link if link.exists() and link.resolve() == expected else expected
        result = _run_import({"LIBSOCK_LIB": str(target)})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.path.realpath(result.stdout.strip()), str(expected))

    def test_build_tree_is_found_without_env(self) -> None:
        built = REPO / "target" / "release" / "libsock.so"
        if not built.is_file():
            self.skipTest("no build tree")
        result = _run_import({"LIBSOCK_LIB": None})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.path.realpath(result.stdout.strip()), str(built.resolve()))

    def test_bundled_library_is_found(self) -> None:
        # As the wheel installs it: libsock.so inside the package directory.
        expected = expected_library()
        if expected is None:
            self.skipTest("no library to bundle")
        with tempfile.TemporaryDirectory() as tmp:
            package = os.path.join(tmp, "libsock")
            shutil.copytree(PYTHON_DIR / "libsock", package)
            bundled = os.path.join(package, "libsock.so")
            os.symlink(expected, bundled)
            result = _run_import({"LIBSOCK_LIB": None}, path=tmp, cwd=tmp)
            self.assertEqual(result.returncode, 0, result.stderr)
            # (Preloaded, lib_path is the preloaded file: the same one.)
            self.assertEqual(os.path.realpath(result.stdout.strip()), str(expected))
            # LIBSOCK_LIB still wins over it.
            result = _run_import(
                {"LIBSOCK_LIB": "/nonexistent/libsock.so"}, "import libsock", path=tmp, cwd=tmp
            )
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("/nonexistent/libsock.so", result.stderr)


if __name__ == "__main__":
    unittest.main()
