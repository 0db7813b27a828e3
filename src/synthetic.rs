//! Seeded generator of realistic days, for tests, benchmarks and demos.
//!
//! A generated `flow_scores.csv` looks like the OA step's output: rows ranked
//! by `lda_score` (ascending, `rank` 1, 2, ...), internal (`10.x.x.x`) and
//! external hosts, a few external scanners fanning out to many internal
//! destinations, service ports, quoted geo and domain fields holding commas
//! (and now and then a doubled quote), 20 or 22 columns, optionally in a
//! shuffled column order. The same spec always gives the same bytes.

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
    fields[2] = src;
    fields[3] = dst;
    let reputations = &mut fields[18..];
    for reputation in reputations.iter_mut() {
        *reputation = match random.below(4) {
            0 => String::new(),
            1 => "UNVERIFIED:-1".to_owned(),
            2 => "MINIMAL:1".to_owned(),
            _ => "HIGH:3::suspicious".to_owned(),
        };
    }
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
