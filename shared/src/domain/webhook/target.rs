//! Where a webhook may deliver: an `https` URL on the public internet. A
//! customer names the URL, and the delivery worker runs inside our network,
//! so every address that would reach something of ours or of the cloud
//! provider is refused: loopback, private, link-local (the instance metadata
//! service included), shared (carrier-grade NAT), multicast and reserved
//! ranges, and IPv6 forms that carry such an IPv4 address (mapped,
//! compatible, NAT64, 6to4). A name is checked again at every delivery,
//! on the addresses it resolves to then, since it can be pointed elsewhere
//! after it was accepted.
//!
//! Written here rather than taken from a crate: the standard library's
//! range tests for shared, benchmarking and reserved IPv4 space are not
//! stable, and the classes a customer is told about are ours to name.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest URL a webhook takes, in characters.
pub const URL_MAX: usize = 2_048;

/// Why an address may not receive webhooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusedAddress {
    Loopback,
    Private,
    LinkLocal,
    Shared,
    Multicast,
    Reserved,
}

impl fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::LinkLocal => "a link-local address",
            Self::Shared => "a shared (carrier-grade NAT) address",
            Self::Multicast => "a multicast address",
            Self::Reserved => "a reserved address",
        })
    }
}

/// Whether loopback targets are let through: only on a developer's machine
/// (`WEBHOOK_ALLOW_LOOPBACK=1`, which `./infra/dev` sets and the template
/// never does), where the local receiver listens on loopback; every other
/// refused range stays refused there too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_loopback: bool,
}

impl TargetPolicy {
    /// Why `address` may not receive webhooks under this policy, if it may
    /// not.
    pub fn refusal(self, address: IpAddr) -> Option<RefusedAddress> {
        match class_of(address) {
            Some(RefusedAddress::Loopback) if self.allow_loopback => None,
            class => class,
        }
    }
}

fn class_of(address: IpAddr) -> Option<RefusedAddress> {
    match address {
        IpAddr::V4(v4) => class_of_v4(v4),
        IpAddr::V6(v6) => class_of_v6(v6),
    }
}

fn in_v4(address: Ipv4Addr, network: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(address) & mask == u32::from(Ipv4Addr::from(network)) & mask
}

fn class_of_v4(address: Ipv4Addr) -> Option<RefusedAddress> {
    use RefusedAddress::*;
    const CLASSES: &[([u8; 4], u32, RefusedAddress)] = &[
        ([0, 0, 0, 0], 8, Reserved),
        ([10, 0, 0, 0], 8, Private),
        ([100, 64, 0, 0], 10, Shared),
        ([127, 0, 0, 0], 8, Loopback),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([172, 16, 0, 0], 12, Private),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 0, 2, 0], 24, Reserved),
        ([192, 88, 99, 0], 24, Reserved),
        ([192, 168, 0, 0], 16, Private),
        ([198, 18, 0, 0], 15, Reserved),
        ([198, 51, 100, 0], 24, Reserved),
        ([203, 0, 113, 0], 24, Reserved),
        ([224, 0, 0, 0], 4, Multicast),
        ([240, 0, 0, 0], 4, Reserved),
    ];
    CLASSES
        .iter()
        .find(|(network, prefix, _)| in_v4(address, *network, *prefix))
        .map(|(_, _, class)| *class)
}

fn in_v6(address: Ipv6Addr, network: Ipv6Addr, prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(address) & mask == u128::from(network) & mask
}

fn class_of_v6(address: Ipv6Addr) -> Option<RefusedAddress> {
    use RefusedAddress::*;
    let bits = u128::from(address);
    let embedded = |shift: u32| Ipv4Addr::from((bits >> shift) as u32);
    if address == Ipv6Addr::LOCALHOST {
        return Some(Loopback);
    }
    if address.is_unspecified() {
        return Some(Reserved);
    }
    // ::a.b.c.d (compatible) and ::ffff:a.b.c.d (mapped) reach the IPv4
    // address they carry; so do NAT64's 64:ff9b::/96 and 6to4's 2002::/16.
    if in_v6(address, Ipv6Addr::UNSPECIFIED, 96)
        || in_v6(address, Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96)
        || in_v6(address, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96)
    {
        return class_of_v4(embedded(0));
    }
    if in_v6(address, Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        return class_of_v4(embedded(80));
    }
    const CLASSES: &[(Ipv6Addr, u32, RefusedAddress)] = &[
        // NAT64 for local use.
        (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, Private),
        // Discard-only.
        (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, Reserved),
        // IETF protocol assignments, Teredo (which carries an obscured
        // IPv4 address) among them.
        (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23, Reserved),
        // Documentation.
        (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, Reserved),
        // Unique local (the instance metadata service's fd00:ec2::254 too).
        (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, Private),
        (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, LinkLocal),
        // Site-local, deprecated but still routed privately.
        (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, Private),
        (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, Multicast),
    ];
    CLASSES
        .iter()
        .find(|(network, prefix, _)| in_v6(address, *network, *prefix))
        .map(|(_, _, class)| *class)
}

/// A webhook's URL, as accepted: absolute, `https` (or `http` to a
/// loopback host where the policy lets loopback through), at most
/// [`URL_MAX`] characters, without credentials, and not naming a refused
/// address or `localhost`. A name's addresses are checked when it is
/// resolved (see [`TargetPolicy::refusal`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    pub fn parse(raw: &str, policy: TargetPolicy) -> Result<Self, String> {
        if raw.chars().count() > URL_MAX {
            return Err(format!("must be at most {URL_MAX} characters"));
        }
        let url = url::Url::parse(raw).map_err(|_| "must be an absolute https URL".to_owned())?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not hold credentials".into());
        }
        let loopback = match url.host() {
            None => return Err("must be an absolute https URL".into()),
            Some(url::Host::Ipv4(v4)) => Self::address(IpAddr::V4(v4), policy)?,
            Some(url::Host::Ipv6(v6)) => Self::address(IpAddr::V6(v6), policy)?,
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.');
                let local = name == "localhost" || name.ends_with(".localhost");
                if local && !policy.allow_loopback {
                    return Err(format!("must not name {}", RefusedAddress::Loopback));
                }
                local
            }
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err("must be an absolute https URL".into()),
        }
        Ok(Self(url))
    }

    /// Whether the address is one a webhook may name; `Ok(true)` for a
    /// loopback address the policy lets through.
    fn address(address: IpAddr, policy: TargetPolicy) -> Result<bool, String> {
        match policy.refusal(address) {
            Some(class) => Err(format!("must not name {class}")),
            None => Ok(class_of(address) == Some(RefusedAddress::Loopback)),
        }
    }

    /// A URL as stored, accepted when it was written: read back as it is,
    /// since its addresses are checked again at every delivery.
    pub fn stored(raw: &str) -> Option<Self> {
        url::Url::parse(raw).ok().map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host to resolve, and the port to connect to.
    pub fn host_and_port(&self) -> (String, u16) {
        let host = match self.0.host() {
            Some(url::Host::Ipv6(v6)) => v6.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        };
        (host, self.0.port_or_known_default().unwrap_or(443))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy {
        allow_loopback: false,
    };
    const LOCAL: TargetPolicy = TargetPolicy {
        allow_loopback: true,
    };

    fn refusal(address: &str) -> Option<RefusedAddress> {
        STRICT.refusal(address.parse().unwrap())
    }

    #[test]
    fn every_refused_ipv4_class_is_named() {
        use RefusedAddress::*;
        for (address, class) in [
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("169.254.169.254", LinkLocal),
            ("100.64.0.1", Shared),
            ("100.127.255.255", Shared),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("0.0.0.0", Reserved),
            ("0.1.2.3", Reserved),
            ("192.0.2.10", Reserved),
            ("198.18.0.1", Reserved),
            ("198.51.100.7", Reserved),
            ("203.0.113.7", Reserved),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Reserved),
        ] {
            assert_eq!(refusal(address), Some(class), "{address}");
        }
    }

    #[test]
    fn public_ipv4_addresses_next_to_the_refused_ranges_are_allowed() {
        for address in [
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "192.167.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert_eq!(refusal(address), None, "{address}");
        }
    }

    #[test]
    fn ipv6_forms_of_a_refused_ipv4_address_are_refused_like_it() {
        use RefusedAddress::*;
        for (address, class) in [
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:10.1.2.3", Private),
            ("::127.0.0.1", Loopback),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("2002:a9fe:a9fe::1", LinkLocal),
            ("2002:7f00:1::", Loopback),
        ] {
            assert_eq!(refusal(address), Some(class), "{address}");
        }
        assert_eq!(refusal("::ffff:8.8.8.8"), None);
        assert_eq!(refusal("2002:0808:0808::1"), None);
    }

    #[test]
    fn every_refused_ipv6_class_is_named() {
        use RefusedAddress::*;
        for (address, class) in [
            ("::1", Loopback),
            ("::", Reserved),
            ("fc00::1", Private),
            ("fd00:ec2::254", Private),
            ("fe80::1", LinkLocal),
            ("fec0::1", Private),
            ("ff02::1", Multicast),
            ("2001:db8::1", Reserved),
            ("2001::1", Reserved),
            ("100::1", Reserved),
            ("64:ff9b:1::1", Private),
        ] {
            assert_eq!(refusal(address), Some(class), "{address}");
        }
        assert_eq!(refusal("2606:4700:4700::1111"), None);
        assert_eq!(refusal("2a00:1450:4001:81c::200e"), None);
    }

    #[test]
    fn the_loopback_policy_lets_loopback_through_and_nothing_else() {
        assert_eq!(LOCAL.refusal("127.0.0.1".parse().unwrap()), None);
        assert_eq!(LOCAL.refusal("::1".parse().unwrap()), None);
        assert_eq!(
            LOCAL.refusal("10.0.0.1".parse().unwrap()),
            Some(RefusedAddress::Private)
        );
        assert_eq!(
            LOCAL.refusal("169.254.169.254".parse().unwrap()),
            Some(RefusedAddress::LinkLocal)
        );
    }

    #[test]
    fn a_url_is_https_short_without_credentials_and_not_a_refused_host() {
        let ok = WebhookUrl::parse("https://hooks.example.com/in?x=1", STRICT).unwrap();
        assert_eq!(ok.host_and_port(), ("hooks.example.com".to_owned(), 443));
        assert_eq!(
            WebhookUrl::parse("https://[2606:4700::1111]:8443/", STRICT)
                .unwrap()
                .host_and_port(),
            ("2606:4700::1111".to_owned(), 8443)
        );
        for (raw, problem) in [
            ("http://hooks.example.com/", "must be an absolute https URL"),
            ("ftp://hooks.example.com/", "must be an absolute https URL"),
            ("/relative", "must be an absolute https URL"),
            (
                "https://user:pw@hooks.example.com/",
                "must not hold credentials",
            ),
            (
                "https://user@hooks.example.com/",
                "must not hold credentials",
            ),
            ("https://127.0.0.1/", "must not name a loopback address"),
            ("https://localhost/", "must not name a loopback address"),
            (
                "https://app.localhost./",
                "must not name a loopback address",
            ),
            (
                "https://169.254.169.254/latest",
                "must not name a link-local address",
            ),
            (
                "https://[::ffff:10.0.0.1]/",
                "must not name a private address",
            ),
            ("https://0x7f000001/", "must not name a loopback address"),
            ("https://2130706433/", "must not name a loopback address"),
        ] {
            assert_eq!(
                WebhookUrl::parse(raw, STRICT).unwrap_err(),
                problem,
                "{raw}"
            );
        }
        let long = format!("https://hooks.example.com/{}", "a".repeat(URL_MAX));
        assert_eq!(
            WebhookUrl::parse(&long, STRICT).unwrap_err(),
            "must be at most 2048 characters"
        );
    }

    #[test]
    fn on_a_developers_machine_http_to_loopback_is_let_through_and_only_that() {
        assert!(WebhookUrl::parse("http://127.0.0.1:3000/_local/webhooks/inbox", LOCAL).is_ok());
        assert!(WebhookUrl::parse("http://localhost:3000/in", LOCAL).is_ok());
        assert_eq!(
            WebhookUrl::parse("http://hooks.example.com/", LOCAL).unwrap_err(),
            "must be an absolute https URL"
        );
        assert_eq!(
            WebhookUrl::parse("http://192.168.0.2/", LOCAL).unwrap_err(),
            "must not name a private address"
        );
    }
}
