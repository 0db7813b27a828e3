//! The `--sizes` option both benchmarks take: day sizes in rows, comma-separated.

/// Reads `10000,100000,1000000` into row counts.
pub fn parse_sizes(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|size| {
            size.trim()
                .parse()
                .map_err(|_| format!("bad size {size:?}"))
        })
        .collect()
}
