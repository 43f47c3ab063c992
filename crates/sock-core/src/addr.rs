//! Socket addresses as libsock reads and writes them: decoded from raw
//! bytes and encoded back (pure, every family, every length). Reading the
//! bytes out of a caller's memory is the library's job (`src/caller.rs`).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

/// The largest socket address (`sizeof(struct sockaddr_storage)`).
pub const MAX_LEN: usize = 128;

/// A socket address, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SockAddr {
    /// AF_INET
    V4(SocketAddrV4),
    /// AF_INET6
    V6(SocketAddrV6),
    /// AF_UNIX with a path.
    Path(Vec<u8>),
    /// AF_UNIX in the abstract namespace (the name after the NUL).
    Abstract(Vec<u8>),
    /// AF_UNIX with no name.
    Unnamed,
    /// A family libsock does not decode, or too short for its family.
    Other {
        /// `sa_family`, if the bytes hold one.
        family: Option<u16>,
        /// How many bytes there were.
        len: usize,
    },
}

impl SockAddr {
    /// Decodes `bytes` as the kernel would read a `len`-byte address.
    pub fn decode(bytes: &[u8]) -> SockAddr {
        let other = |family| SockAddr::Other {
            family,
            len: bytes.len(),
        };
        let Some(family) = bytes.get(..2).map(|b| u16::from_ne_bytes([b[0], b[1]])) else {
            return other(None);
        };
        match i32::from(family) {
            libc::AF_INET if bytes.len() >= 8 => {
                let port = u16::from_be_bytes([bytes[2], bytes[3]]);
                let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
                SockAddr::V4(SocketAddrV4::new(ip, port))
            }
            libc::AF_INET6 if bytes.len() >= 24 => {
                let port = u16::from_be_bytes([bytes[2], bytes[3]]);
                let flow = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
                let mut ip = [0u8; 16];
                ip.copy_from_slice(&bytes[8..24]);
                let scope = bytes
                    .get(24..28)
                    .map_or(0, |s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]));
                SockAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, flow, scope))
            }
            libc::AF_UNIX => {
                let path = &bytes[2..];
                match path.first() {
                    None => SockAddr::Unnamed,
                    Some(0) => SockAddr::Abstract(path[1..].to_vec()),
                    Some(_) => {
                        let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                        SockAddr::Path(path[..end].to_vec())
                    }
                }
            }
            _ => other(Some(family)),
        }
    }

    /// The port of an INET or INET6 address.
    pub fn port(&self) -> Option<u16> {
        match self {
            SockAddr::V4(a) => Some(a.port()),
            SockAddr::V6(a) => Some(a.port()),
            _ => None,
        }
    }
}

impl fmt::Display for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SockAddr::V4(a) => write!(f, "{a}"),
            SockAddr::V6(a) => write!(f, "[{}]:{}", a.ip(), a.port()),
            SockAddr::Path(p) => write!(f, "{}", Escaped(p)),
            SockAddr::Abstract(p) => write!(f, "@{}", Escaped(p)),
            SockAddr::Unnamed => f.write_str("unnamed"),
            SockAddr::Other {
                family: Some(fam),
                len,
            } => write!(f, "family {fam}, {len} bytes"),
            SockAddr::Other {
                family: None,
                len: 0,
            } => f.write_str("none"),
            SockAddr::Other { family: None, len } => write!(f, "{len} bytes"),
        }
    }
}

/// A name's bytes as printable ASCII: a backslash doubled, and `\xNN` for
/// every byte that is not printable ASCII (a NUL, a newline, a non-UTF-8
/// byte), so a trace line stays one line and keeps every byte.
struct Escaped<'a>(&'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for &b in self.0 {
            match b {
                b'\\' => f.write_str("\\\\")?,
                0x20..=0x7e => f.write_char(b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        Ok(())
    }
}

/// Encodes an INET address as `struct sockaddr_in`.
pub fn encode_v4(a: SocketAddrV4) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
    out[2..4].copy_from_slice(&a.port().to_be_bytes());
    out[4..8].copy_from_slice(&a.ip().octets());
    out
}

/// Encodes an INET6 address as `struct sockaddr_in6`.
pub fn encode_v6(a: SocketAddrV6) -> [u8; 28] {
    let mut out = [0u8; 28];
    out[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
    out[2..4].copy_from_slice(&a.port().to_be_bytes());
    out[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
    out[8..24].copy_from_slice(&a.ip().octets());
    out[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_round_trip() {
        let a = SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 8080);
        let bytes = encode_v4(a);
        assert_eq!(SockAddr::decode(&bytes), SockAddr::V4(a));
        assert_eq!(SockAddr::decode(&bytes).to_string(), "127.0.0.1:8080");
        assert_eq!(SockAddr::decode(&bytes).port(), Some(8080));
    }

    #[test]
    fn v6_round_trip() {
        let a = SocketAddrV6::new(Ipv6Addr::LOCALHOST, 443, 7, 1);
        let bytes = encode_v6(a);
        assert_eq!(SockAddr::decode(&bytes), SockAddr::V6(a));
        assert_eq!(SockAddr::decode(&bytes).to_string(), "[::1]:443");
        // The old 24-byte sockaddr_in6 has no scope id.
        assert!(matches!(SockAddr::decode(&bytes[..24]), SockAddr::V6(x) if x.scope_id() == 0));
    }

    #[test]
    fn unix_forms() {
        let fam = (libc::AF_UNIX as u16).to_ne_bytes();
        let path = [&fam[..], b"/tmp/s\0junk"].concat();
        assert_eq!(SockAddr::decode(&path).to_string(), "/tmp/s");
        let abs = [&fam[..], b"\0name"].concat();
        assert_eq!(SockAddr::decode(&abs).to_string(), "@name");
        assert_eq!(SockAddr::decode(&fam), SockAddr::Unnamed);
        let odd = [&fam[..], b"/a\nb\\c\xff\0"].concat();
        assert_eq!(SockAddr::decode(&odd).to_string(), "/a\\x0ab\\\\c\\xff");
        let abs = [&fam[..], b"\0x\0y\0\0"].concat();
        assert_eq!(SockAddr::decode(&abs).to_string(), "@x\\x00y\\x00\\x00");
    }

    #[test]
    fn short_and_unknown() {
        assert_eq!(SockAddr::decode(&[]).to_string(), "none");
        assert_eq!(SockAddr::decode(&[2]).to_string(), "1 bytes");
        let fam = (libc::AF_INET as u16).to_ne_bytes();
        assert!(matches!(
            SockAddr::decode(&[fam[0], fam[1], 0, 80]),
            SockAddr::Other { .. }
        ));
        let odd = 4242u16.to_ne_bytes();
        assert_eq!(
            SockAddr::decode(&[odd[0], odd[1], 1, 2]).to_string(),
            "family 4242, 4 bytes"
        );
    }
}
