//! The client's error type: API errors in Vault's wording, transport failures naming the address.

use std::fmt;

/// Everything that can go wrong talking to a Coffer (or Vault/OpenBao) server.
///
/// No variant ever carries the client token: it only travels in a header that is never
/// formatted.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with a non-2xx status.
    #[error("{}", ApiDisplay { method, url, status: *status, errors })]
    Api {
        /// HTTP method of the failed request (`GET`, `LIST`, …).
        method: String,
        /// Full URL of the failed request (no query string).
        url: String,
        /// HTTP status code.
        status: u16,
        /// The `errors` array of the response body, or its raw text when it was not JSON.
        errors: Vec<String>,
    },
    /// The request never got an answer: connection refused, DNS, TLS handshake, timeout.
    #[error("error talking to the server at {address}: {message}")]
    Http {
        /// Server address the client was configured with.
        address: String,
        /// What went wrong, with the underlying causes.
        message: String,
    },
    /// The server answered 2xx but the body was not the JSON we expected.
    #[error("invalid response from {url}: {message}")]
    Decode {
        /// Full URL of the request.
        url: String,
        /// The parse error.
        message: String,
    },
    /// The client could not be built (bad address, unreadable CA certificate, …).
    #[error("{0}")]
    Config(String),
}

impl ClientError {
    /// The HTTP status for [`ClientError::Api`], `None` otherwise.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

struct ApiDisplay<'a> {
    method: &'a str,
    url: &'a str,
    status: u16,
    errors: &'a [String],
}

impl fmt::Display for ApiDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Error making API request.\n\nURL: {} {}\nCode: {}. Errors:\n",
            self.method, self.url, self.status
        )?;
        for e in self.errors {
            write!(f, "\n* {e}")?;
        }
        Ok(())
    }
}

/// Builds the error list from a non-2xx body: the `errors` array when the body is Vault's
/// error JSON, else the trimmed raw text (cut to a readable length).
pub(crate) fn errors_from_body(body: &[u8]) -> Vec<String> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(arr) = v.get("errors").and_then(|e| e.as_array())
    {
        return arr
            .iter()
            .map(|e| match e.as_str() {
                Some(s) => s.to_string(),
                None => e.to_string(),
            })
            .collect();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let mut cut: String = text.chars().take(1000).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    vec![cut]
}

/// Describes a reqwest failure with its whole source chain (reqwest's own message alone
/// is often just "error sending request").
pub(crate) fn describe_transport(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    if err.is_timeout() {
        parts.push("request timed out".to_string());
    } else if err.is_connect() {
        parts.push("could not connect".to_string());
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(err.to_string());
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_reads_like_vault() {
        let e = ClientError::Api {
            method: "GET".into(),
            url: "http://127.0.0.1:8200/v1/secret/data/x".into(),
            status: 403,
            errors: vec!["permission denied".into()],
        };
        assert_eq!(
            e.to_string(),
            "Error making API request.\n\nURL: GET http://127.0.0.1:8200/v1/secret/data/x\n\
             Code: 403. Errors:\n\n* permission denied"
        );
        assert_eq!(e.status(), Some(403));
    }

    #[test]
    fn errors_parsed_from_json_or_raw_text() {
        assert_eq!(
            errors_from_body(br#"{"errors":["a","b"]}"#),
            vec!["a".to_string(), "b".to_string()]
        );
        assert_eq!(errors_from_body(b"  bad gateway \n"), vec!["bad gateway".to_string()]);
        assert!(errors_from_body(b"").is_empty());
        assert!(errors_from_body(br#"{"errors":[]}"#).is_empty());
    }
}
