"""Find and load ``libsock.so``, and declare the prototype of every export.

Search order (the first that applies wins):

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
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Any, List, Optional, Tuple

from ._cstructs import mmsghdr, msghdr, sockaddr, socklen_t, timespec, timeval

__all__ = ["LibsockNotFoundError", "lib", "lib_path", "find_library"]

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
    """Locate and open libsock; return the handle and the name it was opened
    by. Raises :class:`LibsockNotFoundError` naming every place tried."""
    tried: List[str] = []

    env = os.environ.get(_ENV)
    if env:
        try:
            return _open(env), env
        except OSError as exc:
            raise LibsockNotFoundError(
                f"libsock: cannot load {_ENV}={env!r}: {exc}"
            ) from exc

    here = Path(__file__).resolve().parent
    bundled = here / _BUNDLED
    if bundled.is_file():
        try:
            return _open(str(bundled)), str(bundled)
        except OSError as exc:
            tried.append(f"bundled {bundled}: {exc}")

    built = _build_tree_candidate(here)
    if built is not None:
        try:
            return _open(str(built)), str(built)
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
            return _open(name), name
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


def defining_object(function: Any) -> Optional[str]:
    """The path of the shared object that defines ``function`` (a ctypes
    function pointer), by ``dladdr``; None if the loader cannot tell."""
    try:
        libc = ctypes.CDLL(None)
        dladdr = libc.dladdr
    except (OSError, AttributeError):  # pragma: no cover - glibc has dladdr
        return None
    dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
    dladdr.restype = ctypes.c_int
    info = _DlInfo()
    address = ctypes.cast(function, ctypes.c_void_p).value
    if not dladdr(address, ctypes.byref(info)) or not info.dli_fname:
        return None
    return os.fsdecode(info.dli_fname)


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


def _declare(handle: ctypes.CDLL) -> None:
    """Set restype/argtypes on every export, so ctypes converts and checks
    arguments instead of guessing ``int``."""
    for name, (restype, argtypes) in PROTOTYPES.items():
        function = getattr(handle, name)
        function.restype = restype
        function.argtypes = argtypes


lib, lib_name = find_library()
_declare(lib)

#: Absolute path of the loaded library as the dynamic loader reports it
#: (falls back to the name it was opened by).
lib_path: str = defining_object(lib.libsock_version) or lib_name
