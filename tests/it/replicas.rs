//! Two servers on one PostgreSQL database: a write through one is answered by the other within a
//! second (PostgreSQL `NOTIFY`, heard by `store::ChangeListener`), and upload jobs are rows both see;
//! replicas starting together migrate a fresh database once; a replica whose database is gone says
//! it is not ready.
//!
//! The apps here run no 5 s poll, so only the notification can bring the second one up to date.

use crate::support::{app_with, field, file, hs256_config, job_id, postgres, sample_code_system, token, TestApp};
use actix_web::http::StatusCode;
use std::time::{Duration, Instant};

/// The longest a replica may take to answer with another replica's write.
const REPLICA_LAG: Duration = Duration::from_secs(1);

const LOOKUP_PNEUMONIA: &str = "/fhir/CodeSystem/$lookup?system=http://example.org/cs/sample&code=pneumonia";

fn writer() -> String {
    format!("Bearer {}", token("replica-writer", "system/CodeSystem.write system/ValueSet.write"))
}

/// How long until `uri` on `app` answers `wanted`, or `None` after [`REPLICA_LAG`] and a margin.
async fn time_until_status(app: &TestApp, uri: &str, wanted: StatusCode) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < REPLICA_LAG * 3 {
        if app.get(uri).await.status == wanted {
            return Some(started.elapsed());
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[actix_web::test]
async fn a_write_through_one_replica_is_answered_by_the_other_within_a_second() {
    let Some(backend) = postgres() else { return };
    let first = app_with(&backend, hs256_config()).await;
    let second = app_with(&backend, hs256_config()).await;
    let _listener = store::ChangeListener::start(&second.terminology).expect("a listener on PostgreSQL");
    assert_eq!(second.get(LOOKUP_PNEUMONIA).await.status, StatusCode::NOT_FOUND);

    let created = first
        .send(
            "PUT",
            "/fhir/CodeSystem/sample",
            &[("content-type", "application/fhir+json"), ("authorization", &writer())],
            Some(&sample_code_system().to_string()),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let lag = time_until_status(&second, LOOKUP_PNEUMONIA, StatusCode::OK).await.expect("the second replica never saw the write");
    assert!(lag < REPLICA_LAG, "the second replica answered the write after {lag:?}");

    let deleted = first.send("DELETE", "/fhir/CodeSystem/sample", &[("authorization", &writer())], None).await;
    assert!(deleted.status.is_success(), "{}", deleted.body);
    let lag = time_until_status(&second, LOOKUP_PNEUMONIA, StatusCode::NOT_FOUND).await.expect("the second replica never saw the delete");
    assert!(lag < REPLICA_LAG, "the second replica answered the delete after {lag:?}");
}

#[actix_web::test]
async fn an_upload_job_accepted_by_one_replica_is_visible_from_the_other() {
    let Some(backend) = postgres() else { return };
    let first = app_with(&backend, hs256_config()).await;
    let second = app_with(&backend, hs256_config()).await;
    let _listener = store::ChangeListener::start(&second.terminology).expect("a listener on PostgreSQL");

    let release = sample_code_system().to_string().into_bytes();
    let upload_token = token("replica-writer", "system/CodeSystem.write");
    let accepted = first.upload(Some(&upload_token), &[field("format", "fhir"), file("sample.json", release)]).await;
    let id = job_id(&accepted);
    let shown = second.send("GET", &format!("/admin/jobs/{id}"), &[("authorization", &writer())], None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.json()["id"], id.as_str(), "{}", shown.body);

    let job = first.wait_for_job(&id).await;
    assert_eq!(job.state, "succeeded", "{:?}", job.error);
    let finished = second.send("GET", &format!("/admin/jobs/{id}"), &[("authorization", &writer())], None).await;
    assert_eq!(finished.json()["state"], "succeeded", "{}", finished.body);
    let lag = time_until_status(&second, LOOKUP_PNEUMONIA, StatusCode::OK).await.expect("the second replica never saw the release");
    assert!(lag < REPLICA_LAG, "the second replica answered the release after {lag:?}");
}

#[actix_web::test]
async fn ready_is_503_with_an_operation_outcome_when_the_database_is_gone() {
    let Some(backend) = postgres() else { return };
    let app = app_with(&backend, hs256_config()).await;
    assert_eq!(app.get("/health/ready").await.status, StatusCode::OK);
    backend.drop_database();
    let answer = app.get("/health/ready").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.body);
    let (code, text) = answer.issue();
    assert_eq!(code, "transient");
    assert!(text.starts_with("not ready: "), "{text}");
    assert_eq!(app.get("/health/live").await.status, StatusCode::OK, "live does not ask the database");
}

#[actix_web::test]
async fn replicas_starting_together_on_a_fresh_database_migrate_it_once() {
    let Some(backend) = postgres() else { return };
    let openings: Vec<_> = (0..4)
        .map(|_| {
            let url = backend.url.clone();
            std::thread::spawn(move || store::Terminology::open(&url).map(|_| ()).map_err(|error| error.to_string()))
        })
        .collect();
    for opening in openings {
        opening.join().expect("an opening thread").unwrap_or_else(|error| panic!("a replica could not start: {error}"));
    }
}
