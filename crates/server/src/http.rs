//! The Vault wire format: HTTP request → `core::Request`, `core::Response` → JSON envelope.
//! The one place where core errors become HTTP status codes.

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum_server::tls::TlsInfo;
use coffer_core::{Core, CoreError, Operation, Request, Response};
use secrecy::SecretString;
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
}

/// A client-facing error with its status.
pub struct ApiError {
    status: StatusCode,
    errors: Vec<String>,
}

impl ApiError {
    fn new(status: StatusCode, msg: impl Into<String>) -> Self {
        ApiError {
            status,
            errors: vec![msg.into()],
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
        ApiError { status, errors }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> HttpResponse {
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({ "errors": self.errors })),
        )
            .into_response()
    }
}

fn operation(method: &Method, query: &Map<String, Value>) -> Result<Operation, ApiError> {
    Ok(match method.as_str() {
        "GET" | "HEAD" if query.get("list").and_then(Value::as_str) == Some("true") => Operation::List,
        "GET" | "HEAD" => Operation::Read,
        "LIST" => Operation::List,
        "POST" | "PUT" => Operation::Update,
        "PATCH" => Operation::Patch,
        "DELETE" => Operation::Delete,
        _ => return Err(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "unsupported method")),
    })
}

fn query_map(uri: &Uri) -> Map<String, Value> {
    let mut map = Map::new();
    if let Some(q) = uri.query() {
        for (k, v) in form_pairs(q) {
            map.insert(k, Value::String(v));
        }
    }
    map
}

/// Decodes `application/x-www-form-urlencoded` pairs.
fn form_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_as_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn token_of(headers: &HeaderMap) -> Option<SecretString> {
    if let Some(t) = headers.get("x-vault-token").and_then(|v| v.to_str().ok())
        && !t.is_empty()
    {
        return Some(SecretString::from(t.to_string()));
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))?
        .trim();
    (!token.is_empty()).then(|| SecretString::from(token.to_string()))
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
    match serve(app, peer, client_certs, parts.method, parts.uri, parts.headers, body).await {
        Ok(resp) => resp,
        Err(err) => err.into_response(),
    }
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
    let raw_path = uri.path().strip_prefix("/v1/").unwrap_or("");
    let path = percent_decode(raw_path.trim_start_matches('/'), false);
    if path.contains('\0') || path.split('/').any(|s| s == "..") {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid request path"));
    }
    let query = query_map(&uri);
    let op = operation(&method, &query)?;
    if op == Operation::Patch {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type.starts_with("application/merge-patch+json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "PATCH requires Content-Type: application/merge-patch+json",
            ));
        }
    }
    let bytes = to_bytes(body, app.max_request_size)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"))?;
    let data = match op {
        Operation::Update | Operation::Patch | Operation::Create if !bytes.is_empty() => {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => map,
                Ok(Value::Null) => Map::new(),
                Ok(_) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "request body must be a JSON object",
                    ));
                }
                Err(e) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!("failed to parse JSON input: line {} column {}", e.line(), e.column()),
                    ));
                }
            }
        }
        Operation::Update | Operation::Patch | Operation::Create => Map::new(),
        _ => {
            let mut q = query;
            q.remove("list");
            q
        }
    };
    let wrap_ttl = match headers.get("x-vault-wrap-ttl").map(|v| v.to_str().unwrap_or("")) {
        None => None,
        Some(v) => match coffer_core::duration::parse(v) {
            Some(secs) if secs > 0 => Some(std::time::Duration::from_secs(secs)),
            _ => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("invalid X-Vault-Wrap-TTL \"{v}\""),
                ));
            }
        },
    };
    let mut req = Request::new(op, path);
    req.data = data;
    req.token = token_of(&headers);
    req.client_addr = Some(peer.ip());
    req.client_certs = client_certs;
    req.wrap_ttl = wrap_ttl;
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
    let (lease_id, lease_duration, renewable) = match &resp.lease {
        Some(l) => (l.lease_id.clone(), l.lease_duration, l.renewable),
        None => (String::new(), 0, false),
    };
    let mut body = Map::new();
    if resp.data_at_top_level
        && let Some(data) = &resp.data
    {
        for (k, v) in data {
            body.insert(k.clone(), v.clone());
        }
    }
    body.insert("request_id".into(), json!(request_id));
    body.insert("lease_id".into(), json!(lease_id));
    body.insert("renewable".into(), json!(renewable));
    body.insert("lease_duration".into(), json!(lease_duration));
    body.insert("data".into(), resp.data.map(Value::Object).unwrap_or(Value::Null));
    body.insert(
        "wrap_info".into(),
        resp.wrap_info.map(|w| json!(w)).unwrap_or(Value::Null),
    );
    body.insert(
        "warnings".into(),
        if resp.warnings.is_empty() {
            Value::Null
        } else {
            json!(resp.warnings)
        },
    );
    body.insert("auth".into(), resp.auth.map(|a| json!(a)).unwrap_or(Value::Null));
    body.insert("mount_type".into(), json!(resp.mount_type));
    (
        status.unwrap_or(StatusCode::OK),
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(Value::Object(body)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(percent_decode("a%2Fb+c", true), "a/b c");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("%zz", true), "%zz");
        assert_eq!(
            form_pairs("version=2&list=true"),
            vec![("version".into(), "2".into()), ("list".into(), "true".into())]
        );
    }
}
