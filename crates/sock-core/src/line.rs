//! A line formatted into a fixed buffer: no allocation, so it can be built
//! while the host's allocator or the dynamic linker is mid-call.

use core::fmt::{self, Write};

/// Longest line written; longer messages are cut, never split.
pub const LINE_MAX: usize = 2048;

/// A fixed buffer that formats into itself and drops what does not fit.
pub struct LineBuf {
    buf: [u8; LINE_MAX],
    len: usize,
}

impl LineBuf {
    /// An empty line.
    pub const fn new() -> Self {
        LineBuf {
            buf: [0; LINE_MAX],
            len: 0,
        }
    }

    /// The bytes formatted so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Ends the line with `\n`, replacing the last byte if the buffer is full.
    pub fn finish_line(&mut self) -> &[u8] {
        if self.len == LINE_MAX {
            self.len -= 1;
        }
        self.buf[self.len] = b'\n';
        self.len += 1;
        self.as_bytes()
    }
}

impl Default for LineBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = LINE_MAX - self.len;
        let take = s.len().min(room);
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_and_still_end_in_newline() {
        let mut line = LineBuf::new();
        for _ in 0..LINE_MAX {
            write!(line, "0123456789").unwrap();
        }
        let bytes = line.finish_line();
        assert_eq!(bytes.len(), LINE_MAX);
        assert_eq!(bytes[LINE_MAX - 1], b'\n');
    }
}
