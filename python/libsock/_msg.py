"""Message calls: ``sendmsg``/``recvmsg`` (scatter/gather and ancillary data)
and the batch calls ``sendmmsg``/``recvmmsg``, through libsock.so.

Shapes follow Python's :meth:`socket.socket.sendmsg` and
:meth:`socket.socket.recvmsg`: ancillary data is a list of
``(cmsg_level, cmsg_type, data)`` tuples, e.g.
``(SOL_SOCKET, SCM_RIGHTS, array.array("i", fds).tobytes())``.
"""

from __future__ import annotations

import ctypes
import socket as _pysocket
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from . import _addr
from ._addr import Address
from ._calls import encode_for_socket
from ._cstructs import cmsghdr, iovec, mmsghdr, msghdr, timespec
from ._lib import lib
from ._util import (
    FdLike,
    call_retrying,
    readable_address,
    to_cint,
    to_fd,
    to_size,
)

__all__ = ["sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "AncData"]

#: One ancillary item: (cmsg_level, cmsg_type, data).
AncData = Tuple[int, int, bytes]

_CMSG_HEADER = ctypes.sizeof(cmsghdr)
_CMSG_ALIGN = ctypes.sizeof(ctypes.c_size_t)


def _cmsg_align(length: int) -> int:
    return (length + _CMSG_ALIGN - 1) & ~(_CMSG_ALIGN - 1)


def _encode_ancillary(
    ancdata: Iterable[Tuple[int, int, object]],
) -> Tuple[Optional[ctypes.Array[ctypes.c_char]], int]:
    """Lay out ``ancdata`` as a control buffer of CMSG_SPACE-sized items."""
    items: List[Tuple[int, int, bytes]] = []
    for item in ancdata:
        if not isinstance(item, tuple) or len(item) != 3:
            raise TypeError("ancillary data items must be (level, type, data) tuples")
        level, kind, data = item
        items.append(
            (to_cint(level, "cmsg_level"), to_cint(kind, "cmsg_type"), bytes(memoryview(data)))  # type: ignore[arg-type]
        )
    if not items:
        return None, 0
    total = sum(_pysocket.CMSG_SPACE(len(data)) for _, _, data in items)
    control = ctypes.create_string_buffer(total)
    offset = 0
    for level, kind, data in items:
        header = cmsghdr.from_buffer(control, offset)
        header.cmsg_len = _pysocket.CMSG_LEN(len(data))
        header.cmsg_level = level
        header.cmsg_type = kind
        ctypes.memmove(ctypes.addressof(control) + offset + _CMSG_HEADER, data, len(data))
        offset += _pysocket.CMSG_SPACE(len(data))
    return control, total


def _decode_ancillary(control: ctypes.Array[ctypes.c_char], length: int) -> List[AncData]:
    """Walk the control buffer the kernel filled (``length`` bytes); an item
    cut short by MSG_CTRUNC keeps the bytes that arrived, as Python does."""
    raw = ctypes.string_at(control, length)
    items: List[AncData] = []
    offset = 0
    while offset + _CMSG_HEADER <= length:
        header = cmsghdr.from_buffer_copy(raw, offset)
        if header.cmsg_len < _CMSG_HEADER:
            break
        end = min(offset + header.cmsg_len, length)
        items.append((header.cmsg_level, header.cmsg_type, raw[offset + _CMSG_HEADER : end]))
        offset += _cmsg_align(header.cmsg_len)
    return items


def _iovecs(buffers: Iterable[object]) -> Tuple[ctypes.Array[iovec], int, List[object]]:
    keep: List[object] = []
    entries: List[Tuple[int, int]] = []
    for buffer in buffers:
        address, length, owner = readable_address(buffer)
        keep.append(owner)
        entries.append((address, length))
    vector = (iovec * max(len(entries), 1))()
    for index, (address, length) in enumerate(entries):
        vector[index].iov_base = address
        vector[index].iov_len = length
    return vector, len(entries), keep


def sendmsg(
    fd: FdLike,
    buffers: Iterable[object],
    ancdata: Iterable[Tuple[int, int, object]] = (),
    flags: int = 0,
    address: Optional[Address] = None,
    *,
    family: Optional[int] = None,
) -> int:
    """``sendmsg(2)``: gather ``buffers``, with ancillary data and an
    optional destination; the number of bytes sent."""
    fd = to_fd(fd)
    flags = to_cint(flags, "flags")
    vector, count, keep = _iovecs(buffers)
    control, control_len = _encode_ancillary(ancdata)
    message = msghdr()
    message.msg_iov = vector
    message.msg_iovlen = count
    if control is not None:
        message.msg_control = ctypes.addressof(control)
        message.msg_controllen = control_len
    if address is not None:
        sa, salen = encode_for_socket(fd, address, family)
        message.msg_name = ctypes.addressof(sa)
        message.msg_namelen = salen
    sent = call_retrying(lib.sendmsg, fd, ctypes.byref(message), flags)
    del keep
    return sent


def recvmsg(
    fd: FdLike, bufsize: int, ancbufsize: int = 0, flags: int = 0
) -> Tuple[bytes, List[AncData], int, Optional[Address]]:
    """``recvmsg(2)``: ``(data, ancdata, msg_flags, address)`` as
    :meth:`socket.socket.recvmsg` returns them. ``ancbufsize`` is the size
    of the control buffer (see :func:`socket.CMSG_SPACE`)."""
    fd = to_fd(fd)
    size = to_size(bufsize, "buffersize")
    control_size = to_size(ancbufsize, "ancbufsize")
    flags = to_cint(flags, "flags")
    data = ctypes.create_string_buffer(max(size, 1))
    vector = iovec(ctypes.addressof(data), size)
    storage, _ = _addr.new_storage()
    message = msghdr()
    message.msg_name = ctypes.addressof(storage)
    message.msg_namelen = ctypes.sizeof(storage)
    message.msg_iov = ctypes.pointer(vector)
    message.msg_iovlen = 1
    control = ctypes.create_string_buffer(max(control_size, 1))
    if control_size:
        message.msg_control = ctypes.addressof(control)
        message.msg_controllen = control_size
    received = call_retrying(lib.recvmsg, fd, ctypes.byref(message), flags)
    return (
        ctypes.string_at(data, min(received, size)),
        _decode_ancillary(control, min(message.msg_controllen, control_size)),
        message.msg_flags,
        _addr.decode(storage, message.msg_namelen),
    )


Message = Union[object, Tuple[object, Address]]


def sendmmsg(
    fd: FdLike,
    messages: Sequence[Message],
    flags: int = 0,
    *,
    family: Optional[int] = None,
) -> int:
    """``sendmmsg(2)``: send each message (bytes-like data, or a
    ``(data, address)`` tuple) as one datagram in one call; the number of
    messages sent."""
    fd = to_fd(fd)
    flags = to_cint(flags, "flags")
    keep: List[object] = []
    vector = (mmsghdr * max(len(messages), 1))()
    for index, message in enumerate(messages):
        if isinstance(message, tuple):
            if len(message) != 2:
                raise TypeError("sendmmsg: a message tuple must be (data, address)")
            data, address = message
            sa, salen = encode_for_socket(fd, address, family)
            keep.append(sa)
            vector[index].msg_hdr.msg_name = ctypes.addressof(sa)
            vector[index].msg_hdr.msg_namelen = salen
        else:
            data = message
        base, length, owner = readable_address(data)
        entry = iovec(base, length)
        keep.extend((owner, entry))
        vector[index].msg_hdr.msg_iov = ctypes.pointer(entry)
        vector[index].msg_hdr.msg_iovlen = 1
    sent = call_retrying(lib.sendmmsg, fd, vector, len(messages), flags)
    del keep
    return sent


def recvmmsg(
    fd: FdLike,
    vlen: int,
    bufsize: int,
    flags: int = 0,
    timeout: Optional[float] = None,
) -> List[Tuple[bytes, Optional[Address]]]:
    """``recvmmsg(2)``: up to ``vlen`` datagrams of up to ``bufsize`` bytes
    each in one call, as ``(data, address)`` pairs. ``timeout`` (seconds)
    is recvmmsg's own, checked by the kernel only after each datagram."""
    fd = to_fd(fd)
    count = to_size(vlen, "vlen")
    if count > 0xFFFFFFFF:
        raise ValueError(f"vlen too large: {count}")
    size = to_size(bufsize, "buffersize")
    flags = to_cint(flags, "flags")
    wait: Optional[timespec] = None
    if timeout is not None:
        if timeout < 0:
            raise ValueError("timeout must be non-negative")
        seconds = int(timeout)
        wait = timespec(seconds, int((timeout - seconds) * 1e9))
    buffers = [ctypes.create_string_buffer(max(size, 1)) for _ in range(count)]
    storages = [_addr.new_storage()[0] for _ in range(count)]
    entries = (iovec * max(count, 1))()
    vector = (mmsghdr * max(count, 1))()
    for index in range(count):
        entries[index].iov_base = ctypes.addressof(buffers[index])
        entries[index].iov_len = size
        header = vector[index].msg_hdr
        header.msg_iov = ctypes.pointer(entries[index])
        header.msg_iovlen = 1
        header.msg_name = ctypes.addressof(storages[index])
        header.msg_namelen = ctypes.sizeof(storages[index])
    received = call_retrying(
        lib.recvmmsg, fd, vector, count, flags, ctypes.byref(wait) if wait else None
    )
    return [
        (
            ctypes.string_at(buffers[i], min(vector[i].msg_len, size)),
            _addr.decode(storages[i], vector[i].msg_hdr.msg_namelen),
        )
        for i in range(received)
    ]
