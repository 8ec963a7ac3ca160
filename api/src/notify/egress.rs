//! Where notifications may go (communication.md, *Notifications*): `https://`, or `http://`
//! to a host of `RELM_NOTIFY_ALLOW_HOSTS`; no `user:password@`; and a host that resolves to
//! an address of a refused class (loopback, private, link-local, metadata, …) only when it
//! is listed. The host is resolved here, once per attempt, and the attempt connects to the
//! address checked, so a name that later resolves elsewhere is checked again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;

/// Resolves a host name; injectable so that a test can make a name resolve elsewhere.
#[async_trait::async_trait]
pub trait Resolver: Send + Sync {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// The system's resolver.
pub struct SystemResolver;

#[async_trait::async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }
}

/// The hosts of `RELM_NOTIFY_ALLOW_HOSTS`: each `host` or `host:port`, lower case.
#[derive(Debug, Clone, Default)]
pub struct AllowHosts(Vec<(String, Option<u16>)>);

impl AllowHosts {
    /// Reads a comma-separated list; an entry that is not `host[:port]` is an error naming it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut hosts = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let url = Url::parse(&format!("http://{entry}/")).ok().filter(|u| {
                u.username().is_empty()
                    && u.password().is_none()
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.fragment().is_none()
            });
            let Some(host) = url.as_ref().and_then(|u| u.host_str()) else {
                return Err(format!(
                    "RELM_NOTIFY_ALLOW_HOSTS: {entry} is not a host[:port]"
                ));
            };
            let port = url.as_ref().and_then(Url::port);
            hosts.push((host.to_ascii_lowercase(), port));
        }
        Ok(Self(hosts))
    }

    fn allows(&self, host: &str, port: u16) -> bool {
        self.0
            .iter()
            .any(|(h, p)| h == host && p.is_none_or(|p| p == port))
    }
}

/// A notification URL that passed the checks of its text.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: Url,
    pub host: String,
    pub port: u16,
    /// The host is listed in `RELM_NOTIFY_ALLOW_HOSTS`.
    pub listed: bool,
}

/// Checks the URL's text: scheme, credentials, host. The error says why, for the client.
pub fn parse(text: &str, allow: &AllowHosts) -> Result<Target, String> {
    let url = Url::parse(text.trim()).map_err(|_| "is not a valid URL".to_owned())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold a user name or password".into());
    }
    // An IPv6 literal keeps its brackets, as RELM_NOTIFY_ALLOW_HOSTS writes it.
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| "must name a host".to_owned())?
        .to_ascii_lowercase();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "must be https:// (or http:// to an allowed host)".to_owned())?;
    let listed = allow.allows(&host, port);
    match url.scheme() {
        "https" => {}
        "http" if listed => {}
        "http" => {
            return Err(format!(
                "must be https://; http:// only to a host listed in RELM_NOTIFY_ALLOW_HOSTS, and {host} is not"
            ));
        }
        _ => return Err("must be https:// (or http:// to an allowed host)".into()),
    }
    Ok(Target {
        url,
        host,
        port,
        listed,
    })
}

/// Resolves the target's host and checks every address it resolves to: the address to
/// connect to, or why not.
pub async fn resolve(target: &Target, resolver: &Arc<dyn Resolver>) -> Result<SocketAddr, String> {
    let literal = target
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    let addresses = match literal {
        Some(ip) => vec![SocketAddr::new(ip, target.port)],
        None => resolver
            .resolve(&target.host, target.port)
            .await
            .map_err(|_| format!("{} could not be resolved", target.host))?,
    };
    let first = *addresses
        .first()
        .ok_or_else(|| format!("{} could not be resolved", target.host))?;
    if let Some(refused) = addresses.iter().find(|a| !target.listed && refused(a.ip())) {
        return Err(format!(
            "{} resolves to {}, an address notifications may not reach unless the host is listed in RELM_NOTIFY_ALLOW_HOSTS",
            target.host,
            refused.ip()
        ));
    }
    Ok(first)
}

/// The URL with its path and query replaced by `…`: what a channel shows of it.
pub fn hint(url: &Url) -> String {
    let mut origin = url.origin().ascii_serialization();
    origin.push_str("/…");
    origin
}

/// Whether `ip` is of a class notifications may not reach: 0/8, 10/8, 100.64/10, 127/8,
/// 169.254/16, 172.16/12, 192.0.0/24, 192.168/16, 198.18/15, 224/3, ::, ::1, fc00::/7,
/// fe80::/10, ff00::/8, and the IPv4 ones in their `::ffff:0:0/96` and `64:ff9b::/96` forms.
pub fn refused(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> bool {
    const CLASSES: [([u8; 4], u32); 10] = [
        ([0, 0, 0, 0], 8),
        ([10, 0, 0, 0], 8),
        ([100, 64, 0, 0], 10),
        ([127, 0, 0, 0], 8),
        ([169, 254, 0, 0], 16),
        ([172, 16, 0, 0], 12),
        ([192, 0, 0, 0], 24),
        ([192, 168, 0, 0], 16),
        ([198, 18, 0, 0], 15),
        ([224, 0, 0, 0], 3),
    ];
    let bits = u32::from(ip);
    CLASSES.iter().any(|(net, len)| {
        let mask = u32::MAX << (32 - len);
        bits & mask == u32::from_be_bytes(*net) & mask
    })
}

fn refused_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded = |prefix: [u16; 6]| {
        (segments[..6] == prefix).then(|| {
            let [a, b] = segments[6].to_be_bytes();
            let [c, d] = segments[7].to_be_bytes();
            Ipv4Addr::new(a, b, c, d)
        })
    };
    if let Some(v4) = embedded([0, 0, 0, 0, 0, 0xffff]).or(embedded([0x64, 0xff9b, 0, 0, 0, 0])) {
        return refused_v4(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || segments[0] & 0xfe00 == 0xfc00
        || segments[0] & 0xffc0 == 0xfe80
        || segments[0] & 0xff00 == 0xff00
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn every_refused_class_is_refused_in_every_form() {
        for text in [
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(refused(ip(text)), "{text} should be refused");
        }
        for text in [
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::1.1.1.1",
        ] {
            assert!(!refused(ip(text)), "{text} should be allowed");
        }
    }

    #[test]
    fn urls_need_https_no_credentials_and_http_only_to_listed_hosts() {
        let allow = AllowHosts::parse("hooks.internal, 127.0.0.1:8080").unwrap_or_default();
        assert!(parse("https://hooks.slack.com/services/x", &allow).is_ok());
        assert!(parse("http://example.com/", &allow).is_err());
        assert!(parse("http://hooks.internal/x", &allow).is_ok_and(|t| t.listed));
        assert!(parse("http://127.0.0.1:8080/x", &allow).is_ok_and(|t| t.listed));
        assert!(parse("http://127.0.0.1:8081/x", &allow).is_err());
        assert!(parse("https://user:pass@example.com/", &allow).is_err());
        assert!(parse("https://user@example.com/", &allow).is_err());
        assert!(parse("ftp://example.com/", &allow).is_err());
        assert!(parse("not a url", &allow).is_err());
        assert!(AllowHosts::parse("a/b").is_err());
    }

    #[test]
    fn a_hint_keeps_only_the_origin() {
        let url = Url::parse("https://hooks.slack.com/services/T0/B0/secret?x=1")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(hint(&url), "https://hooks.slack.com/…");
    }
}
