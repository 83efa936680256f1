//! The one entry point every test goes through: build the app on a backend, send a request.

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::{test, web, App};
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
    pub body: String,
}

impl Answer {
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
    let terminology = Arc::new(Terminology::open(&backend.url).unwrap_or_else(|error| panic!("open {}: {error}", backend.url)));
    let state = web::Data::new(AppState { terminology: terminology.clone(), config });
    let service = test::init_service(App::new().configure(server::configure(state))).await;
    TestApp { terminology, service: actix_service::boxed::service(service) }
}

pub async fn app(backend: &Backend) -> TestApp {
    app_with(backend, ServerConfig::default()).await
}

impl TestApp {
    pub async fn send(&self, method: &str, uri: &str, headers: &[(&str, &str)], body: Option<&str>) -> Answer {
        let mut request = test::TestRequest::default().method(method.parse().expect("method")).uri(uri);
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        if let Some(body) = body {
            request = request.set_payload(body.to_owned());
        }
        let response = test::call_service(&self.service, request.to_request()).await;
        let status = response.status();
        let header = |name: &str| response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
        let content_type = header("content-type").unwrap_or_default();
        let location = header("location");
        let body = String::from_utf8(test::read_body(response).await.to_vec()).expect("UTF-8 body");
        Answer { status, content_type, location, body }
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
