//! IP networks (`10.0.0.0/8`, `2001:db8::/32`), shared by rules and the network context.
//!
//! The network type is [`ipnet::IpNet`], the field's common one; this module adds the strict
//! reading analysts' files need: a plain address is a network of one, and a network written
//! with bits set past its prefix (`10.1.0.0/8`) is refused, because it is usually a typo for
//! another network. Errors say which of the three things is wrong.

use std::fmt;
use std::net::IpAddr;

pub use ipnet::IpNet;

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

/// Reads `address` or `address/prefix`, IPv4 or IPv6, refusing host bits past the prefix.
///
/// ```
/// use flow_edge::analysis::cidr::{parse_network, NetError};
/// let net = parse_network("10.0.0.0/8").unwrap();
/// assert!(net.contains(&"10.255.1.2".parse::<std::net::IpAddr>().unwrap()));
/// assert_eq!(parse_network("10.1.2.3").unwrap().prefix_len(), 32);
/// assert!(matches!(parse_network("10.1.0.0/8"), Err(NetError::HostBitsSet(_))));
/// ```
pub fn parse_network(text: &str) -> Result<IpNet, NetError> {
    let (addr_text, prefix_text) = match text.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (text, None),
    };
    let addr: IpAddr = addr_text
        .parse()
        .map_err(|_| NetError::NotAnAddress(text.to_string()))?;
    let Some(prefix_text) = prefix_text else {
        return Ok(IpNet::from(addr));
    };
    // Digits only: `u8::from_str` would also take `+8`.
    let prefix = Some(prefix_text)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse::<u8>().ok())
        .ok_or_else(|| NetError::BadPrefix(text.to_string()))?;
    let net = IpNet::new(addr, prefix).map_err(|_| NetError::BadPrefix(text.to_string()))?;
    if net.network() != addr {
        return Err(NetError::HostBitsSet(text.to_string()));
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        parse_network(text).expect("valid network")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("valid address")
    }

    #[test]
    fn networks_contain_their_addresses_and_nothing_else() {
        assert!(net("10.0.0.0/8").contains(&ip("10.255.1.2")));
        assert!(!net("10.0.0.0/8").contains(&ip("11.0.0.0")));
        assert!(net("0.0.0.0/0").contains(&ip("8.8.8.8")));
        assert!(!net("0.0.0.0/0").contains(&ip("::1")));
        assert!(net("192.168.1.7").contains(&ip("192.168.1.7")));
        assert!(!net("192.168.1.7").contains(&ip("192.168.1.8")));
        assert!(net("2001:db8::/32").contains(&ip("2001:db8:ffff::1")));
        assert!(!net("2001:db8::/32").contains(&ip("2001:db9::1")));
        assert!(net("::1/128").contains(&ip("::1")));
        assert!(net("::/0").contains(&ip("fe80::1")));
    }

    #[test]
    fn malformed_networks_say_what_is_wrong() {
        assert_eq!(
            parse_network("10.0.0/8"),
            Err(NetError::NotAnAddress("10.0.0/8".into()))
        );
        for bad_prefix in ["10.0.0.0/33", "10.0.0.0/+8", "10.0.0.0/", "::/129"] {
            assert_eq!(
                parse_network(bad_prefix),
                Err(NetError::BadPrefix(bad_prefix.into()))
            );
        }
        assert_eq!(
            parse_network("10.1.0.0/8"),
            Err(NetError::HostBitsSet("10.1.0.0/8".into()))
        );
        assert_eq!(net("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(net("10.0.0.1").prefix_len(), 32);
        assert_eq!(net("2001:db8::1").prefix_len(), 128);
    }
}
