//! Bulk upload through `POST /admin/upload`: jobs, progress, counts, diffs, atomicity, reads
//! during an upload, hostile input, dry runs, the billing CSV endpoint, and job persistence.

use crate::support::{app_with, backend_tests, field, file, hs256_config, job_id, real_data, sqlite, token, Backend, Part, TestApp};
use actix_web::http::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

const SYNTHETIC_URL: &str = "http://example.org/cs/synthetic";

fn writer() -> String {
    token("uploader", "system/CodeSystem.write system/ValueSet.write")
}

/// A zip of the given entries, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in entries {
        writer.start_file(*name, options).expect("start an entry");
        writer.write_all(content).expect("write an entry");
    }
    writer.finish().expect("finish the zip").into_inner()
}

/// A CodeSystem of `n` codes `C00000…` under ten groups `G0…G9` (by code modulo ten), version
/// `version`. `change` edits the concepts (code, display, group) before they are nested.
fn synthetic(version: &str, n: usize, change: impl Fn(&mut Vec<(String, String, usize)>)) -> Vec<u8> {
    let mut concepts: Vec<(String, String, usize)> =
        (0..n).map(|idx| (format!("C{idx:05}"), format!("Concept number {idx}"), idx % 10)).collect();
    change(&mut concepts);
    let groups: Vec<Value> = (0..10)
        .map(|group| {
            let children: Vec<Value> = concepts
                .iter()
                .filter(|(_, _, concept_group)| *concept_group == group)
                .map(|(code, display, _)| json!({"code": code, "display": display}))
                .collect();
            json!({"code": format!("G{group}"), "display": format!("Group {group}"), "concept": children})
        })
        .collect();
    json!({"resourceType": "CodeSystem", "id": "synthetic", "url": SYNTHETIC_URL, "version": version, "name": "Synthetic",
        "status": "active", "content": "complete", "hierarchyMeaning": "is-a", "concept": groups})
    .to_string()
    .into_bytes()
}

async fn upload_and_wait(app: &TestApp, parts: &[Part<'_>]) -> store::JobRecord {
    let answer = app.upload(Some(&writer()), parts).await;
    let id = job_id(&answer);
    assert_eq!(answer.json()["state"], "queued", "{}", answer.body);
    app.wait_for_job(&id).await
}

fn served_versions(app: &TestApp, url: &str) -> Vec<String> {
    app.terminology.registry().code_system_versions(url).iter().map(|index| index.version().unwrap_or_default().to_owned()).collect()
}

#[track_caller]
fn assert_succeeded(job: &store::JobRecord) {
    assert_eq!(job.state, "succeeded", "job failed: {:?}", job.error);
}

#[actix_web::test]
async fn a_release_uploads_through_a_job_with_progress_counts_and_diff() {
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    let job = upload_and_wait(&app, &[field("format", "fhir"), file("synthetic-1.json", synthetic("1", 1000, |_| {}))]).await;
    assert_succeeded(&job);
    assert_eq!(job.counts.as_ref().expect("counts")["concepts"], 1010);
    assert_eq!(job.rows_done, 1010);
    assert!(job.bytes_done > 0 && job.bytes_done == job.bytes_total, "{} of {}", job.bytes_done, job.bytes_total);
    assert_eq!(job.sub.as_deref(), Some("uploader"));
    assert_eq!(job.diff, Some(json!([])), "a new system has nothing to diff against");
    assert_eq!(served_versions(&app, SYNTHETIC_URL), ["1"]);

    // Version 2: ten codes retired, five added, three renamed, two moved to another group.
    let version_2 = synthetic("2", 1000, |concepts| {
        concepts.retain(|(code, _, _)| !("C00990".."C01000").contains(&code.as_str()));
        for idx in 0..5 {
            concepts.push((format!("N{idx}"), format!("New {idx}"), 0));
        }
        for (code, display, group) in concepts.iter_mut() {
            match code.as_str() {
                "C00001" | "C00002" | "C00003" => *display = format!("{display} (renamed)"),
                "C00004" | "C00005" => *group = 9,
                _ => {}
            }
        }
    });
    let zipped = zip_of(&[("release/synthetic-2.json", &version_2)]);
    let answer = app
        .send_bytes(
            "POST",
            "/admin/upload",
            &[
                ("content-type", &format!("multipart/form-data; boundary={}", crate::support::BOUNDARY)),
                ("authorization", &format!("Bearer {}", writer())),
            ],
            Some(crate::support::multipart(&[file("synthetic-2.zip", zipped), field("format", "auto"), field("make_current", "true")])),
        )
        .await;
    let id = job_id(&answer);
    let job = app.wait_for_job(&id).await;
    assert_succeeded(&job);
    let diff = &job.diff.as_ref().expect("a diff")[0];
    assert_eq!(diff["fromVersion"], "1");
    assert_eq!(diff["toVersion"], "2");
    assert_eq!(diff["counts"], json!({"added": 5, "retired": 10, "reactivated": 0, "displayChanged": 3, "moved": 2}), "{diff}");
    assert_eq!(diff["added"], json!(["N0", "N1", "N2", "N3", "N4"]));
    assert_eq!(diff["moved"][0], json!({"code": "C00004", "parentsBefore": ["G4"], "parentsAfter": ["G9"]}));
    assert_eq!(served_versions(&app, SYNTHETIC_URL), ["1", "2"]);

    // The job over HTTP: state, progress with percent and rates, counts, diff.
    let reader = format!("Bearer {}", writer());
    let shown = app.send("GET", &format!("/admin/jobs/{id}"), &[("authorization", &reader)], None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let shown = shown.json();
    assert_eq!(shown["state"], "succeeded");
    assert_eq!(shown["format"], "fhir", "auto was resolved");
    assert_eq!(shown["version"], "2");
    assert_eq!(shown["progress"]["percent"], 100.0);
    assert!(shown["progress"]["rowsPerSecond"].as_f64().is_some_and(|rate| rate > 0.0), "{shown}");
    assert!(shown["progress"]["bytesDone"].as_i64().is_some_and(|bytes| bytes > 0), "{shown}");
    assert_eq!(shown["counts"]["stored"]["concepts"], 1005);
    let listed = app.send("GET", "/admin/jobs", &[("authorization", &reader)], None).await.json();
    assert_eq!(listed["jobs"].as_array().map(Vec::len), Some(2));
    assert_eq!(listed["jobs"][0]["id"], id.as_str(), "most recent first");
    assert_eq!(app.get(&format!("/admin/jobs/{id}")).await.status, StatusCode::UNAUTHORIZED);
    let unknown = app.send("GET", "/admin/jobs/nope", &[("authorization", &reader)], None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let audit: Vec<(String, String)> =
        app.terminology.audit_log(10).expect("audit").into_iter().map(|entry| (entry.action, entry.outcome)).collect();
    assert!(
        audit.contains(&("upload".into(), "accepted".into())) && audit.contains(&("upload-job".into(), "succeeded".into())),
        "{audit:?}"
    );
}

#[actix_web::test]
async fn a_corrupt_upload_leaves_the_previous_version_serving() {
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    assert_succeeded(&upload_and_wait(&app, &[field("format", "fhir"), file("v1.json", synthetic("1", 200, |_| {}))]).await);
    let lookup = format!("/fhir/CodeSystem/$lookup?system={SYNTHETIC_URL}&code=C00199");

    // A truncated zip has no central directory: refused at the door, nothing queued.
    let version_2 = synthetic("2", 300, |_| {});
    let zipped = zip_of(&[("synthetic-2.json", &version_2)]);
    let truncated = zipped[..zipped.len() / 2].to_vec();
    let answer = app.upload(Some(&writer()), &[field("format", "fhir"), file("v2.zip", truncated)]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.issue().1.contains("truncated or corrupt"), "{}", answer.body);

    // A zip whose central directory is intact but whose data is damaged fails in the job.
    let mut damaged = zipped.clone();
    for byte in damaged.iter_mut().skip(60).take(200) {
        *byte ^= 0x5a;
    }
    let job = upload_and_wait(&app, &[field("format", "fhir"), file("v2.zip", damaged)]).await;
    assert_eq!(job.state, "failed");
    assert!(job.error.as_deref().unwrap_or_default().contains("v2.zip"), "{:?}", job.error);

    // A release that parses but is not valid content fails too, before anything is stored.
    let job =
        upload_and_wait(&app, &[field("format", "fhir"), file("bad.json", b"{\"resourceType\": \"CodeSystem\", \"url\": ".to_vec())]).await;
    assert_eq!(job.state, "failed", "{job:?}");

    assert_eq!(served_versions(&app, SYNTHETIC_URL), ["1"]);
    let answer = app.get(&lookup).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(app.get(&format!("/fhir/CodeSystem/$lookup?system={SYNTHETIC_URL}&code=C00299")).await.status.is_client_error());
    let staging = server::UploadConfig::default().staging_dir;
    let leftovers: Vec<_> = std::fs::read_dir(&staging).map(|entries| entries.flatten().collect()).unwrap_or_default();
    for entry in leftovers {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            app.terminology.job(&name).expect("job").is_none_or(|job| job.state == "running" || job.state == "queued"),
            "staging of ended job {name} left behind"
        );
    }
}

#[actix_web::test]
async fn reads_keep_working_during_an_upload() {
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    assert_succeeded(&upload_and_wait(&app, &[field("format", "fhir"), file("v1.json", synthetic("1", 500, |_| {}))]).await);
    let big = synthetic("2", 50_000, |_| {});
    let answer = app.upload(Some(&writer()), &[field("format", "fhir"), file("v2.json", big)]).await;
    let id = job_id(&answer);
    let (mut n_reads, mut n_during) = (0, 0);
    loop {
        let running = app.terminology.job(&id).expect("job").is_some_and(|job| job.state == "queued" || job.state == "running");
        let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system={SYNTHETIC_URL}&code=C00{:03}", n_reads % 500)).await;
        assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.body);
        let read = app.get("/fhir/CodeSystem?url=http://example.org/cs/synthetic&_summary=true").await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        n_reads += 1;
        if !running {
            break;
        }
        n_during += 1;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let job = app.wait_for_job(&id).await;
    assert_succeeded(&job);
    eprintln!("reads during the upload: {n_during} pairs answered while the job ran (50,010 concepts)");
    assert!(n_during > 0, "the job ended before any read was made");
    assert_eq!(served_versions(&app, SYNTHETIC_URL), ["1", "2"]);
    assert_eq!(app.get(&format!("/fhir/CodeSystem/$lookup?system={SYNTHETIC_URL}&code=C49999")).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn hostile_and_wrong_uploads_are_refused_with_a_reason() {
    let backend = sqlite();
    let mut config = hs256_config();
    config.upload.max_upload_bytes = 2 * 1024 * 1024;
    config.upload.max_expanded_bytes = 10 * 1024 * 1024;
    let app = app_with(&backend, config).await;
    let release = synthetic("1", 10, |_| {});
    #[track_caller]
    fn refused(answer: &crate::support::Answer, status: StatusCode, needle: &str) {
        assert_eq!(answer.status, status, "{}", answer.body);
        assert!(answer.issue().1.contains(needle), "expected {needle:?} in {}", answer.body);
    }

    refused(&app.upload(None, &[file("v1.json", release.clone())]).await, StatusCode::UNAUTHORIZED, "bearer token");
    let reader = token("reader", "system/CodeSystem.read");
    refused(&app.upload(Some(&reader), &[file("v1.json", release.clone())]).await, StatusCode::FORBIDDEN, "system/CodeSystem.write");

    let escape = zip_of(&[("../../etc/evil.json", &release)]);
    refused(
        &app.upload(Some(&writer()), &[file("evil.zip", escape)]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "points outside the archive",
    );
    let absolute = zip_of(&[("/tmp/evil.json", &release)]);
    refused(
        &app.upload(Some(&writer()), &[file("evil.zip", absolute)]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "points outside the archive",
    );
    let zeros = vec![0u8; 40 * 1024 * 1024];
    let bomb = zip_of(&[("zeros.json", &zeros)]);
    assert!(bomb.len() < 200 * 1024, "the bomb is {} bytes", bomb.len());
    refused(&app.upload(Some(&writer()), &[file("bomb.zip", bomb)]).await, StatusCode::UNPROCESSABLE_ENTITY, "compression bomb");
    let nested = zip_of(&[("inner.zip", &zip_of(&[("../evil.json", &release)]))]);
    refused(&app.upload(Some(&writer()), &[file("nested.zip", nested)]).await, StatusCode::UNPROCESSABLE_ENTITY, "inner.zip");
    let text: Vec<u8> = (0..400_000u32).flat_map(|idx| format!("{idx:08} a line of release text\n").into_bytes()).collect();
    let wide = zip_of(&[("a.txt", &text[..6_000_000]), ("b.txt", &text[..6_000_000])]);
    assert!(wide.len() < 2 * 1024 * 1024, "the wide zip is {} bytes", wide.len());
    refused(&app.upload(Some(&writer()), &[file("wide.zip", wide)]).await, StatusCode::UNPROCESSABLE_ENTITY, "expands past the limit");
    let noise: Vec<u8> = (0..3 * 1024 * 1024u32).map(|idx| (idx.wrapping_mul(2654435761) >> 13) as u8).collect();
    refused(&app.upload(Some(&writer()), &[file("noise.bin", noise)]).await, StatusCode::PAYLOAD_TOO_LARGE, "limit of 2097152 bytes");

    refused(
        &app.upload(Some(&writer()), &[field("format", "snomed-rf3"), file("v1.json", release.clone())]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown format 'snomed-rf3'",
    );
    refused(&app.upload(Some(&writer()), &[field("format", "fhir")]).await, StatusCode::BAD_REQUEST, "no 'file' part");
    refused(
        &app.upload(Some(&writer()), &[field("colour", "red"), file("v1.json", release.clone())]).await,
        StatusCode::BAD_REQUEST,
        "unknown field 'colour'",
    );
    refused(
        &app.upload(Some(&writer()), &[field("dry_run", "perhaps"), file("v1.json", release.clone())]).await,
        StatusCode::BAD_REQUEST,
        "dry_run",
    );
    refused(
        &app.upload(Some(&writer()), &[field("code_type", "loinc"), file("codes.csv", b"code,description\n1,x\n".to_vec())]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown code_type 'loinc'",
    );

    // A multipart body cut off in the middle of a part.
    let mut cut = crate::support::multipart(&[field("format", "fhir"), file("v1.json", release.clone())]);
    cut.truncate(cut.len() - 40);
    let answer = app
        .send_bytes(
            "POST",
            "/admin/upload",
            &[
                ("content-type", &format!("multipart/form-data; boundary={}", crate::support::BOUNDARY)),
                ("authorization", &format!("Bearer {}", writer())),
            ],
            Some(cut),
        )
        .await;
    refused(&answer, StatusCode::BAD_REQUEST, "cut short");
    let not_multipart = app
        .send(
            "POST",
            "/admin/upload",
            &[("content-type", "application/json"), ("authorization", &format!("Bearer {}", writer()))],
            Some("{}"),
        )
        .await;
    refused(&not_multipart, StatusCode::BAD_REQUEST, "multipart");

    // Auto-detection that finds nothing fails the job, with the loader's reason.
    let job = upload_and_wait(&app, &[file("notes.bin", b"nothing a loader knows".to_vec())]).await;
    assert_eq!(job.state, "failed");
    assert!(job.error.as_deref().unwrap_or_default().contains("cannot tell the format"), "{:?}", job.error);

    assert!(app.terminology.registry().code_system_versions(SYNTHETIC_URL).is_empty(), "nothing was stored");
    let n_refused = app.terminology.audit_log(100).expect("audit").iter().filter(|entry| entry.outcome.starts_with("refused")).count();
    assert!(n_refused >= 12, "{n_refused} refusals audited");
}

#[actix_web::test]
async fn a_dry_run_validates_and_diffs_but_stores_nothing() {
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    assert_succeeded(&upload_and_wait(&app, &[field("format", "fhir"), file("v1.json", synthetic("1", 100, |_| {}))]).await);
    let generation_before = app.terminology.registry();
    let version_2 = synthetic("2", 100, |concepts| concepts.truncate(95));
    let job = upload_and_wait(&app, &[field("format", "fhir"), field("dry_run", "true"), file("v2.json", version_2)]).await;
    assert_succeeded(&job);
    assert!(job.dry_run);
    assert_eq!(job.diff.as_ref().expect("diff")[0]["counts"]["retired"], 5);
    assert!(job.counts.as_ref().expect("counts").get("stored").is_none());
    assert_eq!(served_versions(&app, SYNTHETIC_URL), ["1"]);
    assert!(std::sync::Arc::ptr_eq(&generation_before, &app.terminology.registry()), "the registry was not swapped");
    let stored = app.get(&format!("/fhir/CodeSystem?url={SYNTHETIC_URL}&_summary=true")).await.json();
    assert_eq!(stored["total"], 1);
}

#[actix_web::test]
async fn a_billing_csv_with_a_code_type_field() {
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    let csv = b"code,description,category\nJ1100,\"Injection, dexamethasone sodium phosphate, 1 mg\",drugs\nA0428,Ambulance service basic life support,transport\n";
    let job =
        upload_and_wait(&app, &[field("code_type", "hcpcs"), field("version", "2026-practice"), file("billing.csv", csv.to_vec())]).await;
    assert_succeeded(&job);
    assert_eq!(job.format, "csv");
    assert_eq!(job.bytes_done, job.bytes_total, "the total counts the staged CSV");
    let hcpcs = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";
    let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system={hcpcs}&code=J1100")).await;
    assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.body);
    assert!(lookup.body.contains("dexamethasone"), "{}", lookup.body);
    // Without a loaded HCPCS release the rows form a versioned fragment, never a complete system.
    let versions: Vec<(String, String)> = app
        .terminology
        .registry()
        .code_system_versions(hcpcs)
        .iter()
        .map(|index| (index.version().unwrap_or_default().to_owned(), index.code_system.content.clone()))
        .collect();
    assert_eq!(versions, [("2026-practice".to_owned(), "fragment".to_owned())]);
    // HCPCS codes are not of the custom form's concern, but `custom` makes them local codes.
    let custom = upload_and_wait(&app, &[field("code_type", "custom"), file("billing.csv", csv.to_vec())]).await;
    assert_succeeded(&custom);
    assert_eq!(app.terminology.registry().code_system_versions("http://fhirterm.local/fhir/CodeSystem/local").len(), 1);
}

async fn jobs_persist_and_a_restart_fails_interrupted_jobs(backend: &Backend) {
    let terminology = store::Terminology::open(&backend.url).expect("open");
    let new_job = |id: &str| store::NewJob {
        id: id.to_owned(),
        format: "hcpcs".into(),
        version: Some("2019".into()),
        dry_run: false,
        make_current: true,
        sub: Some("uploader".into()),
        files: json!([{"name": "2019.zip", "bytes": 10}]),
        bytes_total: 10,
    };
    let queued = terminology.create_job(&new_job("queued-job")).expect("create");
    assert_eq!((queued.state.as_str(), queued.phase.as_str()), ("queued", "staged"));
    terminology.create_job(&new_job("running-job")).expect("create");
    terminology
        .update_job(
            "running-job",
            &store::JobUpdate { state: Some(store::JobState::Running), bytes_done: Some(5), started: true, ..Default::default() },
        )
        .expect("update");
    terminology.create_job(&new_job("done-job")).expect("create");
    terminology
        .update_job(
            "done-job",
            &store::JobUpdate {
                state: Some(store::JobState::Succeeded),
                diff: Some(json!([{"counts": {"added": 1}}])),
                finished: true,
                ..Default::default()
            },
        )
        .expect("update");
    let running = terminology.job("running-job").expect("read").expect("stored");
    assert_eq!((running.bytes_done, running.started_at.is_some()), (5, true));
    drop(terminology);

    // The server restarts: the two unfinished jobs are failed, the finished one is untouched.
    let terminology = store::Terminology::open(&backend.url).expect("reopen");
    assert_eq!(terminology.fail_interrupted_jobs().expect("fail interrupted"), 2);
    for id in ["queued-job", "running-job"] {
        let job = terminology.job(id).expect("read").expect("stored");
        assert_eq!(job.state, "failed");
        assert_eq!(job.error.as_deref(), Some(store::jobs::INTERRUPTED));
        assert!(job.finished_at.is_some());
    }
    let done = terminology.job("done-job").expect("read").expect("stored");
    assert_eq!(done.state, "succeeded");
    assert_eq!(done.diff, Some(json!([{"counts": {"added": 1}}])));
    assert_eq!(terminology.jobs(10).expect("list").len(), 3);
    assert!(terminology.update_job("no-such-job", &store::JobUpdate::default()).is_err());

    terminology
        .record_audit(&store::AuditEntry {
            at: String::new(),
            sub: Some("alice".into()),
            action: "upload".into(),
            target: "job/x".into(),
            outcome: "accepted".into(),
            detail: None,
        })
        .expect("audit");
    let entries = terminology.audit_log(5).expect("audit log");
    assert_eq!((entries.len(), entries[0].sub.as_deref()), (1, Some("alice")));
}

/// `make_current` decides which version answers when none is named, whatever the version order,
/// and the choice is kept in the database.
async fn make_current_chooses_the_version_that_answers(backend: &Backend) {
    let app = app_with(backend, hs256_config()).await;
    let current =
        |app: &TestApp| app.terminology.registry().code_system(SYNTHETIC_URL, None).and_then(|index| index.version().map(str::to_owned));
    assert_succeeded(&upload_and_wait(&app, &[field("format", "fhir"), file("v2.json", synthetic("2", 20, |_| {}))]).await);
    assert_succeeded(&upload_and_wait(&app, &[field("format", "fhir"), file("v1.json", synthetic("1", 10, |_| {}))]).await);
    assert_eq!(current(&app).as_deref(), Some("1"), "the upload made version 1 current though 2 is later");
    let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system={SYNTHETIC_URL}&code=C00015")).await;
    assert_eq!(lookup.status, StatusCode::NOT_FOUND, "C00015 is only in version 2: {}", lookup.body);
    let job =
        upload_and_wait(&app, &[field("format", "fhir"), field("make_current", "false"), file("v3.json", synthetic("3", 30, |_| {}))])
            .await;
    assert_succeeded(&job);
    assert!(!job.make_current);
    assert_eq!(current(&app).as_deref(), Some("1"), "make_current=false leaves the current version alone");
    assert_eq!(served_versions(&app, SYNTHETIC_URL), ["1", "2", "3"]);
    let reopened = app_with(backend, hs256_config()).await;
    assert_eq!(current(&reopened).as_deref(), Some("1"), "the current version is stored, not derived");
}

backend_tests! {
    jobs_persist_across_restarts => jobs_persist_and_a_restart_fails_interrupted_jobs;
    make_current_is_stored => make_current_chooses_the_version_that_answers;
}

/// The codes of one real HCPCS release as the loader reads them: code → (display, kind,
/// termination date when there is one).
fn hcpcs_codes(zip: &std::path::Path) -> BTreeMap<String, (Option<String>, String, Option<String>)> {
    let source = loaders::open_paths(&[zip.to_owned()]).expect("open the HCPCS zip");
    let loaded = loaders::load(loaders::Format::Hcpcs, source.as_ref(), &loaders::LoadOptions::default()).expect("load HCPCS");
    loaded.code_systems[0]
        .concepts
        .iter()
        .map(|concept| {
            let property =
                |code: &str| concept.properties.iter().find(|property| property.code == code).and_then(|property| property.value_text());
            let kind = property("kind").unwrap_or_default();
            (concept.code.clone(), (concept.display.clone(), kind, property("terminationDate")))
        })
        .collect()
}

fn listed_added_contains(diff: &Value, code: &str) -> bool {
    diff["added"].as_array().is_some_and(|added| added.iter().any(|listed| listed == code))
}

fn hcpcs_zip(dir: &std::path::Path, year: &str) -> std::path::PathBuf {
    dir.join(format!("hcpcs/{year}/{year}-Alpha-Numeric-HCPCS-File.zip"))
}

const HCPCS_URL: &str = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";

#[actix_web::test]
async fn real_hcpcs_2018_then_2019_through_uploads_with_the_real_diff() {
    let Some(dir) = real_data() else { return };
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    let started = std::time::Instant::now();
    let bytes_2019 = std::fs::read(hcpcs_zip(&dir, "2019")).expect("the 2019 zip");
    let job = upload_and_wait(&app, &[field("format", "hcpcs"), file("2019-Alpha-Numeric-HCPCS-File.zip", bytes_2019.clone())]).await;
    assert_succeeded(&job);
    eprintln!("HCPCS 2019 upload: {:.1}s end to end ({} bytes read)", started.elapsed().as_secs_f64(), job.bytes_done);
    let counts = job.counts.as_ref().expect("counts");
    assert_eq!(counts["concepts"], 6440 + 360, "{counts}");
    assert_eq!(job.rows_done, 6800);
    assert_eq!(job.version.as_deref(), Some("2019"));
    assert!(job.bytes_done >= 3_742_917, "the contractor file was read: {}", job.bytes_done);
    let index = app.terminology.registry().code_system(HCPCS_URL, Some("2019")).expect("2019 served");
    let kinds = index.code_system.concepts.iter().fold(BTreeMap::new(), |mut kinds: BTreeMap<String, usize>, concept| {
        let kind = concept
            .properties
            .iter()
            .find(|property| property.code == "kind")
            .and_then(|property| property.value_text())
            .unwrap_or_default();
        *kinds.entry(kind).or_default() += 1;
        kinds
    });
    assert_eq!(kinds, BTreeMap::from([("modifier".to_owned(), 360), ("procedure".to_owned(), 6440)]));

    // Now the order admins meet: 2018 is served, 2019 arrives. A fresh server for that.
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    let job_2018 = upload_and_wait(
        &app,
        &[field("format", "hcpcs"), file("2018-Alpha-Numeric-HCPCS-File.zip", std::fs::read(hcpcs_zip(&dir, "2018")).expect("2018"))],
    )
    .await;
    assert_succeeded(&job_2018);
    assert_eq!(job_2018.counts.as_ref().expect("counts")["concepts"], 6205 + 354);
    let job_2019 = upload_and_wait(&app, &[field("format", "auto"), file("2019-Alpha-Numeric-HCPCS-File.zip", bytes_2019)]).await;
    assert_succeeded(&job_2019);
    let diff = &job_2019.diff.as_ref().expect("diff")[0];

    // The expected changes, worked out independently from the two releases as the loader reads them.
    let (old, new) = (hcpcs_codes(&hcpcs_zip(&dir, "2018")), hcpcs_codes(&hcpcs_zip(&dir, "2019")));
    // A code is in force in a release unless it was terminated before the release's year began.
    type Codes = BTreeMap<String, (Option<String>, String, Option<String>)>;
    let active = |codes: &Codes, year: &str| -> BTreeSet<String> {
        let start = format!("{year}-01-01");
        codes
            .iter()
            .filter(|(_, (_, _, terminated))| terminated.as_deref().is_none_or(|day| day >= start.as_str()))
            .map(|(code, _)| code.clone())
            .collect()
    };
    let (old_active, new_active) = (active(&old, "2018"), active(&new, "2019"));
    let added: Vec<&String> = new_active.iter().filter(|code| !old.contains_key(*code)).collect();
    let retired: Vec<&String> = old_active.difference(&new_active).collect();
    let reactivated = new_active.iter().filter(|code| old.contains_key(*code) && !old_active.contains(*code)).count();
    let renamed =
        old.iter().filter(|(code, (display, _, _))| new.get(*code).is_some_and(|(new_display, _, _)| new_display != display)).count();
    eprintln!(
        "HCPCS 2018 -> 2019: {} added, {} retired, {renamed} displays changed (diff: {})",
        added.len(),
        retired.len(),
        diff["counts"]
    );
    assert_eq!(diff["fromVersion"], "2018");
    assert_eq!(diff["toVersion"], "2019");
    assert_eq!(diff["counts"]["added"], added.len());
    assert_eq!(diff["counts"]["retired"], retired.len());
    assert_eq!(diff["counts"]["displayChanged"], renamed);
    assert_eq!(diff["counts"]["reactivated"], reactivated);
    assert_eq!(diff["counts"]["moved"], 0, "HCPCS is flat");
    // Known changes of the 2019 release: the modifier DA and G9976/G9977 left the file, codes
    // terminated during 2018 are retired though still listed, and for example A4563, A9513,
    // C1823 and C8937 arrived.
    let listed_retired: Vec<&str> = diff["retired"].as_array().expect("retired").iter().filter_map(Value::as_str).collect();
    assert_eq!(listed_retired, retired.iter().map(|code| code.as_str()).collect::<Vec<_>>());
    for code in ["DA", "G9976", "G9977"] {
        assert!(listed_retired.contains(&code), "{code} is not listed as retired");
    }
    for code in ["A4563", "A9513", "C1823", "C8937"] {
        assert!(listed_added_contains(diff, code), "{code} is not listed as added");
    }
    let listed_added: Vec<String> =
        diff["added"].as_array().expect("added").iter().filter_map(|code| code.as_str().map(str::to_owned)).collect();
    assert_eq!(listed_added.iter().collect::<Vec<_>>(), added.iter().take(1000).copied().collect::<Vec<_>>());
    assert_eq!(served_versions(&app, HCPCS_URL), ["2018", "2019"]);
    // The default version is now 2019, and 2018 is still served by version.
    let newest = app.get(&format!("/fhir/CodeSystem/$lookup?system={HCPCS_URL}&code={}", added[0])).await;
    assert_eq!(newest.status, StatusCode::OK, "{}", newest.body);
    let old_only = app.get(&format!("/fhir/CodeSystem/$lookup?system={HCPCS_URL}&version=2018&code={}", retired[0])).await;
    assert_eq!(old_only.status, StatusCode::OK, "{}", old_only.body);
}
