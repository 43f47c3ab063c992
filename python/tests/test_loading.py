"""The package loads the libsock.so under test, and its calls go through it;
a libsock already in the process (preloaded) is the one it uses: one copy."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Any, Dict, Optional, Set

from _loading_probe import PROBE, epoll_instances, mapped_libsocks
from _support import PYTHON_DIR, REPO, expected_library, preloaded_library

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
    return _python(["-c", code], env_update, path, cwd)


def _python(
    args: "list[str]", env_update: Dict[str, Optional[str]], path: str, cwd: Optional[str]
) -> "subprocess.CompletedProcess[str]":
    """A fresh interpreter with ``args``, the package importable from
    ``path``, the environment changed by ``env_update`` (None: unset)."""
    env = dict(os.environ)
    for name, value in env_update.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env["PYTHONPATH"] = path
    return subprocess.run(
        [sys.executable, *args],
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
        result = _run_import({"LIBSOCK_LIB": "/nonexistent/libsock.so", "LD_PRELOAD": None})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("LibsockNotFoundError", result.stderr)
        self.assertIn("/nonexistent/libsock.so", result.stderr)

    def test_env_names_a_library_that_is_not_libsock(self) -> None:
        result = _run_import({"LIBSOCK_LIB": "libc.so.6", "LD_PRELOAD": None})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not libsock", result.stderr)

    def test_env_wins(self) -> None:
        expected = expected_library()
        if expected is None:
            self.skipTest("no library to point LIBSOCK_LIB at")
        link = REPO / "target" / "release" / "libsock.so.0"
        target = link if link.exists() and link.resolve() == expected else expected
        result = _run_import({"LIBSOCK_LIB": str(target), "LD_PRELOAD": None})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.path.realpath(result.stdout.strip()), str(expected))

    def test_build_tree_is_found_without_env(self) -> None:
        built = REPO / "target" / "release" / "libsock.so"
        if not built.is_file():
            self.skipTest("no build tree")
        result = _run_import({"LIBSOCK_LIB": None, "LD_PRELOAD": None})
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
            result = _run_import({"LIBSOCK_LIB": None, "LD_PRELOAD": None}, path=tmp, cwd=tmp)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(os.path.realpath(result.stdout.strip()), str(expected))
            # LIBSOCK_LIB still wins over it.
            result = _run_import(
                {"LIBSOCK_LIB": "/nonexistent/libsock.so", "LD_PRELOAD": None},
                "import libsock",
                path=tmp,
                cwd=tmp,
            )
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("/nonexistent/libsock.so", result.stderr)


    def test_one_libsock_in_this_process(self) -> None:
        # Plain and preloaded alike: the library in use is the only one mapped.
        self.assertEqual(mapped_libsocks(), {libsock.lib_path})
        if preloaded_library() is not None:
            self.assertEqual(_lib.lib_origin, "mapped")
            self.assertEqual(Path(libsock.lib_path), preloaded_library())


def _probe(env_update: Dict[str, Optional[str]], cwd: Optional[str] = None) -> Dict[str, Any]:
    """Run _loading_probe.py in a fresh interpreter; its JSON report."""
    result = _python([str(PROBE)], env_update, str(PYTHON_DIR), cwd)
    if result.returncode != 0:
        raise AssertionError(f"probe failed ({result.returncode}):\n{result.stderr}")
    report: Dict[str, Any] = json.loads(result.stdout)
    return report


class MappedLibraryTest(unittest.TestCase):
    """A libsock preloaded from another install: ``import libsock`` uses it,
    loads no second copy (not even when LIBSOCK_LIB names another file), and
    so gets the preloaded backend: the copy in use sees Python's closes and
    waits with epoll."""

    tmp: str
    copy: str

    @classmethod
    def setUpClass(cls) -> None:
        built = expected_library()
        if built is None:
            raise unittest.SkipTest("no library to copy")
        cls.tmp = os.path.realpath(tempfile.mkdtemp(prefix="libsock-mapped-"))
        # In a subdirectory: a libsock.so in a directory on sys.path would be
        # taken by Python for an extension module named libsock.
        os.mkdir(os.path.join(cls.tmp, "other"))
        cls.copy = os.path.join(cls.tmp, "other", "libsock.so")
        shutil.copyfile(built, cls.copy)

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def assert_uses_the_copy(self, report: Dict[str, Any]) -> None:
        self.assertEqual(report["lib_path"], self.copy)
        self.assertEqual(report["origin"], "mapped")
        self.assertEqual(report["mapped"], [self.copy], "one libsock mapped, the preloaded one")
        self.assertEqual(report["close"], self.copy, "the program's close is the copy in use")
        self.assertTrue(report["ready"])
        self.assertEqual(report["new_epoll"], 1, "the wait is epoll-backed")

    def test_preloaded_copy_wins_over_LIBSOCK_LIB(self) -> None:
        build = REPO / "target" / "release" / "libsock.so"
        other = str(build) if build.is_file() else str(expected_library())
        report = _probe({"LD_PRELOAD": self.copy, "LIBSOCK_LIB": other})
        self.assert_uses_the_copy(report)

    def test_preloaded_copy_needs_no_variable(self) -> None:
        # LIBSOCK_LIB naming nothing is not consulted: the mapped one is used.
        report = _probe({"LD_PRELOAD": self.copy, "LIBSOCK_LIB": "/nonexistent/libsock.so"})
        self.assert_uses_the_copy(report)

    def test_preloaded_by_a_relative_path_through_a_link(self) -> None:
        # The loader knows it as "link/libsock.so.0"; the probe then changes
        # directory: lib_path is still the real file.
        os.makedirs(os.path.join(self.tmp, "link"), exist_ok=True)
        link = os.path.join(self.tmp, "link", "libsock.so.0")
        if not os.path.islink(link):
            os.symlink(self.copy, link)
        report = _probe(
            {"LD_PRELOAD": "link/libsock.so.0", "LIBSOCK_LIB": None, "PROBE_CHDIR": "/"},
            cwd=self.tmp,
        )
        self.assert_uses_the_copy(report)

    def test_preloaded_libsock_without_an_export_fails_the_import(self) -> None:
        # A stand-in for an older libsock: it exports libsock_version and
        # nothing else. The import fails naming what is missing; it does
        # not load LIBSOCK_LIB's library beside it.
        cc = shutil.which("cc")
        if cc is None:
            self.skipTest("no C compiler")
        source = os.path.join(self.tmp, "old.c")
        old = os.path.join(self.tmp, "old", "libsock.so")
        os.makedirs(os.path.dirname(old), exist_ok=True)
        with open(source, "w") as out:
            out.write('const char *libsock_version(void) { return "0.0.1"; }\n')
        subprocess.run([cc, "-shared", "-fPIC", source, "-o", old], check=True, timeout=60)
        result = _run_import(
            {"LD_PRELOAD": old, "LIBSOCK_LIB": str(expected_library())},
            "import libsock",
            cwd=self.tmp,
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("LibsockNotFoundError", result.stderr)
        self.assertIn(f"{old} (version 0.0.1) lacks exports", result.stderr)
        self.assertIn("sockset_select", result.stderr)
        self.assertIn("a second copy beside it is not loaded", result.stderr)

    def test_without_preload_the_wait_is_ppoll(self) -> None:
        # The contrast that makes new_epoll a witness: loaded through ctypes
        # only, libsock does not see closes and makes no epoll instance.
        report = _probe({"LD_PRELOAD": None, "LIBSOCK_LIB": self.copy})
        self.assertEqual(report["lib_path"], self.copy)
        self.assertEqual(report["origin"], "LIBSOCK_LIB")
        self.assertEqual(report["mapped"], [self.copy])
        self.assertNotEqual(report["close"], self.copy)
        self.assertTrue(report["ready"])
        self.assertEqual(report["new_epoll"], 0)


if __name__ == "__main__":
    unittest.main()
