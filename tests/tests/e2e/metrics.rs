//! `sys/metrics` against the real binary: request counters and latency histograms per mount
//! and operation, gauges, the Prometheus text format (checked line by line) and the JSON shape.

use coffer_tests::CofferServer;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// One sample line: metric name, labels, value.
#[derive(Debug)]
struct PromSample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "NaN" => Ok(f64::NAN),
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ if s.is_empty() || s.contains(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))) => {
            Err(format!("bad value {s:?}"))
        }
        _ => s.parse().map_err(|e| format!("bad value {s:?}: {e}")),
    }
}

/// `{a="x",b="y"}` → labels and the rest of the line after `}`.
fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = s.strip_prefix('{').ok_or("labels must start with {")?;
    if let Some(after) = rest.strip_prefix('}') {
        return Ok((labels, after));
    }
    loop {
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !is_label_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        rest = rest[eq + 1..].strip_prefix('"').ok_or("label value must be quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("unterminated label value".into()),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((_, '\n')) => return Err("raw newline in label value".into()),
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        rest = &rest[end + 1..];
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        rest = rest.strip_prefix(',').ok_or("labels must be separated by ,")?;
    }
}

/// A strict checker of the Prometheus text exposition format (0.0.4) for what Coffer emits:
/// every line is `# HELP`, `# TYPE` or a sample; each family is declared once, before its
/// samples; histogram samples are `_bucket` (with `le`), `_sum` and `_count`.
fn parse_prometheus(text: &str) -> Result<Vec<PromSample>, String> {
    if !text.ends_with('\n') {
        return Err("text must end with a newline".into());
    }
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helps: HashMap<String, ()> = HashMap::new();
    let mut current: Option<(String, String)> = None;
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let err = |msg: String| format!("line {}: {msg}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _help) = rest.split_once(' ').ok_or_else(|| err("HELP without text".into()))?;
            if !is_metric_name(name) || helps.insert(name.to_string(), ()).is_some() {
                return Err(err("bad or repeated HELP".into()));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or_else(|| err("TYPE without type".into()))?;
            if !is_metric_name(name) || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                return Err(err("bad TYPE".into()));
            }
            if types.insert(name.to_string(), kind.to_string()).is_some() {
                return Err(err("TYPE repeated".into()));
            }
            current = Some((name.to_string(), kind.to_string()));
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            return Err(err("unexpected comment or blank line".into()));
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| err("no value".into()))?;
        let name = &line[..name_end];
        if !is_metric_name(name) {
            return Err(err("bad metric name".into()));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(err)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let rest = rest
            .strip_prefix(' ')
            .ok_or_else(|| err("no space before the value".into()))?;
        let mut parts = rest.split(' ');
        let value = parse_value(parts.next().unwrap_or("")).map_err(err)?;
        if let Some(ts) = parts.next() {
            ts.parse::<i64>().map_err(|_| err("bad timestamp".into()))?;
        }
        if parts.next().is_some() {
            return Err(err("trailing fields".into()));
        }
        let (family, kind) = current.as_ref().ok_or_else(|| err("sample before any TYPE".into()))?;
        let ok = match kind.as_str() {
            "histogram" => {
                (name == format!("{family}_bucket") && labels.contains_key("le"))
                    || name == format!("{family}_sum")
                    || name == format!("{family}_count")
            }
            _ => name == family,
        };
        if !ok {
            return Err(err(format!("sample does not belong to the {kind} {family}")));
        }
        samples.push(PromSample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    Ok(samples)
}

fn find<'a>(samples: &'a [PromSample], name: &str, labels: &[(&str, &str)]) -> Vec<&'a PromSample> {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

fn value(samples: &[PromSample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = find(samples, name, labels);
    assert_eq!(found.len(), 1, "expected one {name} {labels:?}, found {found:?}");
    found[0].value
}

async fn scrape(s: &CofferServer, token: &str) -> (u16, String, String) {
    let resp = s
        .client()
        .get(s.url("sys/metrics?format=prometheus"))
        .header("X-Vault-Token", token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

#[test]
fn the_checker_rejects_malformed_text() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n";
    assert!(parse_prometheus(good).is_ok());
    for bad in [
        "a_total 3\n",                                                 // no TYPE
        "# TYPE a_total counter\na_total{x=1} 3\n",                    // unquoted
        "# TYPE a_total counter\na_total{x=\"1\"}3\n",                 // no space
        "# TYPE a_total counter\na_total three\n",                     // value
        "# TYPE a_total counter\nb_total 1\n",                         // wrong family
        "# TYPE a_total counter\na_total 1",                           // no final newline
        "# TYPE h histogram\nh_bucket 1\n",                            // bucket without le
        "# TYPE a_total counter\n# TYPE a_total counter\na_total 1\n", // TYPE twice
        "# TYPE a_total counter\na_total{x=\"1\",x=\"2\"} 1\n",        // label twice
        "# TYPE a_total counter\n\na_total 1\n",                       // blank line
        "# TYPE a_total counter\na_total{x=\"\\q\"} 1\n",              // bad escape
        "# TYPE a_total counter\na_total{1x=\"a\"} 1\n",               // bad label name
    ] {
        assert!(parse_prometheus(bad).is_err(), "accepted {bad:?}");
    }
}

#[tokio::test]
async fn metrics_count_requests_per_mount_and_operation() {
    let s = CofferServer::start_dev().await;
    const WRITES: usize = 4;
    const READS: usize = 7;
    for i in 0..WRITES {
        let (status, body) = s
            .root_req("POST", &format!("secret/data/m{i}"), Some(json!({"data": {"v": i}})))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    for i in 0..READS {
        let (status, body) = s.root_req("GET", &format!("secret/data/m{}", i % WRITES), None).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, _) = s.root_req("GET", "secret/data/missing", None).await;
    assert_eq!(status, 404);
    let (status, _) = s.root_req("GET", "nowhere/at/all", None).await;
    assert!(status >= 400, "{status}");

    let (status, ctype, text) = scrape(&s, &s.root()).await;
    assert_eq!(status, 200, "{text}");
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "content type {ctype}");
    let samples = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));

    let read = [("mount", "secret/"), ("operation", "read")];
    let ok = [("mount", "secret/"), ("operation", "read"), ("status", "2xx")];
    let not_found = [("mount", "secret/"), ("operation", "read"), ("status", "4xx")];
    assert_eq!(value(&samples, "coffer_requests_total", &ok), READS as f64, "{text}");
    assert_eq!(value(&samples, "coffer_requests_total", &not_found), 1.0, "{text}");
    let writes = [("mount", "secret/"), ("operation", "update"), ("status", "2xx")];
    assert_eq!(
        value(&samples, "coffer_requests_total", &writes),
        WRITES as f64,
        "{text}"
    );
    assert!(
        !find(&samples, "coffer_requests_total", &[("mount", "")]).is_empty(),
        "a request no mount serves counts under mount=\"\": {text}"
    );

    // The histogram agrees with the counters: count = every read, +Inf = count, buckets
    // never decrease, and the sum is positive and below count × 10 s.
    let count = value(&samples, "coffer_request_duration_seconds_count", &read);
    assert_eq!(count, (READS + 1) as f64);
    let mut buckets: Vec<(f64, f64)> = find(&samples, "coffer_request_duration_seconds_bucket", &read)
        .iter()
        .map(|s| (s.labels["le"].parse::<f64>().unwrap(), s.value))
        .collect();
    assert!(buckets.len() >= 2, "{text}");
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, count), "{buckets:?}");
    assert!(
        buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "not cumulative: {buckets:?}"
    );
    let sum = value(&samples, "coffer_request_duration_seconds_sum", &read);
    assert!(sum > 0.0 && sum < count * 10.0, "sum {sum}");

    assert_eq!(value(&samples, "coffer_core_unsealed", &[]), 1.0);
    assert!(value(&samples, "coffer_expire_num_leases", &[]) >= 0.0);
    assert_eq!(
        value(&samples, "coffer_build_info", &[]),
        1.0,
        "build info carries a version label: {text}"
    );
    assert!(
        find(&samples, "coffer_build_info", &[])[0]
            .labels
            .contains_key("version")
    );
    assert!(value(&samples, "coffer_process_uptime_seconds", &[]) > 0.0);
    assert!(value(&samples, "coffer_core_mount_table_num_entries", &[("type", "logical")]) >= 3.0);

    // The scrape itself is counted afterwards, under sys/.
    let (_, _, text) = scrape(&s, &s.root()).await;
    let samples = parse_prometheus(&text).unwrap();
    let scrapes = [("mount", "sys/"), ("operation", "read"), ("status", "2xx")];
    assert!(value(&samples, "coffer_requests_total", &scrapes) >= 1.0, "{text}");
    assert_eq!(
        value(&samples, "coffer_requests_total", &ok),
        READS as f64,
        "scraping reads no secret"
    );
}

#[tokio::test]
async fn metrics_json_format_and_access() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s
        .root_req("POST", "secret/data/j", Some(json!({"data": {"v": 1}})))
        .await;
    assert_eq!(status, 200, "{body}");
    s.root_req("GET", "secret/data/j", None).await;

    // Without format (and with format=json): go-metrics' JSON summary, outside the envelope.
    for path in ["sys/metrics", "sys/metrics?format=json"] {
        let (status, body) = s.root_req("GET", path, None).await;
        assert_eq!(status, 200, "{body}");
        for key in ["Timestamp", "Gauges", "Counters", "Samples"] {
            assert!(body.get(key).is_some(), "{key} missing: {body}");
        }
        let gauge = |name: &str| -> Value {
            body["Gauges"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["Name"] == name)
                .cloned()
                .unwrap_or_else(|| panic!("{name} missing: {body}"))
        };
        assert_eq!(gauge("coffer.core.unsealed")["Value"], json!(1.0));
        let reads = body["Counters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["Name"] == "coffer.requests"
                    && c["Labels"]["mount"] == "secret/"
                    && c["Labels"]["operation"] == "read"
                    && c["Labels"]["status"] == "2xx"
            })
            .unwrap_or_else(|| panic!("no secret/ read counter: {body}"));
        assert_eq!(reads["Count"], json!(1));
        let sample = body["Samples"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["Name"] == "coffer.request.duration" && c["Labels"]["mount"] == "secret/")
            .unwrap_or_else(|| panic!("no latency sample: {body}"));
        assert!(sample["Count"].as_u64().unwrap() >= 1);
        assert!(sample["Mean"].as_f64().unwrap() > 0.0);
    }

    let (status, body) = s.root_req("GET", "sys/metrics?format=xml", None).await;
    assert_eq!(status, 400, "{body}");

    // A token whose policies do not grant read on sys/metrics is refused, in both formats.
    let (status, body) = s
        .root_req(
            "PUT",
            "sys/policies/acl/kv-only",
            Some(json!({"policy": "path \"secret/*\" { capabilities = [\"read\"] }"})),
        )
        .await;
    assert!(status == 200 || status == 204, "{body}");
    let (status, body) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["kv-only"]})))
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, _, text) = scrape(&s, &token).await;
    assert_eq!(status, 403, "{text}");
    let (status, body) = s.request("GET", "sys/metrics", Some(&token), None).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = s.request("GET", "sys/metrics", None, None).await;
    assert_eq!(status, 403, "no token: {body}");

    // With read on sys/metrics it works.
    let (status, body) = s
        .root_req(
            "PUT",
            "sys/policies/acl/metrics",
            Some(json!({"policy": "path \"sys/metrics\" { capabilities = [\"read\"] }"})),
        )
        .await;
    assert!(status == 200 || status == 204, "{body}");
    let (_, body) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["metrics"]})))
        .await;
    let token = body["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, _, text) = scrape(&s, &token).await;
    assert_eq!(status, 200, "{text}");
    parse_prometheus(&text).unwrap();
}
