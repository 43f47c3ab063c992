"""Find and load ``libsock.so``, and declare the prototype of every export.

One libsock per process. If the process already holds a libsock in its
global scope — preloaded (``LD_PRELOAD``, ``sockrun``), or linked into the
program that embeds Python — that library is the one used, whatever the
variables below say: a second copy loaded beside it would not see the
program's ``close`` (the first copy's ``close`` is the program's), so its
``select`` could never use the epoll backend (``select`` at poll's cost,
not epoll's), and each copy would keep its own configuration and stats. The
mapped library is found through the process's own symbols
(``dlsym(RTLD_DEFAULT, "libsock_version")``, then ``dladdr`` and
``/proc/self/maps`` for its file) and opened again with ``RTLD_NOLOAD``,
which returns the loaded copy and can never map another.

Otherwise, the search order (the first that applies wins):

1. ``LIBSOCK_LIB``: the path of the shared library. When it is set nothing
   else is tried, so a test run can never silently pick another build.
2. The bundled library: ``libsock.so`` beside this file, where the wheel
   puts it (``pip install libsock-*.whl``).
3. The build tree: walking up from this file, the first directory holding
   ``target/release/libsock.so`` (the package used from a checkout, with
   ``PYTHONPATH=python`` or an editable install).
4. The system: ``ctypes.util.find_library("sock")``, then ``libsock.so.0``
   through the dynamic loader's own search (``LD_LIBRARY_PATH``, the ldconfig
   cache, the default directories).

A library found by name must export ``libsock_version``: an unrelated
``libsock`` elsewhere on the system is refused, not loaded by mistake.
The library is opened with ``use_errno=True`` so each call's errno is
captured by ctypes right after it returns (``ctypes.get_errno()``).

``lib_path`` is the real path of the file the library in use was mapped
from (as ``/proc/self/maps`` names it: symbolic links resolved), and
``lib_origin`` says how it was found: ``"mapped"`` (already in the process),
``"LIBSOCK_LIB"``, ``"bundled"``, ``"build tree"`` or ``"system"``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Any, List, Optional, Tuple

from ._cstructs import mmsghdr, msghdr, sockaddr, socklen_t, timespec, timeval

__all__ = [
    "LibsockNotFoundError",
    "lib",
    "lib_path",
    "lib_origin",
    "find_library",
    "mapped_library",
    "mapped_file",
]

_ENV = "LIBSOCK_LIB"
_BUILD_SUBPATH = Path("target") / "release" / "libsock.so"
_SONAME = "libsock.so.0"
_BUNDLED = "libsock.so"


class LibsockNotFoundError(ImportError):
    """``libsock.so`` could not be found or loaded; the message names every
    place that was tried and why each failed."""


def _build_tree_candidate(start: Path) -> Optional[Path]:
    """The first ``target/release/libsock.so`` in ``start`` or a parent."""
    for directory in (start, *start.parents):
        candidate = directory / _BUILD_SUBPATH
        if candidate.is_file():
            return candidate
    return None


def _open(name: str) -> ctypes.CDLL:
    """dlopen ``name`` and check that it is libsock, not a namesake."""
    handle = ctypes.CDLL(name, use_errno=True)
    if not hasattr(handle, "libsock_version"):
        raise OSError(f"{name} does not export libsock_version: not libsock")
    return handle


def find_library() -> Tuple[ctypes.CDLL, str]:
    """Locate and open libsock by the search (``LIBSOCK_LIB``, bundled, build
    tree, system; not the mapped one: see :func:`mapped_library`); return the
    handle and the name it was opened by. Raises
    :class:`LibsockNotFoundError` naming every place tried."""
    handle, name, _ = _search()
    return handle, name


def _search() -> Tuple[ctypes.CDLL, str, str]:
    """:func:`find_library`, with how the library was found (``lib_origin``)."""
    tried: List[str] = []

    env = os.environ.get(_ENV)
    if env:
        try:
            return _open(env), env, _ENV
        except OSError as exc:
            raise LibsockNotFoundError(
                f"libsock: cannot load {_ENV}={env!r}: {exc}"
            ) from exc

    here = Path(__file__).resolve().parent
    bundled = here / _BUNDLED
    if bundled.is_file():
        try:
            return _open(str(bundled)), str(bundled), "bundled"
        except OSError as exc:
            tried.append(f"bundled {bundled}: {exc}")

    built = _build_tree_candidate(here)
    if built is not None:
        try:
            return _open(str(built)), str(built), "build tree"
        except OSError as exc:
            tried.append(f"build tree {built}: {exc}")
    else:
        tried.append(f"build tree: no {_BUILD_SUBPATH} in {here} or its parents")

    names: List[str] = []
    found = ctypes.util.find_library("sock")
    if found:
        names.append(found)
    else:
        tried.append("system: ctypes.util.find_library('sock') found nothing")
    if _SONAME not in names:
        names.append(_SONAME)
    for name in names:
        try:
            return _open(name), name, "system"
        except OSError as exc:
            tried.append(f"system {name}: {exc}")

    raise LibsockNotFoundError(
        "libsock: libsock.so not found. Set "
        + _ENV
        + " to its path, build it with `make` in the source tree, or install it"
        + " (make install). Tried:\n  "
        + "\n  ".join([f"{_ENV}: not set", *tried])
    )


class _DlInfo(ctypes.Structure):
    _fields_ = [
        ("dli_fname", ctypes.c_char_p),
        ("dli_fbase", ctypes.c_void_p),
        ("dli_sname", ctypes.c_char_p),
        ("dli_saddr", ctypes.c_void_p),
    ]


def _dladdr(address: Optional[int]) -> Optional[Tuple[str, int]]:
    """``dladdr``: the name the loader knows the object holding ``address``
    by, and its base address; None if the loader cannot tell."""
    if not address:
        return None
    try:
        dladdr = ctypes.CDLL(None).dladdr
    except (OSError, AttributeError):  # pragma: no cover - glibc has dladdr
        return None
    dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
    dladdr.restype = ctypes.c_int
    info = _DlInfo()
    if not dladdr(address, ctypes.byref(info)) or not info.dli_fname:
        return None
    return os.fsdecode(info.dli_fname), info.dli_fbase or 0


def _address(function: Any) -> Optional[int]:
    """The address of a ctypes function pointer."""
    address: Optional[int] = ctypes.cast(function, ctypes.c_void_p).value
    return address


def defining_object(function: Any) -> Optional[str]:
    """The path of the shared object that defines ``function`` (a ctypes
    function pointer), by ``dladdr``; None if the loader cannot tell."""
    where = _dladdr(_address(function))
    return where[0] if where else None


_DELETED = " (deleted)"


def mapped_file(function: Any) -> Optional[str]:
    """The file the mapping holding ``function`` (a ctypes function pointer)
    comes from, as ``/proc/self/maps`` names it: the kernel's absolute path,
    symbolic links resolved, whatever name the loader was given. None if
    no file mapping holds it (or /proc is not mounted)."""
    address = _address(function)
    if not address:
        return None
    try:
        with open("/proc/self/maps", "rb") as maps:
            for line in maps:
                fields = line.split(None, 5)
                if len(fields) < 6 or not fields[5].startswith(b"/"):
                    continue
                low, _, high = fields[0].partition(b"-")
                if int(low, 16) <= address < int(high, 16):
                    path = os.fsdecode(fields[5].rstrip(b"\n"))
                    return path[: -len(_DELETED)] if path.endswith(_DELETED) else path
    except OSError:
        return None
    return None


def mapped_library() -> Optional[Tuple[ctypes.CDLL, str]]:
    """The libsock this process already holds in its global scope
    (preloaded, or linked into the program), opened again, and the name it
    was opened by; None if there is none.

    It is found by its own symbol (``libsock_version`` through
    ``dlopen(NULL)``, which searches the global scope as the program's own
    calls do) and opened with ``RTLD_NOLOAD``, which hands back the object
    already loaded and never maps a second copy. A libsock that another
    module opened privately (``RTLD_LOCAL``) is not in the global scope and
    is not found: it does not see the program's closes either."""
    try:
        probe = ctypes.CDLL(None).libsock_version
    except (OSError, AttributeError):
        return None
    where = _dladdr(_address(probe))
    if where is None:
        raise LibsockNotFoundError(
            "libsock: this process already holds a libsock, but dladdr cannot name"
            " its file, so it cannot be opened without loading a second copy"
        )
    name, base = where
    names = [name]
    real = mapped_file(probe)
    if real and real != name:
        names.append(real)
    tried: List[str] = []
    for candidate in names:
        try:
            handle = ctypes.CDLL(candidate, mode=os.RTLD_NOLOAD, use_errno=True)
        except OSError as exc:
            tried.append(f"{candidate}: {exc}")
            continue
        got = _dladdr(_address(getattr(handle, "libsock_version", None)))
        if got is not None and got[1] == base:
            return handle, candidate
        tried.append(f"{candidate}: RTLD_NOLOAD opened another object")
    raise LibsockNotFoundError(
        "libsock: this process already holds a libsock, and opening it again failed"
        " (a second copy is not loaded instead):\n  " + "\n  ".join(tried)
    )


_c_int = ctypes.c_int
_c_uint = ctypes.c_uint
_c_void_p = ctypes.c_void_p
_c_size_t = ctypes.c_size_t
_c_ssize_t = ctypes.c_ssize_t
_sockaddr_p = ctypes.POINTER(sockaddr)
_socklen_p = ctypes.POINTER(socklen_t)
_msghdr_p = ctypes.POINTER(msghdr)
_mmsghdr_p = ctypes.POINTER(mmsghdr)

#: name -> (restype, argtypes): glibc's signatures, one per export.
PROTOTYPES = {
    "socket": (_c_int, [_c_int, _c_int, _c_int]),
    "socketpair": (_c_int, [_c_int, _c_int, _c_int, ctypes.POINTER(_c_int)]),
    "bind": (_c_int, [_c_int, _sockaddr_p, socklen_t]),
    "listen": (_c_int, [_c_int, _c_int]),
    "accept": (_c_int, [_c_int, _sockaddr_p, _socklen_p]),
    "accept4": (_c_int, [_c_int, _sockaddr_p, _socklen_p, _c_int]),
    "connect": (_c_int, [_c_int, _sockaddr_p, socklen_t]),
    "send": (_c_ssize_t, [_c_int, _c_void_p, _c_size_t, _c_int]),
    "sendto": (_c_ssize_t, [_c_int, _c_void_p, _c_size_t, _c_int, _sockaddr_p, socklen_t]),
    "sendmsg": (_c_ssize_t, [_c_int, _msghdr_p, _c_int]),
    "sendmmsg": (_c_int, [_c_int, _mmsghdr_p, _c_uint, _c_int]),
    "recv": (_c_ssize_t, [_c_int, _c_void_p, _c_size_t, _c_int]),
    "recvfrom": (_c_ssize_t, [_c_int, _c_void_p, _c_size_t, _c_int, _sockaddr_p, _socklen_p]),
    "recvmsg": (_c_ssize_t, [_c_int, _msghdr_p, _c_int]),
    "recvmmsg": (_c_int, [_c_int, _mmsghdr_p, _c_uint, _c_int, ctypes.POINTER(timespec)]),
    "__recv_chk": (_c_ssize_t, [_c_int, _c_void_p, _c_size_t, _c_size_t, _c_int]),
    "__recvfrom_chk": (
        _c_ssize_t,
        [_c_int, _c_void_p, _c_size_t, _c_size_t, _c_int, _sockaddr_p, _socklen_p],
    ),
    "setsockopt": (_c_int, [_c_int, _c_int, _c_int, _c_void_p, socklen_t]),
    "getsockopt": (_c_int, [_c_int, _c_int, _c_int, _c_void_p, _socklen_p]),
    "getsockname": (_c_int, [_c_int, _sockaddr_p, _socklen_p]),
    "getpeername": (_c_int, [_c_int, _sockaddr_p, _socklen_p]),
    "shutdown": (_c_int, [_c_int, _c_int]),
    "close": (_c_int, [_c_int]),
    "dup2": (_c_int, [_c_int, _c_int]),
    "dup3": (_c_int, [_c_int, _c_int, _c_int]),
    "close_range": (_c_int, [_c_uint, _c_uint, _c_int]),
    "libsock_version": (ctypes.c_char_p, []),
    # The SocketSet (opaque pointers).
    "sockset_new": (_c_void_p, []),
    "sockset_free": (None, [_c_void_p]),
    "sockset_add": (_c_int, [_c_void_p, _c_int]),
    "sockset_add_many": (_c_int, [_c_void_p, ctypes.POINTER(_c_int), _c_size_t]),
    "sockset_remove": (_c_int, [_c_void_p, _c_int]),
    "sockset_is_set": (_c_int, [_c_void_p, _c_int]),
    "sockset_reset": (None, [_c_void_p]),
    "sockset_count": (_c_size_t, [_c_void_p]),
    "sockset_max": (_c_int, [_c_void_p]),
    "sockset_next": (_c_int, [_c_void_p, _c_int]),
    "sockset_members": (_c_int, [_c_void_p, ctypes.POINTER(_c_int), _c_size_t]),
    "sockset_positions": (
        _c_int,
        [_c_void_p, ctypes.POINTER(_c_int), _c_size_t, ctypes.POINTER(_c_int)],
    ),
    "sockset_select": (_c_int, [_c_void_p, _c_void_p, _c_void_p, ctypes.POINTER(timeval)]),
}


def _declare(handle: ctypes.CDLL, name: str, origin: str) -> None:
    """Set restype/argtypes on every export, so ctypes converts and checks
    arguments instead of guessing ``int``. A library without every export
    this package declares (an older libsock) is refused, naming what it
    lacks; when it is the mapped one, no other copy is loaded instead."""
    missing = [export for export in PROTOTYPES if not hasattr(handle, export)]
    if missing:
        version = handle.libsock_version
        version.restype = ctypes.c_char_p
        raw = version()
        found = raw.decode(errors="replace") if isinstance(raw, bytes) else "?"
        advice = (
            "it is already mapped in this process (preloaded or linked), and a second"
            " copy beside it is not loaded: preload a libsock that matches this package"
            if origin == "mapped"
            else "use a libsock that matches this package"
        )
        raise LibsockNotFoundError(
            f"libsock: {name} (version {found}) lacks exports this package needs: "
            + ", ".join(missing)
            + f"; {advice}"
        )
    for export, (restype, argtypes) in PROTOTYPES.items():
        function = getattr(handle, export)
        function.restype = restype
        function.argtypes = argtypes


def _load() -> Tuple[ctypes.CDLL, str, str]:
    """The mapped libsock if there is one, else the search's."""
    mapped = mapped_library()
    if mapped is not None:
        return mapped[0], mapped[1], "mapped"
    return _search()


lib, lib_name, lib_origin = _load()
_declare(lib, lib_name, lib_origin)

def _real_path(handle: ctypes.CDLL, name: str) -> str:
    """The real path of the file ``handle`` is mapped from: the kernel's name
    for it in /proc/self/maps (links resolved); else the loader's name for
    it, resolved; else ``name``."""
    mapped = mapped_file(handle.libsock_version)
    if mapped:
        return mapped
    known = defining_object(handle.libsock_version) or name
    return os.path.realpath(known) if os.sep in known else known


#: Real path of the file the library in use is mapped from.
lib_path: str = _real_path(lib, lib_name)
