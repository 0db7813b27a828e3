//! Seeded generator of realistic days, for tests, benchmarks and demos.
//!
//! A generated `flow_scores.csv` looks like the OA step's output: rows ranked
//! by `lda_score` (ascending, `rank` 1, 2, ...), internal (`10.x.x.x`) and
//! external hosts, a few external scanners fanning out to many internal
//! destinations, service ports, quoted geo and domain fields holding commas
//! (and now and then a doubled quote), 20 or 22 columns, optionally in a
//! shuffled column order. The same spec always gives the same bytes.
//!
//! With [`realistic`](crate::synthetic::DaySpec::realistic), a day also looks like Spot's to
//! the original's rules and to an analyst reading its context columns: the scanners' rows are
//! probes of a few small packets (some from source port 0), which the original notebook's
//! rules catch, and each host has one reputation, place and domain, written as Spot's OA step
//! writes them (see [`crate::analysis::reputation`]). Without it the output is byte for byte
//! what it always was, so benchmarks and tests keep their days.

use std::io::{self, Write};

/// What day to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DaySpec {
    /// Data rows.
    pub rows: usize,
    /// Seed of the random generator.
    pub seed: u64,
    /// 22 columns (GTI and Norse reputation) instead of 20.
    pub wide: bool,
    /// Shuffle the column order (as real files come).
    pub shuffle_columns: bool,
    /// Share of rows already scored (severity 1 to 3), 0.0 to 1.0.
    pub scored_share: f64,
    /// Share of external hosts with IPv6 addresses, 0.0 to 1.0.
    pub ipv6_share: f64,
    /// End lines with `\r\n` instead of `\n`.
    pub crlf: bool,
    /// Let some domain fields hold a double quote (written doubled). The
    /// original notebook's feedback writer crashes on them, so days meant for
    /// its Python port turn this off.
    pub inner_quotes: bool,
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Scanners send small probes (the original's rules match about 2% of rows) and hosts
    /// carry Spot-style context: reputation `gti:High:3` (external hosts; scanners high),
    /// geo `state;city owner` and a domain, the same on every row of the host.
    pub realistic: bool,
}

impl DaySpec {
    /// A 20-column day of `rows` rows in the canonical column order.
    pub fn new(rows: usize, seed: u64) -> DaySpec {
        DaySpec {
            rows,
            seed,
            wide: false,
            shuffle_columns: false,
            scored_share: 0.0,
            ipv6_share: 0.0,
            crlf: false,
            inner_quotes: true,
            date: "2016-07-08".to_owned(),
            realistic: false,
        }
    }
}

const NARROW: [&str; 20] = [
    "sev",
    "tstart",
    "srcIP",
    "dstIP",
    "sport",
    "dport",
    "proto",
    "flag",
    "ipkt",
    "ibyt",
    "lda_score",
    "rank",
    "srcIpInternal",
    "destIpInternal",
    "srcGeo",
    "dstGeo",
    "srcDomain",
    "dstDomain",
    "srcIP_rep",
    "dstIP_rep",
];
const WIDE_REPUTATION: [&str; 4] = ["gtiSrcRep", "gtiDstRep", "norseSrcRep", "norseDstRep"];
const SERVICES: [u16; 12] = [80, 443, 53, 22, 25, 3389, 8080, 123, 445, 993, 1433, 5060];
const PLACES: [&str; 6] = [
    "US;Mountain View, CA;37.41;-122.07",
    "DE;Frankfurt am Main, Hesse;50.11;8.68",
    "CN;Beijing, Beijing;39.90;116.40",
    "BR;Sao Paulo, SP;-23.55;-46.63",
    "RU;Moscow, Moscow;55.75;37.61",
    "GB;London, England;51.50;-0.12",
];
const DOMAINS: [&str; 6] = [
    "google.com",
    "amazonaws.com",
    "Comcast Cable, Inc.",
    "ACME \"Cloud\" Hosting",
    "ovh.net",
    "",
];
const FLAGS: [&str; 5] = [".AP.SF", ".A....", "....S.", ".AP...", "......"];

/// splitmix64: small, fast, good enough for test data.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn chance(&mut self, share: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= share && share > 0.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// The hosts of a day: internal hosts, external hosts, scanners.
struct Hosts {
    internal: Vec<String>,
    external: Vec<String>,
    scanners: Vec<String>,
}

impl Hosts {
    fn new(random: &mut Random, rows: usize, ipv6_share: f64) -> Hosts {
        let internal = (0..(rows / 20).clamp(8, 4000))
            .map(|_| {
                format!(
                    "10.{}.{}.{}",
                    random.below(8),
                    random.below(256),
                    1 + random.below(254)
                )
            })
            .collect();
        let external_ip = |random: &mut Random| {
            if random.chance(ipv6_share) {
                format!(
                    "2001:db8:{:x}::{:x}",
                    random.below(0xffff),
                    1 + random.below(0xfffe)
                )
            } else {
                format!(
                    "{}.{}.{}.{}",
                    11 + random.below(180),
                    random.below(256),
                    random.below(256),
                    1 + random.below(254)
                )
            }
        };
        let external = (0..(rows / 5).clamp(16, 40000))
            .map(|_| external_ip(random))
            .collect();
        let scanners = (0..3).map(|_| external_ip(random)).collect();
        Hosts {
            internal,
            external,
            scanners,
        }
    }
}

/// Writes the day's `flow_scores.csv` to `out`.
pub fn generate(spec: &DaySpec, out: &mut impl Write) -> io::Result<()> {
    let mut random = Random(spec.seed ^ 0x5107_f10e_d6e5_0001);
    let mut names: Vec<&str> = NARROW.to_vec();
    if spec.wide {
        names.truncate(18);
        names.extend(WIDE_REPUTATION);
    }
    let mut order: Vec<usize> = (0..names.len()).collect();
    if spec.shuffle_columns {
        for at in (1..order.len()).rev() {
            let other = random.below(at as u64 + 1) as usize;
            order.swap(at, other);
        }
    }
    let line_end: &[u8] = if spec.crlf { b"\r\n" } else { b"\n" };
    let hosts = Hosts::new(&mut random, spec.rows, spec.ipv6_share);
    let header: Vec<String> = order.iter().map(|&index| names[index].to_owned()).collect();
    write_fields(out, &header, &order_identity(&header), line_end)?;

    let mut fields = vec![String::new(); names.len()];
    let mut score = 1e-7;
    for index in 0..spec.rows {
        score += 1e-7 * (1 + random.below(50)) as f64;
        fill_row(&mut random, spec, &hosts, index, score, &mut fields);
        write_fields(out, &fields, &order, line_end)?;
    }
    Ok(())
}

fn order_identity<T>(items: &[T]) -> Vec<usize> {
    (0..items.len()).collect()
}

/// Fills the fields of one row, in canonical column order.
fn fill_row(
    random: &mut Random,
    spec: &DaySpec,
    hosts: &Hosts,
    index: usize,
    score: f64,
    fields: &mut [String],
) {
    let scanning = random.chance(0.05);
    let inbound = random.chance(0.5);
    let pick = |random: &mut Random, list: &[String]| {
        list[random.below(list.len() as u64) as usize].clone()
    };
    let (src, dst, sport, dport) = if scanning {
        let scanner = pick(random, &hosts.scanners);
        let target = pick(random, &hosts.internal);
        (
            scanner,
            target,
            40000 + random.below(20000),
            1 + random.below(1024),
        )
    } else {
        let inside = pick(random, &hosts.internal);
        let outside = if random.chance(0.3) {
            pick(random, &hosts.internal)
        } else {
            pick(random, &hosts.external)
        };
        let service = u64::from(SERVICES[random.below(SERVICES.len() as u64) as usize]);
        let ephemeral = 1024 + random.below(64511);
        if inbound {
            (outside, inside, ephemeral, service)
        } else {
            (inside, outside, ephemeral, service)
        }
    };
    let internal = |ip: &str| u8::from(ip.starts_with("10."));
    let severity = if random.chance(spec.scored_share) {
        1 + random.below(3)
    } else {
        0
    };
    let packets = 1 + random.below(5000);
    let geo = |random: &mut Random, ip: &str| {
        if ip.starts_with("10.") {
            String::new()
        } else {
            random.pick(&PLACES).to_owned()
        }
    };
    let seconds = random.below(86400);
    fields[0] = severity.to_string();
    fields[1] = format!(
        "{} {:02}:{:02}:{:02}",
        spec.date,
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    fields[4] = sport.to_string();
    fields[5] = dport.to_string();
    fields[6] = random.pick(&["TCP", "TCP", "UDP", "ICMP"]).to_owned();
    fields[7] = random.pick(&FLAGS).to_owned();
    fields[8] = packets.to_string();
    fields[9] = (packets * (40 + random.below(1460))).to_string();
    fields[10] = if index.is_multiple_of(3) {
        format!("{score:e}")
    } else {
        format!("{score:.9}")
    };
    fields[11] = (index + 1).to_string();
    fields[12] = internal(&src).to_string();
    fields[13] = internal(&dst).to_string();
    fields[14] = geo(random, &src);
    fields[15] = geo(random, &dst);
    fields[16] = domain(random, spec, &src);
    fields[17] = domain(random, spec, &dst);
    let reputations = &mut fields[18..];
    for reputation in reputations.iter_mut() {
        *reputation = match random.below(4) {
            0 => String::new(),
            1 => "UNVERIFIED:-1".to_owned(),
            2 => "MINIMAL:1".to_owned(),
            _ => "HIGH:3::suspicious".to_owned(),
        };
    }
    if spec.realistic {
        if scanning {
            probe(random, fields);
        }
        spot_context(spec, hosts, &src, &dst, fields);
    }
    fields[2] = src;
    fields[3] = dst;
}

/// A scanner's row as a probe: mostly one SYN of 40 to 54 bytes, sometimes a three-packet
/// exchange of 152 bytes or a packet from source port 0, else a few packets with payload.
fn probe(random: &mut Random, fields: &mut [String]) {
    let (sport, packets, bytes) = match random.below(10) {
        0 | 1 => (None, 1, 40 + random.below(15)),
        2 => (None, 3, 152),
        3 => (Some(0), 1, 60 + random.below(40)),
        _ => {
            let packets = 2 + random.below(8);
            (None, packets, packets * (60 + random.below(400)))
        }
    };
    if let Some(sport) = sport {
        fields[4] = sport.to_string();
    }
    fields[8] = packets.to_string();
    fields[9] = bytes.to_string();
}

/// Places and the domains of their networks, as Spot's OA step writes geo (`state;city` and
/// the owner, from iploc.csv) and domain.
const SPOT_PLACES: [(&str, &str); 8] = [
    ("California;Mountain View Google Inc.", "google.com"),
    ("Hesse;Frankfurt am Main Deutsche Telekom AG", "telekom.de"),
    ("Beijing;Beijing China Unicom Beijing", "chinaunicom.cn"),
    ("Sao Paulo;Sao Paulo Telefonica Brasil", "telefonica.com.br"),
    ("Moscow;Moscow Rostelecom", "rt.ru"),
    ("England;London British Telecommunications", "bt.com"),
    ("Virginia;Ashburn Amazon.com Inc.", "amazonaws.com"),
    ("Hauts-de-France;Roubaix OVH SAS", "ovh.net"),
];

/// The context columns of a realistic row: what Spot knows of each host, the same on every
/// row. Internal hosts have no geo, domain or reputation (Spot's UI shows none for them).
fn spot_context(spec: &DaySpec, hosts: &Hosts, src: &str, dst: &str, fields: &mut [String]) {
    let of = |ip: &str| {
        if ip.starts_with("10.") {
            return (String::new(), String::new(), [String::new(), String::new()]);
        }
        let mut host = Random(spec.seed ^ text_hash(ip));
        let (geo, domain) = SPOT_PLACES[host.below(SPOT_PLACES.len() as u64) as usize];
        let scanner = hosts.scanners.iter().any(|s| s == ip);
        let reputation = |service: &str, host: &mut Random| {
            let (label, value) = match host.below(20) {
                _ if scanner => ("High", 3),
                0..=9 => ("Minimal", 1),
                10..=14 => ("Unverified", -1),
                15..=17 => ("Medium", 2),
                _ => ("High", 3),
            };
            format!("{service}:{label}:{value}")
        };
        let gti = reputation("gti", &mut host);
        let norse = reputation("norse", &mut host);
        (geo.to_owned(), domain.to_owned(), [gti, norse])
    };
    let (src_geo, src_domain, src_rep) = of(src);
    let (dst_geo, dst_domain, dst_rep) = of(dst);
    fields[14] = src_geo;
    fields[15] = dst_geo;
    fields[16] = src_domain;
    fields[17] = dst_domain;
    // 20 columns: srcIP_rep, dstIP_rep; 22: gtiSrcRep, gtiDstRep, norseSrcRep, norseDstRep.
    let [src_gti, src_norse] = src_rep;
    let [dst_gti, dst_norse] = dst_rep;
    fields[18] = src_gti;
    fields[19] = dst_gti;
    if spec.wide {
        fields[20] = src_norse;
        fields[21] = dst_norse;
    }
}

/// FNV-1a of a host's text: its own random stream, so its context is the same on every row.
fn text_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn domain(random: &mut Random, spec: &DaySpec, ip: &str) -> String {
    if ip.starts_with("10.") {
        return "intel.com".to_owned();
    }
    let domain = random.pick(&DOMAINS);
    if spec.inner_quotes {
        domain.to_owned()
    } else {
        domain.replace('"', "")
    }
}

/// Writes fields in `order`, quoting those that need it (RFC 4180).
fn write_fields(
    out: &mut impl Write,
    fields: &[String],
    order: &[usize],
    line_end: &[u8],
) -> io::Result<()> {
    for (at, &index) in order.iter().enumerate() {
        if at > 0 {
            out.write_all(b",")?;
        }
        let field = &fields[index];
        if field.contains([',', '"', '\n', '\r']) {
            out.write_all(b"\"")?;
            out.write_all(field.replace('"', "\"\"").as_bytes())?;
            out.write_all(b"\"")?;
        } else {
            out.write_all(field.as_bytes())?;
        }
    }
    out.write_all(line_end)
}

/// The day as bytes (handy for small test days).
pub fn generate_bytes(spec: &DaySpec) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = generate(spec, &mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rules::RuleSet;
    use crate::{Column, Day};
    use std::collections::HashMap;

    /// The days benchmarks and tests were written against (FNV-1a of the bytes the generator
    /// wrote before `realistic` existed): a change of the output of an existing spec must be
    /// deliberate.
    #[test]
    fn existing_specs_give_the_same_bytes_as_before() {
        let wide = DaySpec {
            wide: true,
            shuffle_columns: true,
            scored_share: 0.2,
            ipv6_share: 0.1,
            ..DaySpec::new(2000, 7)
        };
        for (spec, expected) in [
            (DaySpec::new(3000, 1), 15_143_108_018_407_027_138),
            (wide, 6_766_322_310_849_980_891),
        ] {
            let bytes = String::from_utf8(generate_bytes(&spec)).unwrap();
            assert_eq!(text_hash(&bytes), expected, "{spec:?}");
        }
    }

    #[test]
    fn a_realistic_day_has_probes_the_original_rules_catch_and_one_context_per_host() {
        for wide in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let spec = DaySpec {
                realistic: true,
                wide,
                ..DaySpec::new(20_000, 1)
            };
            std::fs::write(dir.path().join("flow_scores.csv"), generate_bytes(&spec)).unwrap();
            let day = Day::open(dir.path()).unwrap();
            let rules = RuleSet::original();
            let reputation = if wide {
                Column::GtiSrcRep
            } else {
                Column::SrcIpRep
            };
            let mut caught = 0;
            let mut contexts: HashMap<String, [String; 3]> = HashMap::new();
            day.for_each_row(|row| {
                caught += u32::from(rules.first_match(row).unwrap().is_some());
                let context = [Column::SrcGeo, Column::SrcDomain, reputation]
                    .map(|column| row.get(column).to_string());
                let ip = row.get(Column::SrcIp).to_string();
                assert!(
                    ip.starts_with("10.") == context[0].is_empty(),
                    "{ip}: {context:?}"
                );
                let first = contexts
                    .entry(ip.clone())
                    .or_insert_with(|| context.clone());
                assert_eq!(*first, context, "{ip}");
                Ok::<(), crate::Error>(())
            })
            .unwrap();
            assert!(
                (200..800).contains(&caught),
                "{caught} rows caught by the rules"
            );
            assert!(contexts
                .values()
                .any(|context| context[2].starts_with("gti:High:3")));
        }
    }
}
