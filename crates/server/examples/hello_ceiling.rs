//! The speed ceiling for bench/vault/run.sh: a hello-world axum server on the same stack as
//! Coffer (axum, hyper, tokio) answering every GET with a fixed KV-v2-sized JSON body and no
//! work at all. Usage: `cargo run --release -p coffer-server --example hello_ceiling -- ADDR`.

use axum::routing::get;

const BODY: &str = r#"{"request_id":"00000000-0000-0000-0000-000000000000","lease_id":"","renewable":false,"lease_duration":0,"data":{"data":{"password":"0123456789abcdef"},"metadata":{"created_time":"2026-11-28T00:00:00Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}},"wrap_info":null,"warnings":null,"auth":null,"mount_type":"kv"}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8300".into());
    let app = axum::Router::new().route(
        "/{*path}",
        get(|| async { ([(axum::http::header::CONTENT_TYPE, "application/json")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
