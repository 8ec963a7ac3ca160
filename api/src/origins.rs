//! The origins whose pages may call relm (`RELM_CORS_ORIGINS`, interface.md, *Front-end
//! applications*), compared as the contract compares them: scheme and host in lower case,
//! a default port left out.

use reqwest::Url;

/// The origins whose pages may call relm, each as `scheme://host[:port]` with scheme and
/// host in lower case and a default port left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(Vec<String>);

/// An origin as the contract compares them, or None for what is not one.
fn normalized(origin: &str) -> Option<String> {
    let url = Url::parse(origin.trim()).ok()?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || !matches!(url.path(), "" | "/")
    {
        return None;
    }
    origin_of(&url)
}

/// The origin of an http(s) URL: scheme, host and a port other than the default.
fn origin_of(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

impl Origins {
    /// Reads a comma-separated list; an entry that is not an origin (a path, `*`, another
    /// scheme) is the error, named.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let origin = normalized(entry).ok_or_else(|| {
                format!(
                    "RELM_CORS_ORIGINS: '{entry}' is not an origin such as https://app.example.com"
                )
            })?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self(origins))
    }

    /// Whether a request's `Origin` is listed.
    pub fn allows(&self, origin: &str) -> bool {
        normalized(origin).is_some_and(|o| self.0.contains(&o))
    }

    /// Whether a WebSocket's `Origin` may open one: a listed origin or relm's own, which is
    /// that of `RELM_PUBLIC_URL` (its path aside) when set, else the host the request
    /// reached (a `Host` is the client's to write, so a public URL, when there is one, is
    /// the only own origin).
    pub fn allows_socket(
        &self,
        origin: &str,
        public_url: Option<&str>,
        host: Option<&str>,
    ) -> bool {
        let Some(origin) = normalized(origin) else {
            return false;
        };
        let own = match public_url {
            Some(url) => Url::parse(url.trim()).ok().as_ref().and_then(origin_of),
            None => host.and_then(|host| {
                let scheme = origin.split("://").next()?;
                normalized(&format!("{scheme}://{host}"))
            }),
        };
        self.0.contains(&origin) || own == Some(origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_in_lower_case_without_default_ports() {
        let origins = Origins::parse("https://App.Example.com:443, http://localhost:5173").unwrap();
        for yes in [
            "https://app.example.com",
            "HTTPS://APP.EXAMPLE.COM",
            "https://app.example.com:443",
            "http://localhost:5173",
        ] {
            assert!(origins.allows(yes), "{yes}");
        }
        for no in [
            "http://app.example.com",
            "https://app.example.com:8443",
            "https://evil.example.com",
            "http://localhost:5174",
            "null",
            "",
        ] {
            assert!(!origins.allows(no), "{no}");
        }
    }

    #[test]
    fn a_list_of_anything_but_origins_is_refused_naming_the_entry() {
        for bad in [
            "*",
            "https://app.example.com/path",
            "ftp://files.example.com",
            "app.example.com",
        ] {
            let err = Origins::parse(&format!("https://ok.example.com,{bad}")).unwrap_err();
            assert!(err.contains(&format!("'{bad}'")), "{err}");
        }
        assert_eq!(Origins::parse(" , ").unwrap(), Origins::default());
    }

    #[test]
    fn a_socket_may_come_from_relm_itself_or_a_listed_origin() {
        let origins = Origins::parse("https://app.example.com").unwrap();
        let host = Some("127.0.0.1:8080");
        assert!(origins.allows_socket("https://app.example.com", None, host));
        assert!(origins.allows_socket("http://127.0.0.1:8080", None, host));
        assert!(origins.allows_socket(
            "https://relm.example.com",
            Some("https://relm.example.com/"),
            host
        ));
        assert!(!origins.allows_socket(
            "https://evil.example.com",
            Some("https://relm.example.com"),
            host
        ));
        assert!(!origins.allows_socket("http://127.0.0.1:9999", None, host));
        assert!(!origins.allows_socket("null", None, host));
        // A public URL with a path is still relm's origin, and then the only one: a Host
        // header is the client's to write.
        let public = Some("https://intranet.example.com/relm");
        assert!(origins.allows_socket("https://intranet.example.com", public, host));
        assert!(!origins.allows_socket("http://127.0.0.1:8080", public, host));
    }
}
