//! What stays on the machine: production mode refuses plain `http://` URLs unless their host is
//! loopback (127.0.0.0/8, `::1`, `localhost`), and development mode warns when it listens
//! beyond loopback.

use std::net::IpAddr;

/// Whether a listen address (`http.host`) or URL host is loopback. An unparsable name other
/// than `localhost` counts as not loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `Err` naming `setting` when `url` is plain `http://` to a host that is not loopback (the
/// production rule: tokens and keys travel only over TLS, or never leave the machine).
pub fn require_tls_unless_loopback(setting: &str, url: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("{setting} ({url:?}) is not a URL: {e}"))?;
    let loopback = parsed.host_str().is_some_and(is_loopback_host);
    anyhow::ensure!(
        parsed.scheme() != "http" || loopback,
        "{setting} is {url:?}: production mode needs https:// (plain http:// only to a \
         loopback host: 127.0.0.0/8, ::1, localhost)"
    );
    Ok(())
}

/// The loud start-up warning of a development instance of `service` listening on `host`
/// beyond loopback, naming what production mode would require of it; `None` on loopback.
pub fn exposure_warning(service: &str, host: &str, production_requires: &str) -> Option<String> {
    (!is_loopback_host(host)).then(|| {
        format!(
            "DEVELOPMENT MODE on a non-loopback address ({host}): other machines can reach this \
             {service}. {production_requires}"
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "0.0.0.0",
            "::",
            "10.0.0.5",
            "auth.example.org",
            "localhost.evil",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn production_urls_need_tls_unless_loopback() {
        for ok in [
            "https://auth.example.org",
            "https://10.0.0.5:8443/x",
            "http://127.0.0.1:8081",
            "http://127.1.2.3",
            "http://[::1]:8081",
            "http://localhost:8081/api",
        ] {
            require_tls_unless_loopback("X", ok).unwrap();
        }
        for refused in [
            "http://auth.example.org",
            "http://10.0.0.5:8081",
            "http://0.0.0.0:8081",
            "http://localhost.example.org",
        ] {
            let err = require_tls_unless_loopback("X", refused)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("X is {refused:?}: production mode needs https://")),
                "{err}"
            );
        }
        assert!(require_tls_unless_loopback("X", "not a url").is_err());
    }
}
