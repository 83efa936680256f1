//! The one entry point every test goes through: build the app on a backend, send a request.

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::{test, web};
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::Value;
use server::{AppState, ServerConfig};
use std::sync::Arc;
use store::Terminology;

/// A database for one test, dropped when the test ends.
pub struct Backend {
    pub url: String,
    cleanup: Option<(String, String)>,
}

impl Backend {
    /// Drops a PostgreSQL scratch database now, closing every connection to it (a database that
    /// goes away under a running server).
    pub fn drop_database(&self) {
        if let Some((admin_url, name)) = &self.cleanup {
            let mut connection = PgConnection::establish(admin_url).expect("connect to TEST_DATABASE_URL");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut connection)
                .expect("drop the scratch database");
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.cleanup {
            if let Ok(mut connection) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut connection);
            }
        }
        if let Some(path) = self.url.strip_prefix("sqlite://") {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
    }
}

pub fn sqlite() -> Backend {
    let path = std::env::temp_dir().join(format!("fhirterm-test-{}.db", uuid::Uuid::new_v4().simple()));
    Backend { url: format!("sqlite://{}", path.display()), cleanup: None }
}

/// A fresh PostgreSQL database, or `None` (with a note) when `TEST_DATABASE_URL` is unset.
pub fn postgres() -> Option<Backend> {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("note: TEST_DATABASE_URL is not set; this PostgreSQL test checks nothing");
        return None;
    };
    let name = format!("fhirterm_test_{}", uuid::Uuid::new_v4().simple());
    let mut connection = PgConnection::establish(&admin_url)
        .unwrap_or_else(|error| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {error}"));
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut connection).expect("create a scratch database");
    let base = admin_url.rsplit_once('/').map(|(base, _)| base.to_owned()).unwrap_or(admin_url.clone());
    Some(Backend { url: format!("{base}/{name}"), cleanup: Some((admin_url, name)) })
}

/// Generates `sqlite` and `postgres` variants of a test body that takes a `&Backend`.
macro_rules! backend_tests {
    ($($name:ident => $body:expr;)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(#[actix_web::test] async fn $name() { let backend = crate::support::sqlite(); ($body)(&backend).await; })*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(#[actix_web::test] async fn $name() {
                let Some(backend) = crate::support::postgres() else { return };
                ($body)(&backend).await;
            })*
        }
    };
}
pub(crate) use backend_tests;

pub struct TestApp {
    pub terminology: Arc<Terminology>,
    service: actix_service::boxed::BoxService<actix_http::Request, ServiceResponse, actix_web::Error>,
}

pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub location: Option<String>,
    pub www_authenticate: Option<String>,
    pub etag: Option<String>,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: String,
}

impl Answer {
    /// A response header as text, when present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// The text of the first issue of an OperationOutcome body, and its code.
    pub fn issue(&self) -> (String, String) {
        let outcome = self.json();
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{}", self.body);
        let issue = &outcome["issue"][0];
        (issue["code"].as_str().unwrap_or_default().to_owned(), issue["details"]["text"].as_str().unwrap_or_default().to_owned())
    }
}

pub async fn app_with(backend: &Backend, config: ServerConfig) -> TestApp {
    app_on(open(backend), config).await
}

fn open(backend: &Backend) -> Terminology {
    Terminology::open(&backend.url).unwrap_or_else(|error| panic!("open {}: {error}", backend.url))
}

async fn app_on(terminology: Terminology, config: ServerConfig) -> TestApp {
    let terminology = Arc::new(terminology);
    let state = web::Data::new(AppState::new(terminology.clone(), config));
    let service = test::init_service(server::app(state)).await;
    let service = actix_service::ServiceExt::map(service, |response| response.map_into_boxed_body());
    TestApp { terminology, service: actix_service::boxed::service(service) }
}

/// The app as `fhirterm serve` runs it by default: anonymous writes, with the FHIR R4 core
/// terminology compiled into the binary underneath the stored content.
pub async fn app_with_fhir_core(backend: &Backend) -> TestApp {
    let terminology = server::with_fhir_core(open(backend)).expect("built-in FHIR R4 core terminology");
    app_on(terminology, anonymous_writes()).await
}

/// The app as `fhirterm serve` runs it on `backend` with its index files in `index_dir`: a start
/// reads each code system's saved index when it is current, and every index is saved there.
pub async fn app_saving_indexes(backend: &Backend, index_dir: &std::path::Path) -> TestApp {
    let terminology = Terminology::open_with_index_dir(&backend.url, Some(index_dir))
        .unwrap_or_else(|error| panic!("open {} with index files in {}: {error}", backend.url, index_dir.display()));
    app_on(terminology, anonymous_writes()).await
}

fn anonymous_writes() -> ServerConfig {
    ServerConfig { auth: server::AuthConfig::anonymous_writes(), ..ServerConfig::default() }
}

/// The app as a developer runs it: writes without a token (`--allow-anonymous-writes`), reads
/// open. Tests of access control build theirs with [`app_with`].
pub async fn app(backend: &Backend) -> TestApp {
    app_with(backend, anonymous_writes()).await
}

impl TestApp {
    pub async fn send(&self, method: &str, uri: &str, headers: &[(&str, &str)], body: Option<&str>) -> Answer {
        self.send_bytes(method, uri, headers, body.map(|body| body.as_bytes().to_vec())).await
    }

    pub async fn send_bytes(&self, method: &str, uri: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Answer {
        let mut request = test::TestRequest::default().method(method.parse().expect("method")).uri(uri);
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        if let Some(body) = body {
            request = request.set_payload(body);
        }
        let response = test::call_service(&self.service, request.to_request()).await;
        let status = response.status();
        let header = |name: &str| response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
        let content_type = header("content-type").unwrap_or_default();
        let location = header("location");
        let www_authenticate = header("www-authenticate");
        let etag = header("etag");
        let headers = response.headers().clone();
        let body = String::from_utf8(test::read_body(response).await.to_vec()).expect("UTF-8 body");
        Answer { status, content_type, location, www_authenticate, etag, headers, body }
    }

    pub async fn get(&self, uri: &str) -> Answer {
        self.send("GET", uri, &[], None).await
    }

    pub async fn put_json(&self, uri: &str, resource: &Value) -> Answer {
        self.send("PUT", uri, &[("content-type", "application/fhir+json")], Some(&resource.to_string())).await
    }

    pub async fn post_json(&self, uri: &str, resource: &Value) -> Answer {
        self.send("POST", uri, &[("content-type", "application/fhir+json")], Some(&resource.to_string())).await
    }
}

/// A small code system with a multi-parent hierarchy, used by many tests.
pub fn sample_code_system() -> Value {
    serde_json::json!({
        "resourceType": "CodeSystem", "id": "sample", "url": "http://example.org/cs/sample", "version": "1.0.0",
        "name": "Sample", "title": "Sample code system", "status": "active", "content": "complete", "caseSensitive": true,
        "hierarchyMeaning": "is-a",
        "property": [{"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"},
                     {"code": "status", "uri": "http://hl7.org/fhir/concept-properties#status", "type": "code"},
                     {"code": "colour", "type": "string"}],
        "concept": [
            {"code": "disorder", "display": "Disorder", "concept": [
                {"code": "infection", "display": "Infectious disease", "concept": [
                    {"code": "pneumonia", "display": "Pneumonia", "definition": "Lung infection",
                     "designation": [{"language": "de", "value": "Lungenentzündung"}],
                     "property": [{"code": "parent", "valueCode": "lung"}]}]},
                {"code": "lung", "display": "Lung disease"}]},
            {"code": "old", "display": "Old code", "property": [{"code": "status", "valueCode": "retired"}]},
            {"code": "red", "display": "Café red", "property": [{"code": "colour", "valueString": "red"}]}
        ]
    })
}

/// The HS256 secret the access-control tests configure.
pub const TEST_SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

/// Seconds since the epoch, for `exp` and `nbf`.
/// Text percent-encoded for a query string: every byte but the unreserved characters.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

pub fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An HS256 token signed with [`TEST_SECRET`] for `sub`, with the scopes, valid for an hour.
pub fn token(sub: &str, scopes: &str) -> String {
    let claims = serde_json::json!({"sub": sub, "scope": scopes, "exp": now_seconds() + 3600, "iat": now_seconds()});
    sign(jsonwebtoken::Algorithm::HS256, &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes()), None, &claims)
}

pub fn sign(algorithm: jsonwebtoken::Algorithm, key: &jsonwebtoken::EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("sign a test token")
}

/// A server that checks HS256 tokens signed with [`TEST_SECRET`].
pub fn hs256_config() -> ServerConfig {
    let mut auth = server::AuthConfig::default();
    auth.add_hs256_secret(TEST_SECRET.as_bytes());
    ServerConfig { auth, ..ServerConfig::default() }
}

/// One part of a multipart body: field name, file name for a file part, and content.
pub struct Part<'a> {
    pub name: &'a str,
    pub file_name: Option<&'a str>,
    pub content: Vec<u8>,
}

pub fn field<'a>(name: &'a str, value: &str) -> Part<'a> {
    Part { name, file_name: None, content: value.as_bytes().to_vec() }
}

pub fn file<'a>(file_name: &'a str, content: Vec<u8>) -> Part<'a> {
    Part { name: "file", file_name: Some(file_name), content }
}

pub const BOUNDARY: &str = "fhirterm-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body, built by hand.
pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part.file_name {
            Some(file_name) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                    part.name
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", part.name).as_bytes()),
        }
        body.extend_from_slice(&part.content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl TestApp {
    /// `POST /admin/upload` with the parts, and a bearer token when given.
    pub async fn upload(&self, bearer: Option<&str>, parts: &[Part<'_>]) -> Answer {
        let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let mut headers = vec![("content-type", content_type.as_str())];
        if let Some(authorization) = &authorization {
            headers.push(("authorization", authorization.as_str()));
        }
        self.send_bytes("POST", "/admin/upload", &headers, Some(multipart(parts))).await
    }

    /// Waits until the job has ended and returns its row (at most 10 minutes).
    pub async fn wait_for_job(&self, id: &str) -> store::JobRecord {
        let started = std::time::Instant::now();
        loop {
            let job = self.terminology.job(id).expect("read the job").unwrap_or_else(|| panic!("job {id} is not stored"));
            if job.state == "succeeded" || job.state == "failed" {
                return job;
            }
            assert!(started.elapsed().as_secs() < 600, "job {id} still {} after 10 minutes", job.state);
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// The job id at the end of a `Location: /admin/jobs/{id}`.
pub fn job_id(answer: &Answer) -> String {
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let location = answer.location.as_deref().expect("a Location header");
    assert!(location.starts_with("/admin/jobs/"), "{location}");
    location.rsplit('/').next().unwrap_or_default().to_owned()
}

/// The folder `fetch-real-data.sh` filled, or `None` with a one-line note.
pub fn real_data() -> Option<std::path::PathBuf> {
    match std::env::var("FHIRTERM_REAL_DATA") {
        Ok(dir) => Some(std::path::PathBuf::from(dir)),
        Err(_) => {
            eprintln!("skipping: FHIRTERM_REAL_DATA is not set");
            None
        }
    }
}
