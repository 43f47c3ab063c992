//! `SockAddr::decode` on every family and every length, the encoders, the
//! Display form. (Reading caller memory — `copy_in` and the readers built on
//! it — is the library's, `src/caller.rs`; its unit test runs the same
//! property over this target's corpus.)

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use sock_core::addr::{self, MAX_LEN, SockAddr};

/// The fuzz input is a socket address as a program would pass it.
pub fn run(data: &[u8]) {
    decode_matches_layout(data);
    for len in [data.len(), data.len().min(MAX_LEN)] {
        round_trips(&data[..len]);
    }
    // Every prefix: what a caller passing a shorter `addrlen` would make us read.
    if data.len() <= 40 {
        for len in 0..data.len() {
            decode_matches_layout(&data[..len]);
        }
    }
    encoders(data);
}

fn family(bytes: &[u8]) -> Option<u16> {
    bytes.get(..2).map(|b| u16::from_ne_bytes([b[0], b[1]]))
}

/// The decoded form is what the kernel's layout says the bytes hold.
fn decode_matches_layout(bytes: &[u8]) {
    let a = SockAddr::decode(bytes);
    let text = a.to_string();
    let len = bytes.len();
    let other = SockAddr::Other {
        family: family(bytes),
        len,
    };
    let want = match family(bytes).map(i32::from) {
        None => other,
        Some(libc::AF_INET) if len >= 8 => SockAddr::V4(SocketAddrV4::new(
            Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]),
            u16::from_be_bytes([bytes[2], bytes[3]]),
        )),
        Some(libc::AF_INET6) if len >= 24 => {
            let ip: [u8; 16] = bytes[8..24].try_into().unwrap();
            let scope = if len >= 28 {
                u32::from_ne_bytes(bytes[24..28].try_into().unwrap())
            } else {
                0
            };
            SockAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                u16::from_be_bytes([bytes[2], bytes[3]]),
                u32::from_be_bytes(bytes[4..8].try_into().unwrap()),
                scope,
            ))
        }
        Some(libc::AF_UNIX) => match bytes.get(2) {
            None => SockAddr::Unnamed,
            Some(0) => SockAddr::Abstract(bytes[3..].to_vec()),
            Some(_) => SockAddr::Path(bytes[2..].split(|&b| b == 0).next().unwrap().to_vec()),
        },
        Some(_) => other,
    };
    assert_eq!(a, want, "decode({bytes:02x?})");
    assert_eq!(
        a.port(),
        match &a {
            SockAddr::V4(v) => Some(v.port()),
            SockAddr::V6(v) => Some(v.port()),
            _ => None,
        }
    );
    // Display: never empty, and the INET forms read back.
    assert!(!text.is_empty());
    match &a {
        SockAddr::V4(v) => assert_eq!(text.parse::<SocketAddrV4>().ok(), Some(*v), "{text}"),
        SockAddr::V6(v) => {
            let back: SocketAddrV6 = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((back.ip(), back.port()), (v.ip(), v.port()), "{text}");
        }
        // A name is shown as printable ASCII that keeps every byte.
        SockAddr::Path(p) => {
            assert!(!p.is_empty() && !p.contains(&0));
            assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)), "{text:?}");
            assert_eq!(&unescape(&text), p, "{text:?}");
        }
        SockAddr::Abstract(p) => {
            assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)), "{text:?}");
            assert_eq!(&unescape(&text[1..]), p, "{text:?}");
            assert!(text.starts_with('@'));
        }
        SockAddr::Unnamed => assert_eq!(text, "unnamed"),
        SockAddr::Other {
            family: Some(f),
            len,
        } => assert_eq!(text, format!("family {f}, {len} bytes")),
        SockAddr::Other {
            family: None,
            len: 0,
        } => assert_eq!(text, "none"),
        SockAddr::Other { family: None, len } => assert_eq!(text, format!("{len} bytes")),
    }
}

/// Re-encoding an INET/INET6 address gives the same bytes the kernel reads,
/// and decoding those gives the same address.
fn round_trips(bytes: &[u8]) {
    match SockAddr::decode(bytes) {
        SockAddr::V4(v) => {
            let enc = addr::encode_v4(v);
            assert_eq!(enc[..8], bytes[..8]);
            assert!(enc[8..].iter().all(|&b| b == 0), "sin_zero");
            assert_eq!(SockAddr::decode(&enc), SockAddr::V4(v));
        }
        SockAddr::V6(v) => {
            let enc = addr::encode_v6(v);
            assert_eq!(enc[..24], bytes[..24]);
            if bytes.len() >= 28 {
                assert_eq!(enc[24..], bytes[24..28]);
            } else {
                assert_eq!(v.scope_id(), 0);
            }
            assert_eq!(SockAddr::decode(&enc), SockAddr::V6(v));
            assert_eq!(SockAddr::decode(&enc[..24]), {
                let mut old = v;
                old.set_scope_id(0);
                SockAddr::V6(old)
            });
        }
        _ => {}
    }
}

/// Addresses built from the input's bytes encode and decode to themselves.
fn encoders(data: &[u8]) {
    let mut b = [0u8; 26];
    let n = data.len().min(b.len());
    b[..n].copy_from_slice(&data[..n]);
    let v4 = SocketAddrV4::new(
        Ipv4Addr::new(b[0], b[1], b[2], b[3]),
        u16::from_le_bytes([b[4], b[5]]),
    );
    let enc = addr::encode_v4(v4);
    assert_eq!(SockAddr::decode(&enc), SockAddr::V4(v4));
    assert_eq!(SockAddr::decode(&enc[..8]), SockAddr::V4(v4));
    assert!(matches!(
        SockAddr::decode(&enc[..7]),
        SockAddr::Other { .. }
    ));
    let ip: [u8; 16] = b[..16].try_into().unwrap();
    let v6 = SocketAddrV6::new(
        Ipv6Addr::from(ip),
        u16::from_le_bytes([b[16], b[17]]),
        u32::from_le_bytes(b[18..22].try_into().unwrap()),
        u32::from_le_bytes(b[22..26].try_into().unwrap()),
    );
    let enc = addr::encode_v6(v6);
    assert_eq!(SockAddr::decode(&enc), SockAddr::V6(v6));
    assert!(matches!(
        SockAddr::decode(&enc[..23]),
        SockAddr::Other { .. }
    ));
}

/// Undoes the escaping of a name in Display: `\\` and `\xNN`.
fn unescape(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if b.get(i + 1) == Some(&b'\\') => {
                out.push(b'\\');
                i += 2;
            }
            b'\\' if b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() => {
                let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{text}: {e}")));
                i += 4;
            }
            b'\\' => panic!("a lone backslash in {text:?}"),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}
