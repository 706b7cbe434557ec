//! The Vault wire format: HTTP request → `core::Request`, `core::Response` → JSON envelope.
//! The one place where core errors become HTTP status codes.

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum_server::tls::TlsInfo;
use coffer_core::{Auth, Core, CoreError, Response, WrapInfo};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The core.
    pub core: Core,
    /// Body limit in bytes.
    pub max_request_size: usize,
    /// Time allowed to receive the body once the headers are in (408 beyond).
    pub read_timeout: Option<std::time::Duration>,
    /// Structural limits of JSON bodies.
    pub json_limits: crate::decode::JsonLimits,
}

/// A client-facing error with its status.
pub struct ApiError {
    status: StatusCode,
    errors: Vec<String>,
    /// Extra response headers (rate limit information on a 429).
    headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn new(status: StatusCode, msg: impl Into<String>) -> Self {
        ApiError {
            status,
            errors: vec![msg.into()],
            headers: Vec::new(),
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        let status = match &err {
            CoreError::Sealed | CoreError::NotInitialized => StatusCode::SERVICE_UNAVAILABLE,
            CoreError::PermissionDenied => StatusCode::FORBIDDEN,
            CoreError::BadRequest(_) | CoreError::Conflict(_) => StatusCode::BAD_REQUEST,
            CoreError::NotFound(_) | CoreError::NoRoute(_) => StatusCode::NOT_FOUND,
            CoreError::UnsupportedOperation => StatusCode::METHOD_NOT_ALLOWED,
            CoreError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            CoreError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            CoreError::Storage(_) | CoreError::Crypto(_) | CoreError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %err, "request failed");
        }
        let errors = match &err {
            CoreError::NotFound(msg) if msg.is_empty() => vec![],
            CoreError::Sealed => vec!["error performing token check: Vault is sealed".into()],
            other => vec![other.to_string()],
        };
        let headers = match &err {
            CoreError::RateLimited { headers: Some(h), .. } => vec![
                ("retry-after", h.reset.to_string()),
                ("x-ratelimit-limit", h.limit.to_string()),
                ("x-ratelimit-remaining", h.remaining.to_string()),
                ("x-ratelimit-reset", h.reset.to_string()),
            ],
            _ => Vec::new(),
        };
        ApiError {
            status,
            errors,
            headers,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> HttpResponse {
        let mut resp = (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({ "errors": self.errors })),
        )
            .into_response();
        for (name, value) in self.headers {
            if let Ok(value) = header::HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, value);
            }
        }
        resp
    }
}

/// The catch-all `/v1/*` handler.
pub async fn handle(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let client_certs = parts
        .extensions
        .get::<Arc<TlsInfo>>()
        .map(|info| info.peer_certificates.clone())
        .unwrap_or_default();
    let started = std::time::Instant::now();
    let (method, uri) = (parts.method.clone(), parts.uri.clone());
    let resp = match serve(app, peer, client_certs, parts.method, parts.uri, parts.headers, body).await {
        Ok(resp) => resp,
        Err(err) => err.into_response(),
    };
    // Paths are not secret (audit devices record them in clear too); bodies never are logged.
    tracing::debug!(%method, path = uri.path(), status = resp.status().as_u16(), micros = started.elapsed().as_micros() as u64, "request");
    resp
}

async fn serve(
    app: AppState,
    peer: SocketAddr,
    client_certs: Vec<Vec<u8>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let read = to_bytes(body, app.max_request_size);
    let read = match app.read_timeout {
        Some(limit) => tokio::time::timeout(limit, read)
            .await
            .map_err(|_| ApiError::new(StatusCode::REQUEST_TIMEOUT, "timed out reading the request body"))?,
        None => read.await,
    };
    let bytes = read.map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"))?;
    let mut req = crate::decode::decode_request_with(&method, &uri, &headers, &bytes, &app.json_limits)?;
    req.client_addr = Some(peer.ip());
    req.client_certs = client_certs;
    let request_id = req.id.clone();
    let is_head = method == Method::HEAD;
    let resp = app.core.handle(req).await?;
    let mut http = encode(resp, &request_id);
    if is_head {
        *http.body_mut() = Body::empty();
    }
    Ok(http)
}

/// Builds Vault's envelope (or a raw body) from a core response.
pub fn encode(resp: Response, request_id: &str) -> HttpResponse {
    let status = resp.status.and_then(|s| StatusCode::from_u16(s).ok());
    if let Some((content_type, text)) = resp.raw_text {
        return (
            status.unwrap_or(StatusCode::OK),
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-store".into()),
            ],
            text,
        )
            .into_response();
    }
    if let Some(raw) = resp.raw {
        return (
            status.unwrap_or(StatusCode::OK),
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(raw),
        )
            .into_response();
    }
    if resp.data.is_none()
        && resp.auth.is_none()
        && resp.wrap_info.is_none()
        && resp.warnings.is_empty()
        && status.is_none()
    {
        return StatusCode::NO_CONTENT.into_response();
    }
    let lease = resp.lease.as_ref();
    let envelope = Envelope {
        auth: resp.auth.as_ref(),
        data: resp.data.as_ref(),
        lease_duration: lease.map_or(0, |l| l.lease_duration),
        lease_id: lease.map_or("", |l| &l.lease_id),
        mount_type: &resp.mount_type,
        renewable: lease.is_some_and(|l| l.renewable),
        request_id,
        warnings: (!resp.warnings.is_empty()).then_some(&resp.warnings),
        wrap_info: resp.wrap_info.as_ref(),
    };
    let body = if resp.data_at_top_level
        && let Some(data) = &resp.data
    {
        // The data's fields beside the envelope's (sys endpoints, as Vault answers them).
        let mut merged = data.clone();
        if let Ok(Value::Object(fields)) = serde_json::to_value(&envelope) {
            merged.extend(fields);
        }
        serde_json::to_vec(&merged)
    } else {
        serde_json::to_vec(&envelope)
    };
    match body {
        Ok(body) => (
            status.unwrap_or(StatusCode::OK),
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the response: {e}"),
        )
        .into_response(),
    }
}

/// Vault's response envelope. Fields are in alphabetical order, as Vault writes them.
#[derive(Serialize)]
struct Envelope<'a> {
    auth: Option<&'a Auth>,
    data: Option<&'a Map<String, Value>>,
    lease_duration: u64,
    lease_id: &'a str,
    mount_type: &'a str,
    renewable: bool,
    request_id: &'a str,
    warnings: Option<&'a Vec<String>>,
    wrap_info: Option<&'a WrapInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_core::LeaseInfo;

    async fn body_of(resp: Response) -> (StatusCode, Value, String) {
        let http = encode(resp, "req-1");
        let status = http.status();
        let ctype = http.headers()[header::CONTENT_TYPE].to_str().unwrap().to_string();
        let bytes = to_bytes(http.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap(), ctype)
    }

    #[tokio::test]
    async fn envelope_has_vaults_fields() {
        let resp = Response {
            lease: Some(LeaseInfo {
                lease_id: "db/creds/r/abc".into(),
                lease_duration: 60,
                renewable: true,
            }),
            warnings: vec!["w".into()],
            mount_type: "kv".into(),
            ..Response::data(json!({"k": "v"}))
        };
        let (status, body, ctype) = body_of(resp).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ctype, "application/json");
        assert_eq!(
            body,
            json!({
                "request_id": "req-1", "lease_id": "db/creds/r/abc", "renewable": true,
                "lease_duration": 60, "data": {"k": "v"}, "wrap_info": null, "warnings": ["w"],
                "auth": null, "mount_type": "kv",
            })
        );
    }

    #[tokio::test]
    async fn data_at_top_level_sits_beside_the_envelope_which_wins() {
        let resp = Response {
            data_at_top_level: true,
            ..Response::data(json!({"sealed": false, "request_id": "from-data"}))
        };
        let (_, body, _) = body_of(resp).await;
        assert_eq!(body["sealed"], json!(false));
        assert_eq!(body["data"]["sealed"], json!(false));
        assert_eq!(body["request_id"], json!("req-1"));
        assert_eq!(body["warnings"], Value::Null);
        assert_eq!(body["lease_id"], json!(""));
    }
}
