//! [`Stamped`]: a writer that begins every line with an RFC 3339 UTC timestamp (`--timestamps`), so
//! that a CI log of the events printer tells when each line was written.

use std::io::{self, Write};

use super::json::Clock;

/// Passes bytes to `W`, writing `<timestamp> ` before the first byte of each line when a clock is set.
pub(crate) struct Stamped<W> {
    inner: W,
    clock: Option<Clock>,
    at_line_start: bool,
}

impl<W: Write> Stamped<W> {
    /// Stamps lines with `clock`; None passes every byte through unchanged.
    pub(crate) fn new(inner: W, clock: Option<Clock>) -> Self {
        Stamped { inner, clock, at_line_start: true }
    }

    pub(crate) fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for Stamped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(clock) = &mut self.clock else { return self.inner.write(buf) };
        for piece in buf.split_inclusive(|&byte| byte == b'\n') {
            if self.at_line_start {
                write!(self.inner, "{:.3} ", clock())?;
            }
            self.inner.write_all(piece)?;
            self.at_line_start = piece.ends_with(b"\n");
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    #[test]
    fn every_line_and_only_a_line_start_gets_a_timestamp() {
        let clock: Clock = Box::new(|| "2024-06-01T12:00:05.25Z".parse::<Timestamp>().unwrap());
        let mut out = Stamped::new(Vec::new(), Some(clock));
        write!(out, "one\ntw").unwrap();
        writeln!(out, "o").unwrap();
        writeln!(out, "three").unwrap();
        assert_eq!(
            String::from_utf8(out.into_inner()).unwrap(),
            "2024-06-01T12:00:05.250Z one\n2024-06-01T12:00:05.250Z two\n2024-06-01T12:00:05.250Z three\n"
        );
        let mut plain = Stamped::new(Vec::new(), None);
        writeln!(plain, "as is").unwrap();
        assert_eq!(plain.into_inner(), b"as is\n");
    }
}
