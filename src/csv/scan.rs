//! The fast structural scan of a block of records, 64 bytes at a time.
//!
//! The record splitter ([`crate::csv::split`]) walks a record byte by byte; that is
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
//!
//! Kept rather than a CSV crate for measured reasons: BENCHMARKS.md, "The CSV scanner against
//! csv-core, csv and simd-csv".

use std::ops::Range;

/// Where the records of a scanned slice lie, as offsets into that slice.
#[derive(Debug, Default)]
pub(crate) struct BlockIndex {
    /// Field end offsets, `width` per record of `records` (a field ends
    /// before its comma, its line feed, or the carriage return of a `\r\n`);
    /// entries past those are scratch.
    pub ends: Vec<u32>,
    /// One mark per whole record, in order.
    pub records: Vec<RecordMark>,
    /// Every byte the scan read was ASCII, so its records are UTF-8 without a second look
    /// (see [`records_text`]).
    pub ascii: bool,
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
pub(crate) enum Scan {
    /// The records in the index are exactly what the splitter would read;
    /// the bytes after the last one are an unfinished record.
    Clean,
    /// Something among the records needs the splitter's judgement.
    Suspect,
}

/// Bit masks of the special bytes of one 64-byte chunk (bit `i` for byte `i`).
#[derive(Debug, PartialEq, Eq)]
struct Masks {
    quote: u64,
    comma: u64,
    line_feed: u64,
    carriage_return: u64,
    /// Bytes with the high bit set: not ASCII.
    non_ascii: u64,
}

impl Masks {
    /// The masks, given how to find the mask of one byte value and the high-bit mask.
    #[inline(always)]
    fn of(mask_of: impl Fn(u8) -> u64, non_ascii: u64) -> Masks {
        Masks {
            quote: mask_of(b'"'),
            comma: mask_of(b','),
            line_feed: mask_of(b'\n'),
            carriage_return: mask_of(b'\r'),
            non_ascii,
        }
    }
}

/// How a chunk's masks are built: with the widest vector instructions the
/// processor has (chosen once per scan, see [`scan`]), or byte by byte.
trait Classifier {
    /// The bit masks of the special bytes of `chunk`.
    fn classify(chunk: &[u8; 64]) -> Masks;

    /// Bit `i` of the result is the XOR of bits `0..=i` of `bits`: for the
    /// quote mask, whether byte `i` is inside quotes (an opening quote counts
    /// as inside, a closing one as outside; a doubled quote toggles twice).
    #[inline(always)]
    fn prefix_xor(mut bits: u64) -> u64 {
        for shift in [1, 2, 4, 8, 16, 32] {
            bits ^= bits << shift;
        }
        bits
    }

    /// Writes the offsets (from `base`) of the set bits of `bits`, in order,
    /// at the start of `slots`; whatever it writes after them is scratch.
    /// This one writes whole groups of eight, so its loop runs once per
    /// group rather than once per field.
    #[inline(always)]
    fn store_offsets(slots: &mut [u32; CHUNK_SLOTS], base: u32, mut bits: u64) {
        let count = bits.count_ones() as usize;
        let mut group = 0;
        while group < count {
            for slot in &mut slots[group..group + 8] {
                *slot = base + bits.trailing_zeros();
                bits &= bits.wrapping_sub(1);
            }
            group += 8;
        }
    }
}

/// Slots of `BlockIndex::ends` a chunk may write: one per byte, and room for
/// a last 16-offset vector store starting at the 48th.
const CHUNK_SLOTS: usize = 80;

/// One byte at a time: any processor, and the reference the vector
/// versions are tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
struct Portable;

impl Classifier for Portable {
    #[inline(always)]
    fn classify(chunk: &[u8; 64]) -> Masks {
        let mut masks = Masks {
            quote: 0,
            comma: 0,
            line_feed: 0,
            carriage_return: 0,
            non_ascii: 0,
        };
        for (bit, &byte) in chunk.iter().enumerate() {
            masks.quote |= u64::from(byte == b'"') << bit;
            masks.comma |= u64::from(byte == b',') << bit;
            masks.line_feed |= u64::from(byte == b'\n') << bit;
            masks.carriage_return |= u64::from(byte == b'\r') << bit;
            masks.non_ascii |= u64::from(!byte.is_ascii()) << bit;
        }
        masks
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The x86-64 classifiers. SSE2 is part of every x86-64 processor; AVX2
    //! and AVX-512BW (with carry-less multiplication for the prefix XOR) are
    //! used only after `is_x86_feature_detected!` found them, inlined into
    //! functions compiled for them (see `scan`).

    use super::{Classifier, Masks, CHUNK_SLOTS};
    use std::arch::x86_64::*;

    /// Whether `scan_avx512` can run: AVX-512BW, with carry-less
    /// multiplication, population count and trailing zero count (which
    /// every such processor has, but the compiler is told only if checked).
    pub(super) fn has_avx512() -> bool {
        is_x86_feature_detected!("avx512bw") && has_scalar_extras()
    }

    /// Whether `scan_avx2` can run: AVX2 and the same extras.
    pub(super) fn has_avx2() -> bool {
        is_x86_feature_detected!("avx2") && has_scalar_extras()
    }

    fn has_scalar_extras() -> bool {
        is_x86_feature_detected!("pclmulqdq")
            && is_x86_feature_detected!("popcnt")
            && is_x86_feature_detected!("bmi1")
    }

    /// The prefix XOR as one carry-less multiplication by all ones.
    ///
    /// # Safety
    /// The processor must have PCLMULQDQ.
    #[inline(always)]
    unsafe fn carryless_prefix_xor(bits: u64) -> u64 {
        // SAFETY: the caller guarantees PCLMULQDQ; the other intrinsics are
        // SSE2, which every x86-64 processor has.
        unsafe {
            let product =
                _mm_clmulepi64_si128(_mm_set_epi64x(0, bits as i64), _mm_set1_epi8(-1), 0);
            _mm_cvtsi128_si64(product) as u64
        }
    }

    /// 16 bytes per compare, one mask move per compare.
    pub(super) struct Sse2;

    impl Classifier for Sse2 {
        #[inline(always)]
        fn classify(chunk: &[u8; 64]) -> Masks {
            // SAFETY: SSE2 is part of the x86-64 baseline; each load reads
            // 16 bytes inside `chunk` and accepts any alignment.
            unsafe {
                let lanes: [__m128i; 4] = std::array::from_fn(|lane| {
                    _mm_loadu_si128(chunk.as_ptr().add(lane * 16).cast())
                });
                let mask_of = |byte: u8| {
                    lanes.iter().enumerate().fold(0u64, |mask, (lane, &bytes)| {
                        let equal = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(byte as i8));
                        mask | u64::from(_mm_movemask_epi8(equal) as u16) << (lane * 16)
                    })
                };
                // The mask move takes each byte's high bit: set for every non-ASCII byte.
                let non_ascii = lanes.iter().enumerate().fold(0u64, |mask, (lane, &bytes)| {
                    mask | u64::from(_mm_movemask_epi8(bytes) as u16) << (lane * 16)
                });
                Masks::of(mask_of, non_ascii)
            }
        }
    }

    /// 32 bytes per compare. Only inlined into `scan_avx2`, which runs after
    /// AVX2 and PCLMULQDQ were detected.
    pub(super) struct Avx2;

    impl Classifier for Avx2 {
        #[inline(always)]
        fn classify(chunk: &[u8; 64]) -> Masks {
            // SAFETY: reached only from `scan_avx2` (AVX2 detected); each
            // load reads 32 bytes inside `chunk`.
            unsafe {
                let low = _mm256_loadu_si256(chunk.as_ptr().cast());
                let high = _mm256_loadu_si256(chunk.as_ptr().add(32).cast());
                let mask_of = |byte: u8| {
                    let wanted = _mm256_set1_epi8(byte as i8);
                    let low = _mm256_movemask_epi8(_mm256_cmpeq_epi8(low, wanted)) as u32;
                    let high = _mm256_movemask_epi8(_mm256_cmpeq_epi8(high, wanted)) as u32;
                    u64::from(low) | u64::from(high) << 32
                };
                let non_ascii = u64::from(_mm256_movemask_epi8(low) as u32)
                    | u64::from(_mm256_movemask_epi8(high) as u32) << 32;
                Masks::of(mask_of, non_ascii)
            }
        }

        #[inline(always)]
        fn prefix_xor(bits: u64) -> u64 {
            // SAFETY: PCLMULQDQ was detected together with AVX2.
            unsafe { carryless_prefix_xor(bits) }
        }
    }

    /// The whole chunk per compare, straight into a 64-bit mask. Only
    /// inlined into `scan_avx512`, which runs after AVX-512BW and PCLMULQDQ
    /// were detected.
    pub(super) struct Avx512;

    impl Classifier for Avx512 {
        #[inline(always)]
        fn classify(chunk: &[u8; 64]) -> Masks {
            // SAFETY: reached only from `scan_avx512` (AVX-512BW detected);
            // the load reads the 64 bytes of `chunk`.
            unsafe {
                let bytes = _mm512_loadu_si512(chunk.as_ptr().cast());
                let mask_of =
                    |byte: u8| _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(byte as i8));
                Masks::of(mask_of, _mm512_movepi8_mask(bytes))
            }
        }

        #[inline(always)]
        fn prefix_xor(bits: u64) -> u64 {
            // SAFETY: PCLMULQDQ was detected together with AVX-512BW.
            unsafe { carryless_prefix_xor(bits) }
        }

        /// Sixteen offsets at a time: each quarter of the mask selects the
        /// lanes of a vector of its 16 offsets, packed to the front by one
        /// compress instruction and stored whole.
        #[inline(always)]
        fn store_offsets(slots: &mut [u32; CHUNK_SLOTS], base: u32, bits: u64) {
            let mut written = 0usize;
            for quarter in 0..4 {
                let lanes = (bits >> (quarter * 16)) as u16;
                // SAFETY: AVX-512F is part of AVX-512BW, detected; the store
                // writes 16 slots from `written`, at most 48, so it stays
                // inside the 80 of `slots`.
                unsafe {
                    let offsets = _mm512_add_epi32(
                        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                        _mm512_set1_epi32((base + quarter * 16) as i32),
                    );
                    let packed = _mm512_maskz_compress_epi32(lanes, offsets);
                    _mm512_storeu_si512(slots.as_mut_ptr().add(written).cast(), packed);
                }
                written += lanes.count_ones() as usize;
            }
        }
    }
}

/// How far ahead of the chunk being classified the scan asks for the bytes it will read: one
/// page. A day is read from a mapping of the page cache, whose pages lie anywhere in memory, and
/// the processor's own prefetchers stop at a page's end; a third of the scan's samples fell on
/// the wait for a chunk's load. Asked a page ahead, a whole-day scoring of 1M rows
/// took 0.071 s instead of 0.086 s (BENCHMARKS.md, "The scan asks for the next page ahead").
const PREFETCH_AHEAD: usize = 4096;

/// Asks the processor to bring the cache line of `bytes[at]` in, if there is such a byte.
#[inline(always)]
fn prefetch(bytes: &[u8], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if at < bytes.len() {
        // SAFETY: the address lies inside `bytes`; a prefetch only hints the cache and never
        // faults, and SSE, which has it, is part of every x86-64 processor.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().add(at).cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (bytes, at);
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
///
/// Field ends are written at a cursor into `ends`, which is kept longer than
/// what it holds so a chunk's separators can be stored eight at a time
/// without a check per field (the slots past the cursor are scratch).
struct Builder {
    ends: Vec<u32>,
    /// Entries of `ends` in use.
    cursor: usize,
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
    /// Makes room for one chunk's separators past the cursor.
    #[inline(always)]
    fn reserve_chunk(&mut self) {
        if self.ends.len() < self.cursor + CHUNK_SLOTS {
            let grown = (self.cursor + CHUNK_SLOTS).max(self.ends.len() * 2);
            self.ends.resize(grown, 0);
        }
    }

    /// Stores the offsets of the set bits of `bits` (from `base`), in order.
    #[inline(always)]
    fn separators<C: Classifier>(&mut self, base: usize, bits: u64) {
        self.reserve_chunk();
        let slots: &mut [u32; CHUNK_SLOTS] = (&mut self.ends
            [self.cursor..self.cursor + CHUNK_SLOTS])
            .try_into()
            .expect("reserve_chunk left a chunk's slots");
        C::store_offsets(slots, base as u32, bits);
        self.cursor += bits.count_ones() as usize;
    }

    /// One separator at `at` that is not a line end (the ordered path).
    #[inline(always)]
    fn separator(&mut self, at: usize) {
        self.reserve_chunk();
        self.ends[self.cursor] = at as u32;
        self.cursor += 1;
    }

    /// The line feed at `at` ends the current record; its field end is
    /// already stored at `ends[last_end]`.
    #[inline(always)]
    fn record_end(&mut self, bytes: &[u8], at: usize, last_end: usize) {
        // The carriage return of a `\r\n` belongs to the line end.
        let content_end = if at > self.start && bytes[at - 1] == b'\r' {
            self.ends[last_end] = (at - 1) as u32;
            at - 1
        } else {
            at
        };
        self.shaped_right &=
            last_end + 1 - self.first_end == self.width && content_end > self.start;
        self.records.push(RecordMark {
            next: (at + 1) as u32,
            inner_newlines: self.inner_newlines,
            escaped: self.escaped,
        });
        self.start = at + 1;
        self.first_end = last_end + 1;
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
    let whole = scan_records(bytes, width, index)?;
    // SAFETY: `index` was just filled by the scan of `bytes`, of which these are the start.
    unsafe { records_text(&bytes[..whole], index) }
}

/// `records` as text: free when the scan found only ASCII, else checked as UTF-8 (`None` when
/// it is not). A whole-day pass spent a tenth of its processor time checking text that the
/// scan had already loaded byte by byte; the scan now notes whether any byte had its high bit
/// set, which costs it one instruction per 64 bytes.
///
/// # Safety
/// `index` must have been filled by a scan of a slice that starts with `records`.
pub(crate) unsafe fn records_text<'b>(records: &'b [u8], index: &BlockIndex) -> Option<&'b str> {
    if index.ascii {
        // SAFETY: the scan read every byte of `records` (the caller's promise) and found none
        // with the high bit set; ASCII is UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(records) })
    } else {
        std::str::from_utf8(records).ok()
    }
}

/// Like [`scan_text`], without checking that the records are UTF-8: the
/// length of the whole records found when they are clean.
pub(crate) fn scan_records(bytes: &[u8], width: usize, index: &mut BlockIndex) -> Option<usize> {
    match scan(bytes, width, index) {
        Scan::Clean => Some(index.records.last().map_or(0, |mark| mark.next as usize)),
        Scan::Suspect => None,
    }
}

/// Scans `bytes`, which start at a record boundary, for records of `width`
/// fields. Fills `index` (cleared first) with the whole records found.
/// `bytes` must be shorter than 4 GiB (offsets are 32-bit).
fn scan(bytes: &[u8], width: usize, index: &mut BlockIndex) -> Scan {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx512() {
            // SAFETY: the features `scan_avx512` is compiled for were detected.
            return unsafe { scan_avx512(bytes, width, index) };
        }
        if x86::has_avx2() {
            // SAFETY: the features `scan_avx2` is compiled for were detected.
            return unsafe { scan_avx2(bytes, width, index) };
        }
        scan_with::<x86::Sse2>(bytes, width, index)
    }
    #[cfg(not(target_arch = "x86_64"))]
    scan_with::<Portable>(bytes, width, index)
}

/// [`scan`] compiled for AVX-512BW.
///
/// # Safety
/// The processor must have what [`x86::has_avx512`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw,pclmulqdq,popcnt,bmi1")]
unsafe fn scan_avx512(bytes: &[u8], width: usize, index: &mut BlockIndex) -> Scan {
    scan_with::<x86::Avx512>(bytes, width, index)
}

/// [`scan`] compiled for AVX2.
///
/// # Safety
/// The processor must have what [`x86::has_avx2`] checks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
unsafe fn scan_avx2(bytes: &[u8], width: usize, index: &mut BlockIndex) -> Scan {
    scan_with::<x86::Avx2>(bytes, width, index)
}

/// The scan, with chunk masks built by `C`; inlined into each entry point so
/// it is compiled with that entry point's instructions.
#[inline(always)]
fn scan_with<C: Classifier>(bytes: &[u8], width: usize, index: &mut BlockIndex) -> Scan {
    let mut built = Builder {
        ends: std::mem::take(&mut index.ends),
        cursor: 0,
        records: std::mem::take(&mut index.records),
        width,
        start: 0,
        first_end: 0,
        inner_newlines: 0,
        escaped: false,
        shaped_right: true,
    };
    built.records.clear();
    let mut carry = Carry {
        separator: 1,
        ..Carry::default()
    };
    let mut first_problem = usize::MAX;
    let mut non_ascii = 0u64;
    for base in (0..bytes.len()).step_by(64) {
        prefetch(bytes, base + PREFETCH_AHEAD);
        let end = (base + 64).min(bytes.len());
        let (masks, valid) = match bytes[base..end].try_into() {
            Ok(chunk) => (C::classify(chunk), u64::MAX),
            Err(_) => {
                // The last, shorter chunk, padded with bytes that are not special.
                let mut chunk = [0u8; 64];
                chunk[..end - base].copy_from_slice(&bytes[base..end]);
                (C::classify(&chunk), (1u64 << (end - base)) - 1)
            }
        };

        non_ascii |= masks.non_ascii;
        let inside = C::prefix_xor(masks.quote) ^ carry.inside;
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
        let line_ends = separators & masks.line_feed;
        let doubled = opening & after_closing & valid;
        let inner_line_feeds = masks.line_feed & inside & valid;
        if doubled | inner_line_feeds == 0 {
            // All field ends of the chunk at once, then the records they close:
            // a line end's field end is the one after the separators before it.
            let chunk_first = built.cursor;
            built.separators::<C>(base, separators);
            let mut records = line_ends;
            while records != 0 {
                let offset = records.trailing_zeros();
                records &= records - 1;
                let before = (separators & ((1u64 << offset) - 1)).count_ones() as usize;
                built.record_end(bytes, base + offset as usize, chunk_first + before);
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
            let at = base + offset as usize;
            if separators & bit != 0 {
                built.separator(at);
                if line_ends & bit != 0 {
                    let last_end = built.cursor - 1;
                    built.record_end(bytes, at, last_end);
                }
            } else if doubled & bit != 0 {
                built.escaped = true;
            } else {
                built.inner_newlines += 1;
            }
        }
    }
    let Builder {
        ends,
        records,
        shaped_right,
        ..
    } = built;
    index.ends = ends;
    index.records = records;
    index.ascii = non_ascii == 0;
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
#[inline]
pub(crate) fn field_span(start: usize, ends: &[u32], field: usize) -> Range<usize> {
    let from = match field {
        0 => start,
        _ => ends[field - 1] as usize + 1,
    };
    from..ends[field] as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bytes that are mostly the ones the scan looks for, plus text and
    /// bytes with the high bit set (where a signed compare could go wrong).
    fn csv_bytes(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            Just(b'"'),
            Just(b','),
            Just(b'\n'),
            Just(b'\r'),
            Just(b'a'),
            Just(b'7'),
            Just(0x80u8),
            Just(0xffu8),
            any::<u8>(),
        ];
        proptest::collection::vec(byte, len)
    }

    /// Records of one width (fields plain, empty, quoted with commas, line
    /// feeds or doubled quotes; lines ended by LF or CRLF), an unfinished
    /// record after them, and sometimes one byte damaged.
    fn csv_file() -> impl Strategy<Value = (Vec<u8>, usize)> {
        let field = prop_oneof![
            "[a-z0-9.]{0,12}",
            Just(String::new()),
            "[a-z, ]{0,20}".prop_map(|text| format!("\"{text}\"")),
            "[a-z\n]{0,8}".prop_map(|text| format!("\"{text}\"")),
            "[a-z\"]{0,8}".prop_map(|text| format!("\"{}\"", text.replace('"', "\"\""))),
        ];
        (1usize..24).prop_flat_map(move |width| {
            let record = proptest::collection::vec(field.clone(), width);
            (
                proptest::collection::vec((record, any::<bool>()), 0..40),
                "[a-z,]{0,10}",
                proptest::option::weighted(0.2, (any::<prop::sample::Index>(), any::<u8>())),
            )
                .prop_map(move |(records, tail, damage)| {
                    let mut bytes = Vec::new();
                    for (fields, crlf) in records {
                        bytes.extend_from_slice(fields.join(",").as_bytes());
                        bytes.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
                    }
                    bytes.extend_from_slice(tail.as_bytes());
                    if let (Some((at, byte)), false) = (damage, bytes.is_empty()) {
                        let at = at.index(bytes.len());
                        bytes[at] = byte;
                    }
                    (bytes, width)
                })
        })
    }

    /// The scan with every classifier this processor can run, by name.
    fn scans(bytes: &[u8], width: usize) -> Vec<(&'static str, Scan, BlockIndex)> {
        let mut results = Vec::new();
        let mut run = |name, scan: &dyn Fn(&mut BlockIndex) -> Scan| {
            let mut index = BlockIndex::default();
            let found = scan(&mut index);
            let whole = index.records.len() * width;
            index.ends.truncate(whole);
            results.push((name, found, index));
        };
        run("portable", &|index| {
            scan_with::<Portable>(bytes, width, index)
        });
        #[cfg(target_arch = "x86_64")]
        {
            run("sse2", &|index| scan_with::<x86::Sse2>(bytes, width, index));
            if x86::has_avx2() {
                // SAFETY: the features were just detected.
                run("avx2", &|index| unsafe { scan_avx2(bytes, width, index) });
            }
            if x86::has_avx512() {
                // SAFETY: the features were just detected.
                run("avx512", &|index| unsafe {
                    scan_avx512(bytes, width, index)
                });
            }
        }
        results
    }

    proptest! {
        #[test]
        fn every_classifier_builds_the_masks_the_portable_one_builds(
            chunk in csv_bytes(64..65),
            quotes in any::<u64>(),
        ) {
            let chunk: &[u8; 64] = chunk.as_slice().try_into().unwrap();
            let expected = Portable::classify(chunk);
            let expected_xor = Portable::prefix_xor(quotes);
            #[cfg(target_arch = "x86_64")]
            {
                prop_assert_eq!(x86::Sse2::classify(chunk), Portable::classify(chunk));
                prop_assert_eq!(x86::Sse2::prefix_xor(quotes), expected_xor);
                if x86::has_avx2() {
                    prop_assert_eq!(x86::Avx2::classify(chunk), Portable::classify(chunk));
                    prop_assert_eq!(x86::Avx2::prefix_xor(quotes), expected_xor);
                }
                if x86::has_avx512() {
                    prop_assert_eq!(x86::Avx512::classify(chunk), Portable::classify(chunk));
                    prop_assert_eq!(x86::Avx512::prefix_xor(quotes), expected_xor);
                }
            }
            let _ = (expected, expected_xor);
        }

        #[test]
        fn every_scan_variant_finds_the_same_records(
            (bytes, width) in prop_oneof![csv_file(), csv_bytes(0..700).prop_map(|b| (b, 3))],
        ) {
            let results = scans(&bytes, width);
            let (_, expected, reference) = &results[0];
            for (name, found, index) in &results[1..] {
                prop_assert_eq!(found, expected, "{}", name);
                // A suspect block is read again by the splitter: its index
                // is never used.
                if *found == Scan::Clean {
                    prop_assert_eq!(&index.records, &reference.records, "{}", name);
                    prop_assert_eq!(&index.ends, &reference.ends, "{}", name);
                }
            }
        }
    }

    #[test]
    fn the_scan_tells_ascii_from_other_text_with_every_classifier() {
        let ascii = b"1,a\n2,b\n";
        let accented = "1,caf\u{e9}\n2,b\n".as_bytes();
        let broken = b"1,caf\xe9\n2,b\n";
        for (bytes, is_ascii, text) in [
            (&ascii[..], true, Some("1,a\n2,b\n")),
            (accented, false, Some("1,caf\u{e9}\n2,b\n")),
            (&broken[..], false, None),
        ] {
            for (name, found, index) in scans(bytes, 2) {
                assert_eq!(found, Scan::Clean, "{name}");
                assert_eq!(index.ascii, is_ascii, "{name}: {bytes:?}");
            }
            let mut index = BlockIndex::default();
            assert_eq!(scan_text(bytes, 2, &mut index), text, "{bytes:?}");
        }
    }

    #[test]
    fn records_and_field_ends_of_a_small_block() {
        let bytes = b"0,\"a,b\",c\r\n1,,\"x\"\"y\"\n2,\"p\nq\",r\nunfinished";
        for (name, found, index) in scans(bytes, 3) {
            assert_eq!(found, Scan::Clean, "{name}");
            let nexts: Vec<u32> = index.records.iter().map(|mark| mark.next).collect();
            assert_eq!(nexts, [11, 21, 31], "{name}");
            assert_eq!(index.ends, [1, 7, 9, 12, 13, 20, 22, 28, 30], "{name}");
            let escaped: Vec<bool> = index.records.iter().map(|mark| mark.escaped).collect();
            assert_eq!(escaped, [false, true, false], "{name}");
            assert_eq!(index.records[2].inner_newlines, 1, "{name}");
        }
    }
}
