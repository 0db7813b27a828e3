//! The fast structural scan of a block of records, 64 bytes at a time.
//!
//! The record splitter ([`crate::split`]) walks a record byte by byte; that is
//! exact but costs a branch per byte. Passes over a whole day (scoring, rules,
//! heuristics, sort) instead scan large blocks the way simdjson and simdcsv do:
//! for each 64-byte chunk, one bit mask per special byte (quote, comma, line
//! feed, carriage return); a prefix XOR of the quote mask tells which bytes
//! are inside quotes; the separators outside quotes are then visited bit by
//! bit, a few instructions per field instead of a few per byte.
//!
//! The scan never decides what is an error. It checks everything the splitter
//! would refuse (a quote that opens inside a field or closes before its end,
//! a carriage return not ending a line, an empty line, a ragged row, invalid
//! UTF-8) and, when any of it happens among the records it found, calls the
//! block [`Scan::Suspect`]: the caller then reads that block with the exact
//! splitter, which finds and positions the error as it always did. A clean
//! block is one the splitter would read to the same records and fields.

use std::ops::Range;

/// Where the records of a scanned slice lie, as offsets into that slice.
#[derive(Debug, Default)]
pub(crate) struct BlockIndex {
    /// Field end offsets, `width` per record (a field ends before its comma,
    /// its line feed, or the carriage return of a `\r\n`).
    pub ends: Vec<u32>,
    /// One mark per whole record, in order.
    pub records: Vec<RecordMark>,
}

/// One record found by the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordMark {
    /// Offset just past the record's line end: where the next record starts.
    pub next: u32,
    /// Line feeds inside quoted fields (the next record starts that many
    /// lines further down, plus one).
    pub inner_newlines: u32,
    /// A field holds doubled quotes: its text needs unescaping, which the
    /// splitter does.
    pub escaped: bool,
}

/// What the scan found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// The records in the index are exactly what the splitter would read;
    /// the bytes after the last one are an unfinished record.
    Clean,
    /// Something among the records needs the splitter's judgement.
    Suspect,
}

/// Bit masks of the special bytes of one 64-byte chunk (bit `i` for byte `i`).
struct Masks {
    quote: u64,
    comma: u64,
    line_feed: u64,
    carriage_return: u64,
}

/// Builds the masks of a chunk with SSE2 (part of every x86-64 processor):
/// 16 bytes per compare, one mask move per compare.
#[cfg(target_arch = "x86_64")]
fn classify(chunk: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let lanes: [__m128i; 4] = std::array::from_fn(|lane| {
        let bytes: &[u8; 16] = chunk[lane * 16..][..16]
            .try_into()
            .expect("a 64-byte chunk holds four 16-byte lanes");
        // SAFETY: `bytes` is 16 readable bytes, and `_mm_loadu_si128`
        // accepts any alignment.
        unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
    });
    let mask_of = |byte: u8| {
        lanes.iter().enumerate().fold(0u64, |mask, (lane, &bytes)| {
            // SAFETY: SSE2 is part of the x86-64 baseline, so these
            // instructions exist on every processor this code runs on.
            let bits = unsafe {
                _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(byte as i8))) as u16
            };
            mask | u64::from(bits) << (lane * 16)
        })
    };
    Masks {
        quote: mask_of(b'"'),
        comma: mask_of(b','),
        line_feed: mask_of(b'\n'),
        carriage_return: mask_of(b'\r'),
    }
}

/// Builds the masks of a chunk, one byte at a time (other processors).
#[cfg(not(target_arch = "x86_64"))]
fn classify(chunk: &[u8; 64]) -> Masks {
    let mut masks = Masks {
        quote: 0,
        comma: 0,
        line_feed: 0,
        carriage_return: 0,
    };
    for (bit, &byte) in chunk.iter().enumerate() {
        masks.quote |= u64::from(byte == b'"') << bit;
        masks.comma |= u64::from(byte == b',') << bit;
        masks.line_feed |= u64::from(byte == b'\n') << bit;
        masks.carriage_return |= u64::from(byte == b'\r') << bit;
    }
    masks
}

/// Bit `i` of the result is the XOR of bits `0..=i` of `bits`: for the quote
/// mask, whether byte `i` is inside quotes (an opening quote counts as inside,
/// a closing one as outside; a doubled quote toggles twice).
fn prefix_xor(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

/// State carried from one chunk to the next, as the top bit of the previous
/// chunk's masks.
#[derive(Default)]
struct Carry {
    /// All ones when the previous chunk ended inside quotes.
    inside: u64,
    /// The previous byte separated fields (or there was none: a record start).
    separator: u64,
    /// The previous byte closed a quoted field.
    closing_quote: u64,
    /// The previous byte was a carriage return outside quotes.
    carriage_return: u64,
}

/// The index being built, in locals the compiler can keep in registers.
struct Builder {
    ends: Vec<u32>,
    records: Vec<RecordMark>,
    width: usize,
    /// Where the current record starts, and its first field end in `ends`.
    start: usize,
    first_end: usize,
    inner_newlines: u32,
    escaped: bool,
    /// Every record so far has `width` fields and some content.
    shaped_right: bool,
}

impl Builder {
    /// A separator at `at`: a comma, or the line feed ending the record.
    #[inline(always)]
    fn separator(&mut self, bytes: &[u8], at: usize, line_feed: bool) {
        if !line_feed {
            self.ends.push(at as u32);
            return;
        }
        // The carriage return of a `\r\n` belongs to the line end.
        let content_end = if at > self.start && bytes[at - 1] == b'\r' {
            at - 1
        } else {
            at
        };
        self.ends.push(content_end as u32);
        self.shaped_right &=
            self.ends.len() - self.first_end == self.width && content_end > self.start;
        self.records.push(RecordMark {
            next: (at + 1) as u32,
            inner_newlines: self.inner_newlines,
            escaped: self.escaped,
        });
        self.start = at + 1;
        self.first_end = self.ends.len();
        self.inner_newlines = 0;
        self.escaped = false;
    }
}

/// Scans `bytes`, which start at a record boundary, for records of `width`
/// fields; when the whole records found are clean, returns their text (the
/// bytes after them are an unfinished record). Fills `index` (cleared first).
pub(crate) fn scan_text<'b>(
    bytes: &'b [u8],
    width: usize,
    index: &mut BlockIndex,
) -> Option<&'b str> {
    match scan(bytes, width, index) {
        Scan::Clean => {
            let whole = index.records.last().map_or(0, |mark| mark.next as usize);
            std::str::from_utf8(&bytes[..whole]).ok()
        }
        Scan::Suspect => None,
    }
}

/// Scans `bytes`, which start at a record boundary, for records of `width`
/// fields. Fills `index` (cleared first) with the whole records found.
/// `bytes` must be shorter than 4 GiB (offsets are 32-bit).
fn scan(bytes: &[u8], width: usize, index: &mut BlockIndex) -> Scan {
    let mut built = Builder {
        ends: std::mem::take(&mut index.ends),
        records: std::mem::take(&mut index.records),
        width,
        start: 0,
        first_end: 0,
        inner_newlines: 0,
        escaped: false,
        shaped_right: true,
    };
    built.ends.clear();
    built.records.clear();
    let mut carry = Carry {
        separator: 1,
        ..Carry::default()
    };
    let mut first_problem = usize::MAX;
    for base in (0..bytes.len()).step_by(64) {
        let end = (base + 64).min(bytes.len());
        let (masks, valid) = match bytes[base..end].try_into() {
            Ok(chunk) => (classify(chunk), u64::MAX),
            Err(_) => {
                // The last, shorter chunk, padded with bytes that are not special.
                let mut chunk = [0u8; 64];
                chunk[..end - base].copy_from_slice(&bytes[base..end]);
                (classify(&chunk), (1u64 << (end - base)) - 1)
            }
        };

        let inside = prefix_xor(masks.quote) ^ carry.inside;
        let opening = masks.quote & inside;
        let closing = masks.quote & !inside;
        let separators = (masks.comma | masks.line_feed) & !inside;
        let carriage_returns = masks.carriage_return & !inside;
        let after_separator = separators << 1 | carry.separator;
        let after_closing = closing << 1 | carry.closing_quote;
        let after_carriage_return = carriage_returns << 1 | carry.carriage_return;

        // A quote opens a field only at its start (or doubles a quote just closed).
        let mut problems = opening & !(after_separator | after_closing);
        // A closing quote ends its field (or is doubled).
        problems |=
            after_closing & !(masks.comma | masks.line_feed | masks.carriage_return | masks.quote);
        // A carriage return outside quotes belongs to a `\r\n`.
        problems |= after_carriage_return & !masks.line_feed;
        problems &= valid;
        if problems != 0 && first_problem == usize::MAX {
            first_problem = base + problems.trailing_zeros() as usize;
        }

        carry.inside = ((inside as i64) >> 63) as u64;
        carry.separator = separators >> 63;
        carry.closing_quote = closing >> 63;
        carry.carriage_return = carriage_returns >> 63;

        let separators = separators & valid;
        let doubled = opening & after_closing & valid;
        let inner_line_feeds = masks.line_feed & inside & valid;
        if doubled | inner_line_feeds == 0 {
            let mut events = separators;
            while events != 0 {
                let offset = events.trailing_zeros();
                events &= events - 1;
                let line_feed = masks.line_feed >> offset & 1 != 0;
                built.separator(bytes, base + offset as usize, line_feed);
            }
            continue;
        }
        // Rarely: doubled quotes or line feeds inside quotes, which belong
        // to the record they are in, so all events go in byte order.
        let mut events = separators | doubled | inner_line_feeds;
        while events != 0 {
            let offset = events.trailing_zeros();
            let bit = 1u64 << offset;
            events &= events - 1;
            if separators & bit != 0 {
                built.separator(bytes, base + offset as usize, masks.line_feed & bit != 0);
            } else if doubled & bit != 0 {
                built.escaped = true;
            } else {
                built.inner_newlines += 1;
            }
        }
    }
    let Builder {
        mut ends,
        records,
        shaped_right,
        ..
    } = built;
    ends.truncate(records.len() * width);
    index.ends = ends;
    index.records = records;
    // A problem anywhere is an error in the file, even in the unfinished
    // record at the end: the quote state is exact up to the first problem.
    // Calling it suspect now lets the splitter report it at once, instead of
    // reading on in search of the end of a record that never ends.
    if !shaped_right || first_problem != usize::MAX {
        Scan::Suspect
    } else {
        Scan::Clean
    }
}

/// The raw span of field `field` of the record starting at `start` whose
/// field ends are `ends`.
pub(crate) fn field_span(start: usize, ends: &[u32], field: usize) -> Range<usize> {
    let from = match field {
        0 => start,
        _ => ends[field - 1] as usize + 1,
    };
    from..ends[field] as usize
}
