//! Reading a library's lines with a bound on their length.
//!
//! `BufReader::lines` keeps a line in memory until its newline comes, however long, and fails
//! the whole stream on one invalid UTF-8 byte. This reader keeps at most the limit: past it,
//! the rest of the line is read and thrown away up to its newline, and the caller is told how
//! long the line was. Lines are bytes; the caller decides what to do with invalid text.

use memchr::memchr;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// What the next read found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A whole line, without its newline (or the last bytes before the end of the stream).
    Line(Vec<u8>),
    /// A line longer than the limit, discarded; `bytes` counts it without the newline.
    TooLong { bytes: usize },
    /// The stream ended.
    End,
}

/// Lines of at most `max` bytes from a byte stream.
pub(crate) struct BoundedLines<R> {
    reader: BufReader<R>,
    max: usize,
    line: Vec<u8>,
    /// Bytes of the current over-long line thrown away so far; kept here so a cancelled read
    /// resumes where it stopped.
    discarded: Option<usize>,
}

impl<R: AsyncRead + Unpin> BoundedLines<R> {
    pub(crate) fn new(reader: R, max: usize) -> BoundedLines<R> {
        BoundedLines {
            reader: BufReader::new(reader),
            max,
            line: Vec::new(),
            discarded: None,
        }
    }

    /// Reads up to the next newline.
    pub(crate) async fn next(&mut self) -> std::io::Result<Next> {
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                return Ok(self.end_of_stream());
            }
            let (piece, complete) = match memchr(b'\n', available) {
                Some(newline) => (&available[..newline], true),
                None => (available, false),
            };
            let taken = piece.len() + usize::from(complete);
            let piece_len = piece.len();
            match &mut self.discarded {
                Some(bytes) => *bytes += piece_len,
                None if self.line.len() + piece_len > self.max => {
                    self.discarded = Some(self.line.len() + piece_len);
                    // Give the memory back now, not after the next long line.
                    self.line = Vec::new();
                }
                None => self.line.extend_from_slice(piece),
            }
            self.reader.consume(taken);
            if complete {
                return Ok(self.finish_line());
            }
        }
    }

    fn finish_line(&mut self) -> Next {
        match self.discarded.take() {
            Some(bytes) => Next::TooLong { bytes },
            None => Next::Line(std::mem::take(&mut self.line)),
        }
    }

    fn end_of_stream(&mut self) -> Next {
        if self.discarded.is_none() && self.line.is_empty() {
            return Next::End;
        }
        self.finish_line()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(input: &[u8], max: usize) -> Vec<Next> {
        let mut lines = BoundedLines::new(input, max);
        let mut found = Vec::new();
        loop {
            let next = lines.next().await.unwrap();
            if next == Next::End {
                return found;
            }
            found.push(next);
        }
    }

    #[tokio::test]
    async fn lines_up_to_the_limit_pass_and_longer_ones_are_measured_and_dropped() {
        let found = read_all(b"12345\n123456\n\xff\xfe\nlast", 5).await;
        assert_eq!(
            found,
            [
                Next::Line(b"12345".to_vec()),
                Next::TooLong { bytes: 6 },
                Next::Line(b"\xff\xfe".to_vec()),
                Next::Line(b"last".to_vec()),
            ]
        );
    }

    #[tokio::test]
    async fn a_long_line_across_many_reads_keeps_memory_at_the_limit() {
        let mut input = vec![b'x'; 100_000];
        input.extend_from_slice(b"\nok\n");
        let mut lines = BoundedLines::new(&input[..], 1000);
        assert_eq!(
            lines.next().await.unwrap(),
            Next::TooLong { bytes: 100_000 }
        );
        assert!(lines.line.capacity() <= 1000 + 8192);
        assert_eq!(lines.next().await.unwrap(), Next::Line(b"ok".to_vec()));
        assert_eq!(lines.next().await.unwrap(), Next::End);
    }
}
