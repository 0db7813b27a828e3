//! IP networks (`10.0.0.0/8`, `2001:db8::/32`), shared by rules and the network context.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A network: an address with a prefix length; a plain address is a network of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    base: IpAddr,
    prefix: u8,
}

/// Why a text is not a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// The part before the slash is not an IPv4 or IPv6 address.
    NotAnAddress(String),
    /// The prefix length is not a number within the address family's width.
    BadPrefix(String),
    /// The address has bits set past the prefix (`10.1.0.0/8`), which usually means a typo.
    HostBitsSet(String),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::NotAnAddress(t) => write!(f, "{t:?} is not an IPv4 or IPv6 address"),
            NetError::BadPrefix(t) => write!(f, "{t:?} has a prefix length out of range"),
            NetError::HostBitsSet(t) => write!(
                f,
                "{t:?} has bits set after the prefix; write the network address"
            ),
        }
    }
}

impl std::error::Error for NetError {}

/// The address as a number and the width of its family, so both families share one mask
/// computation.
fn bits(addr: IpAddr) -> (u128, u8) {
    match addr {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

/// All bits of an address of this width.
fn full(width: u8) -> u128 {
    if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    }
}

/// The network part of an address of this width: `prefix` leading ones.
fn mask(prefix: u8, width: u8) -> u128 {
    let all = full(width);
    all & !all.checked_shr(u32::from(prefix)).unwrap_or(0)
}

impl IpNet {
    /// The network of exactly one address.
    pub fn host(addr: IpAddr) -> IpNet {
        IpNet {
            base: addr,
            prefix: bits(addr).1,
        }
    }

    /// The prefix length (32 or 128 for a single address).
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The network address.
    pub fn base(&self) -> IpAddr {
        self.base
    }

    /// True when `addr` is in this network (never across IPv4 and IPv6).
    pub fn contains(&self, addr: IpAddr) -> bool {
        let (net, width) = bits(self.base);
        let (candidate, candidate_width) = bits(addr);
        width == candidate_width && (candidate & mask(self.prefix, width)) == net
    }
}

impl FromStr for IpNet {
    type Err = NetError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| NetError::NotAnAddress(text.to_string()))?;
        let (value, width) = bits(addr);
        let prefix = match prefix_text {
            None => width,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= width && !p.starts_with('+') => n,
                _ => return Err(NetError::BadPrefix(text.to_string())),
            },
        };
        if value & !mask(prefix, width) & full(width) != 0 {
            return Err(NetError::HostBitsSet(text.to_string()));
        }
        Ok(IpNet { base: addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == bits(self.base).1 {
            write!(f, "{}", self.base)
        } else {
            write!(f, "{}/{}", self.base, self.prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().expect("valid network")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("valid address")
    }

    #[test]
    fn networks_contain_their_addresses_and_nothing_else() {
        assert!(net("10.0.0.0/8").contains(ip("10.255.1.2")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.0")));
        assert!(net("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(!net("0.0.0.0/0").contains(ip("::1")));
        assert!(net("192.168.1.7").contains(ip("192.168.1.7")));
        assert!(!net("192.168.1.7").contains(ip("192.168.1.8")));
        assert!(net("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
        assert!(!net("2001:db8::/32").contains(ip("2001:db9::1")));
        assert!(net("::1/128").contains(ip("::1")));
        assert!(net("::/0").contains(ip("fe80::1")));
    }

    #[test]
    fn malformed_networks_say_what_is_wrong() {
        assert_eq!(
            "10.0.0/8".parse::<IpNet>(),
            Err(NetError::NotAnAddress("10.0.0/8".into()))
        );
        assert_eq!(
            "10.0.0.0/33".parse::<IpNet>(),
            Err(NetError::BadPrefix("10.0.0.0/33".into()))
        );
        assert_eq!(
            "10.1.0.0/8".parse::<IpNet>(),
            Err(NetError::HostBitsSet("10.1.0.0/8".into()))
        );
        assert_eq!(net("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(net("10.0.0.1").to_string(), "10.0.0.1");
    }
}
