//! Running fhirterm in production: CORS, the logs the real binary writes, and how it fails when its
//! database cannot be reached. The log and database tests run the shipped `main` as a process.

use crate::support::{app, app_with, sample_code_system, sqlite};
use actix_web::http::StatusCode;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_fhirterm-under-test");

fn cors_config(origins: &[&str]) -> server::ServerConfig {
    server::ServerConfig {
        auth: server::AuthConfig::anonymous_writes(),
        cors_origins: origins.iter().map(|origin| origin.to_string()).collect(),
        ..server::ServerConfig::default()
    }
}

#[actix_web::test]
async fn cors_answers_configured_origins_only() {
    let backend = sqlite();
    let app = app_with(&backend, cors_config(&["https://app.example.org"])).await;
    app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await;

    let preflight = app
        .send(
            "OPTIONS",
            "/fhir/CodeSystem/sample",
            &[
                ("origin", "https://app.example.org"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "if-match, content-type"),
            ],
            None,
        )
        .await;
    assert_eq!(preflight.status, StatusCode::OK, "{}", preflight.body);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("https://app.example.org"));
    assert!(preflight.header("access-control-allow-methods").unwrap_or_default().contains("PUT"), "{:?}", preflight.headers);
    assert!(preflight.header("access-control-allow-headers").unwrap_or_default().contains("if-match"), "{:?}", preflight.headers);

    let read = app.send("GET", "/fhir/CodeSystem/sample", &[("origin", "https://app.example.org")], None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("access-control-allow-origin"), Some("https://app.example.org"));
    assert!(read.header("access-control-expose-headers").unwrap_or_default().contains("etag"), "{:?}", read.headers);

    let stranger = app.send("GET", "/fhir/CodeSystem/sample", &[("origin", "https://evil.example.com")], None).await;
    assert_eq!(stranger.header("access-control-allow-origin"), None, "{:?}", stranger.headers);
}

#[actix_web::test]
async fn without_origins_there_are_no_cors_headers() {
    let backend = sqlite();
    let app = app(&backend).await;
    let read = app.send("GET", "/fhir/metadata", &[("origin", "https://app.example.org")], None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.headers.keys().all(|name| !name.as_str().starts_with("access-control-")), "{:?}", read.headers);
}

#[actix_web::test]
async fn any_origin_is_a_wildcard() {
    let backend = sqlite();
    let app = app_with(&backend, cors_config(&["*"])).await;
    let read = app.send("GET", "/fhir/metadata", &[("origin", "https://anywhere.example.net")], None).await;
    assert_eq!(read.header("access-control-allow-origin"), Some("*"), "{:?}", read.headers);
}

/// A `fhirterm serve` process with its stderr in a file; killed when dropped.
struct ServerProcess {
    child: Child,
    port: u16,
    folder: PathBuf,
}

impl ServerProcess {
    fn start(global_args: &[&str]) -> ServerProcess {
        let folder = std::env::temp_dir().join(format!("fhirterm-process-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&folder).expect("a scratch folder");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("address").port();
        let stderr = std::fs::File::create(folder.join("stderr.log")).expect("a log file");
        let database = format!("sqlite://{}", folder.join("fhirterm.db").display());
        let child = Command::new(BINARY)
            .args(global_args)
            .args(["serve", "--no-builtin", "--workers", "1", "--listen", &format!("127.0.0.1:{port}"), "--database", &database])
            .env_remove("FHIRTERM_LOG")
            .env_remove("FHIRTERM_LOG_JSON")
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {BINARY}: {error}"));
        let mut process = ServerProcess { child, port, folder };
        let started = Instant::now();
        while http_get(process.port, "/health/ready").map(|(status, _)| status) != Some(200) {
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("the server exited with {status}: {}", process.log());
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the server was not ready within 60 s: {}", process.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        process
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.folder.join("stderr.log")).unwrap_or_default()
    }

    /// Stops the server and returns everything it logged.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// A bare HTTP/1.1 GET: status and body, or `None` when nothing answers.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()))
}

fn assert_no_escape_codes(log: &str) {
    assert!(!log.contains('\u{1b}'), "the log holds ANSI escape codes although stderr is a file:\n{log}");
}

#[test]
fn json_logs_in_a_file_are_plain_json_lines_with_numbers() {
    let server = ServerProcess::start(&["--log-json"]);
    assert_eq!(http_get(server.port, "/fhir/metadata").map(|(status, _)| status), Some(200));
    let log = server.stop();
    assert_no_escape_codes(&log);
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}")))
        .collect();
    let request = lines
        .iter()
        .find(|line| line["target"] == "fhirterm::request" && line["path"] == "/fhir/metadata")
        .unwrap_or_else(|| panic!("no request line for /fhir/metadata in:\n{log}"));
    assert!(request["latency_ms"].is_number(), "latency_ms is not a JSON number: {request}");
    assert!(request["latency_ms"].as_f64().is_some_and(|latency| latency >= 0.0), "{request}");
    assert_eq!(request["status"], 200, "{request}");
    assert!(request["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{request}");
}

#[test]
fn text_logs_in_a_file_have_no_colours() {
    let server = ServerProcess::start(&[]);
    assert_eq!(http_get(server.port, "/health/live").map(|(status, _)| status), Some(200));
    let log = server.stop();
    assert_no_escape_codes(&log);
    assert!(log.lines().any(|line| line.contains("fhirterm::request") && line.contains("latency_ms=")), "{log}");
}

/// Runs the binary to its end, at most `limit`; its exit success, stderr and how long it took.
fn run_to_end(args: &[&str], limit: Duration) -> (bool, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(BINARY).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start the binary");
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
            return (status.success(), stderr, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`fhirterm {}` still ran after {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_unreachable_database_fails_within_five_seconds_naming_it_without_the_password() {
    for url in ["postgres://nobody@127.0.0.1:1/x", "postgres://nobody:hunter2@127.0.0.1:1/x"] {
        let (succeeded, stderr, took) = run_to_end(&["migrate", "--database", url], Duration::from_secs(30));
        assert!(!succeeded, "{url}: {stderr}");
        assert!(took < Duration::from_secs(5), "{url}: failing took {took:?}");
        assert!(stderr.contains(&store::db::redact(url)), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    }
    let (succeeded, stderr, _) =
        run_to_end(&["serve", "--listen", "127.0.0.1:0", "--database", "postgres://nobody:hunter2@127.0.0.1:1/x"], Duration::from_secs(30));
    assert!(!succeeded && stderr.contains("postgres://nobody:***@127.0.0.1:1/x") && !stderr.contains("hunter2"), "{stderr}");
}

/// One sample of the Prometheus text format: metric name, label text and value.
struct Sample {
    name: String,
    labels: String,
    value: f64,
}

/// Parses the Prometheus text exposition format strictly enough to catch a broken exporter:
/// every sample belongs to a family announced by `# TYPE`, names and labels are well formed and
/// every value is a number.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let is_name = |name: &str| {
        !name.is_empty()
            && name.chars().enumerate().all(|(idx, c)| c.is_ascii_alphabetic() || c == '_' || c == ':' || (idx > 0 && c.is_ascii_digit()))
    };
    let mut families: Vec<String> = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (family, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("bad TYPE line: {line}"));
            assert!(is_name(family), "bad family name: {line}");
            assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "bad type: {line}");
            families.push(family.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value is not a number: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"))),
            None => (series, ""),
        };
        assert!(is_name(name), "bad metric name: {line}");
        for label in labels.split("\",").filter(|label| !label.is_empty()) {
            let (key, quoted) = label.split_once('=').unwrap_or_else(|| panic!("bad label: {line}"));
            assert!(is_name(key) && quoted.starts_with('"'), "bad label: {line}");
        }
        let family = ["_bucket", "_sum", "_count", "_total"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix).filter(|family| families.iter().any(|known| known == family)))
            .unwrap_or(name);
        assert!(families.iter().any(|known| known == family || known == name), "sample without a TYPE line: {line}");
        samples.push(Sample { name: name.to_owned(), labels: labels.to_owned(), value });
    }
    samples
}

/// The sum of the samples of `name` whose labels hold every one of `labels`.
fn sample_sum(samples: &[Sample], name: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.name == name && labels.iter().all(|label| sample.labels.contains(label)))
        .map(|sample| sample.value)
        .sum()
}

async fn scrape(app: &crate::support::TestApp) -> Vec<Sample> {
    let answer = app.get("/metrics").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.content_type.starts_with("text/plain"), "{}", answer.content_type);
    parse_prometheus(&answer.body)
}

#[actix_web::test]
async fn metrics_parse_as_prometheus_text_and_move_with_requests() {
    let backend = sqlite();
    let app = app(&backend).await;
    app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await;
    // A property filter: a whole code system or an is-a branch is paged from the index, not cached.
    let value_set = serde_json::json!({"resourceType": "ValueSet", "url": "http://example.org/vs/all", "status": "active",
        "compose": {"include": [{"system": "http://example.org/cs/sample",
            "filter": [{"property": "status", "op": "exists", "value": "false"}]}]}});
    app.put_json("/fhir/ValueSet/all", &value_set).await;
    let before = scrape(&app).await;
    let reads_before = sample_sum(&before, "fhirterm_http_requests_total", &["operation=\"read\"", "status=\"200\""]);
    let hits_before = sample_sum(&before, "fhirterm_expansion_cache_hits_total", &[]);
    for _ in 0..3 {
        assert_eq!(app.get("/fhir/CodeSystem/sample").await.status, StatusCode::OK);
    }
    for _ in 0..2 {
        let expansion = app.get("/fhir/ValueSet/$expand?url=http://example.org/vs/all").await;
        assert_eq!(expansion.status, StatusCode::OK, "{}", expansion.body);
    }
    assert_eq!(app.get("/fhir/CodeSystem/nothing").await.status, StatusCode::NOT_FOUND);

    let after = scrape(&app).await;
    let reads_after = sample_sum(&after, "fhirterm_http_requests_total", &["operation=\"read\"", "status=\"200\""]);
    assert!(reads_after >= reads_before + 3.0, "read counter moved from {reads_before} to {reads_after}");
    assert!(sample_sum(&after, "fhirterm_http_requests_total", &["operation=\"read\"", "status=\"404\""]) >= 1.0);
    assert!(sample_sum(&after, "fhirterm_http_requests_total", &["operation=\"$expand\"", "status=\"200\""]) >= 2.0);
    assert!(
        sample_sum(&after, "fhirterm_http_request_duration_seconds_count", &["operation=\"read\"", "status=\"200\""]) >= 3.0,
        "no latency histogram for reads"
    );
    assert!(after
        .iter()
        .any(|sample| sample.name == "fhirterm_http_request_duration_seconds_bucket" && sample.labels.contains("le=\"0.005\"")));
    assert!(sample_sum(&after, "fhirterm_expansion_cache_hits_total", &[]) > hits_before, "the second $expand was not a cache hit");
    assert!(sample_sum(&after, "fhirterm_code_systems", &[]) >= 1.0);
    assert!(sample_sum(&after, "fhirterm_concepts", &[]) >= 6.0);
    assert_eq!(sample_sum(&after, "fhirterm_build_info", &["version=\""]), 1.0);
    assert!(after.iter().any(|sample| sample.name == "fhirterm_upload_jobs" && sample.labels == "state=\"succeeded\""));
}

#[actix_web::test]
async fn a_metrics_token_guards_the_endpoint() {
    let backend = sqlite();
    let config = server::ServerConfig { metrics_token: Some("metrics-secret".to_owned()), ..server::ServerConfig::default() };
    let app = app_with(&backend, config).await;
    assert_eq!(app.get("/metrics").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.send("GET", "/metrics", &[("authorization", "Bearer wrong")], None).await.status, StatusCode::UNAUTHORIZED);
    let answer = app.send("GET", "/metrics", &[("authorization", "Bearer metrics-secret")], None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(!parse_prometheus(&answer.body).is_empty());
}

/// `fhirterm load` off a terminal (stderr is a pipe here): plain lines for each phase, with the
/// bytes the loader read, and no terminal control codes.
#[test]
fn load_progress_off_a_terminal_is_plain_lines_with_the_bytes_read() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/loaders/test_data/hcpcs/HCPC2019_CONTR_ANWEB.txt");
    let database = std::env::temp_dir().join(format!("fhirterm-progress-{}.db", std::process::id()));
    let url = format!("sqlite://{}", database.display());
    let (succeeded, stderr, _) = run_to_end(&["load", "hcpcs", fixture, "--database", &url], Duration::from_secs(120));
    let _ = std::fs::remove_file(&database);
    assert!(succeeded, "{stderr}");
    assert_no_escape_codes(&stderr);
    assert!(!stderr.contains('\r'), "{stderr}");
    let reading = stderr.lines().find(|line| line.contains("reading") && line.contains("done in")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(reading.contains("MB read") && reading.contains("5 concepts"), "{reading}");
    assert!(stderr.lines().any(|line| line.contains("storing into") && line.contains("committed")), "{stderr}");
}

/// With a token key configured, the CapabilityStatement says how to authenticate (SMART on FHIR);
/// without one it claims no security service.
#[actix_web::test]
async fn the_capability_statement_names_smart_only_when_tokens_are_checked() {
    let backend = crate::support::sqlite();
    let secured = crate::support::app_with(&backend, crate::support::hs256_config()).await;
    let statement = secured.get("/fhir/metadata").await.json();
    let security = &statement["rest"][0]["security"];
    assert_eq!(security["service"][0]["coding"][0]["code"], "SMART-on-FHIR", "{statement}");
    assert!(security["description"].as_str().is_some_and(|text| text.contains("scope")), "{security}");
    let open = crate::support::app(&backend).await.get("/fhir/metadata").await.json();
    assert!(open["rest"][0].get("security").is_none(), "{open}");
}

/// A stop signal lets the requests in flight finish (actix's graceful stop, bounded by
/// `shutdown_timeout`), then the server exits on its own.
#[test]
fn a_stop_signal_lets_requests_in_flight_finish() {
    let mut server = ServerProcess::start(&[]);
    // An inline code system of 60,000 concepts: reading and expanding it takes a while.
    let concepts: Vec<String> = (0..60_000).map(|idx| format!("{{\"code\":\"c{idx}\",\"display\":\"Concept {idx}\"}}")).collect();
    let body = format!(
        "{{\"resourceType\":\"Parameters\",\"parameter\":[{{\"name\":\"url\",\"valueUri\":\"http://example.org/cs/big?fhir_vs\"}},{{\"name\":\"count\",\"valueInteger\":5}},{{\"name\":\"tx-resource\",\"resource\":{{\"resourceType\":\"CodeSystem\",\"url\":\"http://example.org/cs/big\",\"status\":\"active\",\"content\":\"complete\",\"concept\":[{}]}}}}]}}",
        concepts.join(",")
    );
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("a read timeout");
    write!(
        stream,
        "POST /fhir/ValueSet/$expand HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    std::thread::sleep(Duration::from_millis(100));
    let signalled = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().expect("run kill");
    assert!(signalled.success());
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read the answer");
    assert!(response.starts_with("HTTP/1.1 200"), "the request in flight was cut: {}", &response[..response.len().min(300)]);
    assert!(response.contains("\"total\":60000"), "{}", &response[..response.len().min(300)]);
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            assert!(status.success(), "the server exited with {status}: {}", server.log());
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the server did not stop after the signal: {}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}
