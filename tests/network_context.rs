//! The network context as analysts write it: Spot's forms, with or without a header, bad lines
//! skipped with their place, and lookups that stay fast with thousands of entries.

use std::fs;
use std::net::IpAddr;
use std::time::Instant;

use flow_edge::NetworkContext;

/// Writes `text` as a context file in a fresh folder and loads it.
fn load(text: &str) -> (tempfile::TempDir, std::path::PathBuf, NetworkContext) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("networkcontext.csv");
    fs::write(&path, text).unwrap();
    let context = NetworkContext::load(&path).expect("a readable file loads");
    (dir, path, context)
}

#[test]
fn spot_install_guide_lines_without_a_header_name_their_addresses() {
    let (_dir, _, context) = load("10.192.180.150, AnyMachine\n10.192.1.1, MySystem\n");
    assert!(
        context.warnings().is_empty(),
        "{:?}",
        context.warning_lines()
    );
    assert_eq!(context.name_of("10.192.180.150"), Some("AnyMachine"));
    assert_eq!(context.label("10.192.1.1"), "10.192.1.1 (MySystem)");
    assert_eq!(context.len(), 2);
}

#[test]
fn every_form_of_the_spot_context_readme_names_addresses_in_both_families() {
    let (_dir, _, context) = load(
        "srcIP,name\n\
         10.0.0.0/8, Corporate\n\
         10.1.0.0-10.1.0.99, Lab bench\n\
         10.1.0.7, Build server\n\
         2001:db8::/32, Branch\n\
         2001:db8::10 - 2001:db8::1f, Branch printers\n\
         2001:db8::12, \"Printer, colour\"\n",
    );
    assert!(
        context.warnings().is_empty(),
        "{:?}",
        context.warning_lines()
    );
    for (ip, name) in [
        ("10.200.3.4", Some("Corporate")),
        ("10.1.0.99", Some("Lab bench")),
        ("10.1.0.100", Some("Corporate")),
        ("10.1.0.7", Some("Build server")),
        ("2001:db8:1::1", Some("Branch")),
        ("2001:db8::1f", Some("Branch printers")),
        ("2001:db8::12", Some("Printer, colour")),
        ("2001:db9::1", None),
        ("11.0.0.1", None),
    ] {
        assert_eq!(context.name_of(ip), name, "{ip}");
    }
}

#[test]
fn a_malformed_line_in_the_middle_is_skipped_with_its_file_and_line() {
    let (_dir, path, context) =
        load("ip,name\n10.0.0.1,Mail\n10.0.0.300,Typo\n10.0.0.2,\n10.0.0.3,Web\n");
    assert_eq!(
        context.warning_lines(),
        [
            format!(
                "{}:3:1 (column ip): \"10.0.0.300\" is not an IPv4 or IPv6 address (line skipped)",
                path.display()
            ),
            format!(
                "{}:4:2 (column name): no name after the address; write `address,name` (line skipped)",
                path.display()
            ),
        ]
    );
    assert_eq!(context.name_of("10.0.0.1"), Some("Mail"));
    assert_eq!(context.name_of("10.0.0.3"), Some("Web"));
    assert_eq!(context.len(), 2);
}

/// A seeded xorshift generator, so the large context is the same on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as u32
    }
}

/// Ten thousand entries in 10.0.0.0/8: six in ten single addresses, three in ten subnets of
/// /16 to /30, one in ten ranges of up to 5,000 addresses. Returns the file and the entries as
/// `(first, last, name)`, in file order.
fn large_context() -> (String, Vec<(u32, u32, String)>) {
    let mut random = Seeded(42);
    let mut text = String::new();
    let mut entries = Vec::new();
    for line in 0..10_000 {
        let base = 0x0a00_0000 | (random.next() & 0x00ff_ffff);
        let (first, last) = match random.next() % 10 {
            0..=5 => (base, base),
            6..=8 => {
                let mask = u32::MAX << (32 - (16 + random.next() % 15));
                (base & mask, (base & mask) | !mask)
            }
            _ => (base, base.saturating_add(random.next() % 5_000)),
        };
        let name = format!("host {line}");
        let place = if first == last {
            std::net::Ipv4Addr::from(first).to_string()
        } else if (last - first + 1).is_power_of_two() && first % (last - first + 1) == 0 {
            let prefix = 32 - (last - first + 1).trailing_zeros();
            format!("{}/{prefix}", std::net::Ipv4Addr::from(first))
        } else {
            format!(
                "{}-{}",
                std::net::Ipv4Addr::from(first),
                std::net::Ipv4Addr::from(last)
            )
        };
        text.push_str(&format!("{place}, {name}\n"));
        entries.push((first, last, name));
    }
    (text, entries)
}

/// The documented precedence, by brute force: fewest addresses first, then the later line.
fn expected_name(entries: &[(u32, u32, String)], addr: u32) -> Option<&str> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, (first, last, _))| *first <= addr && addr <= *last)
        .min_by_key(|(line, (first, last, _))| (last - first, std::cmp::Reverse(*line)))
        .map(|(_, (_, _, name))| name.as_str())
}

#[test]
fn a_ten_thousand_entry_context_names_a_million_addresses_quickly_and_by_precedence() {
    let (text, entries) = large_context();
    let loading = Instant::now();
    let (_dir, _, context) = load(&text);
    let loaded = loading.elapsed();
    assert!(
        context.warnings().is_empty(),
        "{:?}",
        context.warning_lines()
    );
    assert_eq!(context.len(), 10_000);

    let mut random = Seeded(7);
    // Half inside 10.0.0.0/8, where the entries are, half anywhere.
    let addrs: Vec<u32> = (0..1_000_000)
        .map(|i| match i % 2 {
            0 => 0x0a00_0000 | (random.next() & 0x00ff_ffff),
            _ => random.next(),
        })
        .collect();
    for &addr in addrs.iter().step_by(500) {
        assert_eq!(
            context.name_of_addr(IpAddr::from(std::net::Ipv4Addr::from(addr))),
            expected_name(&entries, addr),
            "{}",
            std::net::Ipv4Addr::from(addr)
        );
    }

    let started = Instant::now();
    let named = addrs
        .iter()
        .filter(|&&addr| {
            context
                .name_of_addr(IpAddr::from(std::net::Ipv4Addr::from(addr)))
                .is_some()
        })
        .count();
    let elapsed = started.elapsed();
    println!(
        "network context: 10,000 entries loaded in {:.1} ms, 1,000,000 lookups in {:.0} ms \
         ({named} named)",
        loaded.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e3
    );
    // Loose on purpose (about 0.1 s here; a scan of every entry per address took 15 s).
    assert!(elapsed.as_secs() < 5, "1M lookups took {elapsed:?}");
}
