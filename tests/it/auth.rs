//! Access control: every token refusal, SMART v1 and v2 scopes, RS256/ES256 keys from PEM and
//! JWKS, reads behind a token, restricted code systems, and the audit log of writes.
//!
//! The RS256 and ES256 keys are fixtures generated once with OpenSSL (`fixtures/jwt/README.md`).

use crate::support::{app_with, hs256_config, now_seconds, sample_code_system, sign, sqlite, token, TestApp, TEST_SECRET};
use actix_web::http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use server::ServerConfig;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/it/fixtures/jwt");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn claims(scope: &str) -> Value {
    json!({"sub": "alice", "scope": scope, "exp": now_seconds() + 600})
}

fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, &EncodingKey::from_secret(TEST_SECRET.as_bytes()), None, claims)
}

async fn put_with(app: &TestApp, authorization: Option<&str>) -> crate::support::Answer {
    let mut headers = vec![("content-type", "application/fhir+json")];
    if let Some(authorization) = authorization {
        headers.push(("authorization", authorization));
    }
    app.send("PUT", "/fhir/CodeSystem/sample", &headers, Some(&sample_code_system().to_string())).await
}

#[track_caller]
fn assert_refused(answer: &crate::support::Answer, status: StatusCode, needle: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    let (code, text) = answer.issue();
    assert!(text.contains(needle), "expected {needle:?} in {text:?}");
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(code, "login");
        assert!(answer.www_authenticate.as_deref().unwrap_or_default().starts_with("Bearer"), "{:?}", answer.www_authenticate);
    } else {
        assert_eq!(code, "forbidden");
    }
}

#[actix_web::test]
async fn every_bad_token_is_refused_with_401() {
    let backend = sqlite();
    let mut config = hs256_config();
    config.auth.issuer = Some("https://issuer.example".into());
    config.auth.audience = Some("fhirterm".into());
    let app = app_with(&backend, config).await;
    let good = |extra: Value| {
        let mut claims = json!({"sub": "alice", "scope": "system/CodeSystem.write", "exp": now_seconds() + 600,
            "iss": "https://issuer.example", "aud": "fhirterm"});
        for (key, value) in extra.as_object().expect("object") {
            if value.is_null() {
                claims.as_object_mut().expect("object").remove(key);
            } else {
                claims[key] = value.clone();
            }
        }
        claims
    };
    let bearer = |token: &str| format!("Bearer {token}");

    assert_refused(&put_with(&app, None).await, StatusCode::UNAUTHORIZED, "needs a bearer token");
    assert_refused(&put_with(&app, Some("Basic YWxpY2U6c2VjcmV0")).await, StatusCode::UNAUTHORIZED, "malformed Authorization header");
    assert_refused(&put_with(&app, Some("Bearer")).await, StatusCode::UNAUTHORIZED, "malformed Authorization header");
    assert_refused(&put_with(&app, Some("Bearer not-a-jwt")).await, StatusCode::UNAUTHORIZED, "malformed token");
    assert_refused(&put_with(&app, Some("Bearer e30.e30.c2ln")).await, StatusCode::UNAUTHORIZED, "malformed token header");

    // alg none: a header and claims, and no signature.
    let encode = |value: &Value| {
        use base64_like::encode_url;
        encode_url(value.to_string().as_bytes())
    };
    let unsigned = format!("{}.{}.", encode(&json!({"alg": "none", "typ": "JWT"})), encode(&good(json!({}))));
    assert_refused(&put_with(&app, Some(&bearer(&unsigned))).await, StatusCode::UNAUTHORIZED, "alg 'none'");
    let unsigned_caps = format!("{}.{}.", encode(&json!({"alg": "NONE"})), encode(&good(json!({}))));
    assert_refused(&put_with(&app, Some(&bearer(&unsigned_caps))).await, StatusCode::UNAUTHORIZED, "alg 'none'");

    // A well-signed token with an algorithm the server has no key for.
    let rs256 = sign(Algorithm::RS256, &EncodingKey::from_rsa_pem(&fixture("rs256-private.pem")).expect("RSA key"), None, &good(json!({})));
    assert_refused(&put_with(&app, Some(&bearer(&rs256))).await, StatusCode::UNAUTHORIZED, "algorithm RS256 is not accepted");
    // HS384 with the right secret is still the wrong algorithm.
    let hs384 = sign(Algorithm::HS384, &EncodingKey::from_secret(TEST_SECRET.as_bytes()), None, &good(json!({})));
    assert_refused(&put_with(&app, Some(&bearer(&hs384))).await, StatusCode::UNAUTHORIZED, "algorithm HS384 is not accepted");

    let wrong_secret = sign(Algorithm::HS256, &EncodingKey::from_secret(b"another-secret-entirely-0123456789"), None, &good(json!({})));
    assert_refused(&put_with(&app, Some(&bearer(&wrong_secret))).await, StatusCode::UNAUTHORIZED, "signature");
    let mut tampered = hs256(&good(json!({})));
    let claims_start = tampered.find('.').expect("dot") + 1;
    let tampered_claims = base64_like::encode_url(good(json!({"scope": "system/*.*"})).to_string().as_bytes());
    let signature_start = tampered.rfind('.').expect("dot");
    tampered.replace_range(claims_start..signature_start, &tampered_claims);
    assert_refused(&put_with(&app, Some(&bearer(&tampered))).await, StatusCode::UNAUTHORIZED, "signature");

    let expired = hs256(&good(json!({"exp": now_seconds() - 3600})));
    assert_refused(&put_with(&app, Some(&bearer(&expired))).await, StatusCode::UNAUTHORIZED, "expired");
    let no_exp = hs256(&good(json!({"exp": null})));
    assert_refused(&put_with(&app, Some(&bearer(&no_exp))).await, StatusCode::UNAUTHORIZED, "no 'exp'");
    let not_yet = hs256(&good(json!({"nbf": now_seconds() + 3600})));
    assert_refused(&put_with(&app, Some(&bearer(&not_yet))).await, StatusCode::UNAUTHORIZED, "nbf");
    let wrong_issuer = hs256(&good(json!({"iss": "https://evil.example"})));
    assert_refused(&put_with(&app, Some(&bearer(&wrong_issuer))).await, StatusCode::UNAUTHORIZED, "issuer");
    let wrong_audience = hs256(&good(json!({"aud": ["someone-else"]})));
    assert_refused(&put_with(&app, Some(&bearer(&wrong_audience))).await, StatusCode::UNAUTHORIZED, "audience");
    let no_audience = hs256(&good(json!({"aud": null})));
    assert_refused(&put_with(&app, Some(&bearer(&no_audience))).await, StatusCode::UNAUTHORIZED, "audience");

    // Within the leeway an expired token still passes; the good one passes, with aud as a list.
    let just_expired = hs256(&good(json!({"exp": now_seconds() - 5, "aud": ["other", "fhirterm"]})));
    assert_eq!(put_with(&app, Some(&bearer(&just_expired))).await.status, StatusCode::CREATED);
    let answer = put_with(&app, Some(&bearer(&hs256(&good(json!({})))))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // Nothing refused was stored.
    assert_eq!(app.get("/fhir/CodeSystem/sample").await.json()["meta"]["versionId"], "2");
}

/// A base64url encoder for hand-made tokens, so that the test does not trust the crate it checks.
mod base64_like {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub fn encode_url(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (idx, byte)| acc | (u32::from(*byte) << (16 - 8 * idx)));
            for idx in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * idx)) & 63) as usize] as char);
            }
        }
        out
    }
}

#[actix_web::test]
async fn missing_scopes_are_403_naming_the_scope_and_v1_and_v2_scopes_work() {
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    let bearer = |scopes: &str| format!("Bearer {}", token("alice", scopes));

    for scopes in
        ["", "system/CodeSystem.read", "system/ValueSet.write", "patient/CodeSystem.write", "system/CodeSystem.rs", "system/CodeSystem.c"]
    {
        let answer = put_with(&app, Some(&bearer(scopes))).await;
        assert_refused(&answer, StatusCode::FORBIDDEN, "system/CodeSystem.write");
        assert!(answer.issue().1.contains("system/CodeSystem.u"), "{}", answer.body);
    }
    for scopes in
        ["system/CodeSystem.write", "system/*.write", "system/*.*", "system/CodeSystem.cud", "user/CodeSystem.u", "system/CodeSystem.cruds"]
    {
        let answer = put_with(&app, Some(&bearer(&format!("openid {scopes}")))).await;
        assert!(answer.status.is_success(), "{scopes}: {}", answer.body);
    }
    // Create and delete each need their own permission.
    let value_set = json!({"resourceType": "ValueSet", "url": "http://example.org/vs/x", "status": "active"});
    let created = app
        .send(
            "POST",
            "/fhir/ValueSet",
            &[("content-type", "application/fhir+json"), ("authorization", &bearer("system/ValueSet.u"))],
            Some(&value_set.to_string()),
        )
        .await;
    assert_refused(&created, StatusCode::FORBIDDEN, "system/ValueSet.write");
    let created = app
        .send(
            "POST",
            "/fhir/ValueSet",
            &[("content-type", "application/fhir+json"), ("authorization", &bearer("system/ValueSet.c"))],
            Some(&value_set.to_string()),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let refused = app.send("DELETE", "/fhir/CodeSystem/sample", &[("authorization", &bearer("system/CodeSystem.cu"))], None).await;
    assert_refused(&refused, StatusCode::FORBIDDEN, "system/CodeSystem.write");
    let deleted = app.send("DELETE", "/fhir/CodeSystem/sample", &[("authorization", &bearer("system/CodeSystem.d"))], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    // Reads stay open by default, with or without a token.
    assert_eq!(app.get("/fhir/ValueSet?url=http://example.org/vs/x").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn rs256_and_es256_keys_from_pem_and_jwks() {
    let rsa_private = EncodingKey::from_rsa_pem(&fixture("rs256-private.pem")).expect("RSA key");
    let ec_private = EncodingKey::from_ec_pem(&fixture("es256-private.pem")).expect("EC key");
    let other_rsa = EncodingKey::from_rsa_pem(&fixture("other-rs256-private.pem")).expect("RSA key");
    let scope = claims("system/CodeSystem.write");
    let bearer = |token: String| format!("Bearer {token}");

    for (public_key, good, algorithm) in
        [("rs256-public.pem", &rsa_private, Algorithm::RS256), ("es256-public.pem", &ec_private, Algorithm::ES256)]
    {
        let backend = sqlite();
        let mut config = ServerConfig::default();
        config.auth.add_public_key_pem(&fixture(public_key), public_key).expect("a PEM public key");
        let app = app_with(&backend, config).await;
        let answer = put_with(&app, Some(&bearer(sign(algorithm, good, None, &scope)))).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{public_key}: {}", answer.body);
        let wrong_key = if algorithm == Algorithm::RS256 {
            put_with(&app, Some(&bearer(sign(Algorithm::RS256, &other_rsa, None, &scope)))).await
        } else {
            put_with(&app, Some(&bearer(sign(Algorithm::RS256, &rsa_private, None, &scope)))).await
        };
        assert_eq!(wrong_key.status, StatusCode::UNAUTHORIZED, "{public_key}: {}", wrong_key.body);
        // An HS256 token whose secret is the public key text (the classic confusion attack).
        let confused = sign(Algorithm::HS256, &EncodingKey::from_secret(&fixture(public_key)), None, &scope);
        assert_refused(&put_with(&app, Some(&bearer(confused))).await, StatusCode::UNAUTHORIZED, "algorithm HS256 is not accepted");
    }

    let backend = sqlite();
    let mut config = ServerConfig::default();
    let n_keys = config.auth.add_jwks(&String::from_utf8(fixture("jwks.json")).expect("UTF-8"), "jwks.json").expect("a JWKS");
    assert_eq!(n_keys, 2);
    let app = app_with(&backend, config).await;
    let by_kid = put_with(&app, Some(&bearer(sign(Algorithm::RS256, &rsa_private, Some("rsa-1"), &scope)))).await;
    assert_eq!(by_kid.status, StatusCode::CREATED, "{}", by_kid.body);
    let es_by_kid = put_with(&app, Some(&bearer(sign(Algorithm::ES256, &ec_private, Some("ec-1"), &scope)))).await;
    assert_eq!(es_by_kid.status, StatusCode::OK, "{}", es_by_kid.body);
    let unknown_kid = put_with(&app, Some(&bearer(sign(Algorithm::RS256, &rsa_private, Some("rsa-9"), &scope)))).await;
    assert_refused(&unknown_kid, StatusCode::UNAUTHORIZED, "kid 'rsa-9'");
    let no_kid = put_with(&app, Some(&bearer(sign(Algorithm::ES256, &ec_private, None, &scope)))).await;
    assert_eq!(no_kid.status, StatusCode::OK, "{}", no_kid.body);
}

#[actix_web::test]
async fn without_a_key_writes_are_refused_unless_anonymous_writes_are_allowed() {
    let backend = sqlite();
    let app = app_with(&backend, ServerConfig::default()).await;
    let answer = put_with(&app, None).await;
    assert_refused(&answer, StatusCode::FORBIDDEN, "--allow-anonymous-writes");
    let with_token = put_with(&app, Some(&format!("Bearer {}", token("alice", "system/*.*")))).await;
    assert_refused(&with_token, StatusCode::UNAUTHORIZED, "no token key configured");
    assert_eq!(app.get("/fhir/CodeSystem").await.status, StatusCode::OK, "reads stay open");

    let anonymous = crate::support::app(&backend).await;
    assert_eq!(put_with(&anonymous, None).await.status, StatusCode::CREATED);
    let audit = anonymous.terminology.audit_log(10).expect("audit log");
    assert_eq!((audit[0].sub.as_deref(), audit[0].action.as_str(), audit[0].outcome.as_str()), (None, "update", "succeeded"));
    assert!(audit.iter().any(|entry| entry.outcome == "refused 403"), "{audit:?}");
}

#[actix_web::test]
async fn reads_can_require_a_token() {
    let backend = sqlite();
    let mut config = hs256_config();
    config.auth.read_requires_auth = true;
    let app = app_with(&backend, config).await;
    let writer = format!("Bearer {}", token("admin", "system/*.write"));
    assert_eq!(put_with(&app, Some(&writer)).await.status, StatusCode::CREATED);
    let lookup = "/fhir/CodeSystem/$lookup?system=http://example.org/cs/sample&code=red";
    for uri in ["/fhir/CodeSystem/sample", "/fhir/CodeSystem?url=http://example.org/cs/sample", lookup] {
        assert_refused(&app.get(uri).await, StatusCode::UNAUTHORIZED, "reads need a bearer token");
        let write_only = app.send("GET", uri, &[("authorization", &writer)], None).await;
        assert_refused(&write_only, StatusCode::FORBIDDEN, "system/CodeSystem.read");
        for scopes in ["system/CodeSystem.read", "system/*.read", "system/CodeSystem.rs"] {
            let reader = format!("Bearer {}", token("reader", scopes));
            let answer = app.send("GET", uri, &[("authorization", &reader)], None).await;
            assert_eq!(answer.status, StatusCode::OK, "{uri} with {scopes}: {}", answer.body);
        }
    }
    assert_eq!(app.get("/health/ready").await.status, StatusCode::OK, "health stays open");
}

const CPT: &str = "http://www.ama-assn.org/go/cpt";

#[actix_web::test]
async fn a_restricted_code_system_needs_a_scope_naming_it() {
    let backend = sqlite();
    let mut config = hs256_config();
    config.auth.add_restricted(&format!("{CPT}=licence/cpt"));
    let app = app_with(&backend, config).await;
    // Invented codes under the CPT canonical URL; CPT content itself is licensed.
    let cpt = json!({"resourceType": "CodeSystem", "id": "cpt", "url": CPT, "version": "2026", "status": "active",
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:oid:2.16.840.1.113883.6.12"}],
        "content": "fragment", "concept": [{"code": "99990", "display": "Invented visit"}, {"code": "99991", "display": "Invented test"}]});
    let value_set = json!({"resourceType": "ValueSet", "id": "visits", "url": "http://example.org/vs/visits", "status": "active",
        "compose": {"include": [{"system": CPT}]}});
    let wrapper = json!({"resourceType": "ValueSet", "id": "wrapper", "url": "http://example.org/vs/wrapper", "status": "active",
        "compose": {"include": [{"valueSet": ["http://example.org/vs/visits"]}]}});
    let writer = format!("Bearer {}", token("admin", "system/*.write"));
    for (uri, resource) in [("/fhir/CodeSystem/cpt", &cpt), ("/fhir/ValueSet/visits", &value_set), ("/fhir/ValueSet/wrapper", &wrapper)] {
        let answer = app
            .send("PUT", uri, &[("content-type", "application/fhir+json"), ("authorization", &writer)], Some(&resource.to_string()))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    }
    assert_eq!(put_with(&app, Some(&writer)).await.status, StatusCode::CREATED);

    let parameters = json!({"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": CPT, "code": "99990"}},
        {"name": "url", "valueUri": "http://example.org/vs/visits"}]})
    .to_string();
    let requests: Vec<(&str, String, Option<String>)> = vec![
        ("GET", format!("/fhir/CodeSystem/$lookup?system={CPT}&code=99990"), None),
        ("GET", format!("/fhir/CodeSystem/$validate-code?url={CPT}&code=99990"), None),
        ("GET", "/fhir/CodeSystem/$lookup?system=urn:oid:2.16.840.1.113883.6.12&code=99990".to_owned(), None),
        ("GET", "/fhir/CodeSystem/cpt".to_owned(), None),
        ("GET", "/fhir/CodeSystem/cpt/$validate-code?code=99990".to_owned(), None),
        ("GET", "/fhir/ValueSet/$expand?url=http://example.org/vs/visits".to_owned(), None),
        ("GET", "/fhir/ValueSet/$expand?url=http://example.org/vs/wrapper".to_owned(), None),
        ("GET", "/fhir/ValueSet/visits/$expand".to_owned(), None),
        ("POST", "/fhir/ValueSet/$validate-code".to_owned(), Some(parameters)),
    ];
    let scope_message = format!("system/CodeSystem.read?url={CPT}");
    for (method, uri, body) in &requests {
        let send = |authorization: Option<String>| {
            let mut headers = vec![("content-type".to_owned(), "application/fhir+json".to_owned())];
            if let Some(authorization) = authorization {
                headers.push(("authorization".to_owned(), authorization));
            }
            let body = body.clone();
            let (method, uri) = (method.to_string(), uri.clone());
            let app = &app;
            async move {
                let headers: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
                app.send(&method, &uri, &headers, body.as_deref()).await
            }
        };
        let anonymous = send(None).await;
        assert_refused(&anonymous, StatusCode::UNAUTHORIZED, &scope_message);
        let unlicensed = send(Some(format!("Bearer {}", token("bob", "system/*.read system/CodeSystem.read")))).await;
        assert_refused(&unlicensed, StatusCode::FORBIDDEN, &scope_message);
        assert!(unlicensed.issue().1.contains("licence/cpt"), "{}", unlicensed.body);
        for scopes in [format!("system/CodeSystem.read?url={CPT}"), format!("system/CodeSystem.rs?url={CPT}"), "licence/cpt".to_owned()] {
            let licensed = send(Some(format!("Bearer {}", token("carol", &scopes)))).await;
            assert_eq!(licensed.status, StatusCode::OK, "{method} {uri} with {scopes}: {}", licensed.body);
        }
    }
    // Other systems stay open, and a search lists CPT without its concepts.
    let open = app.get("/fhir/CodeSystem/$lookup?system=http://example.org/cs/sample&code=red").await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
    let listed = app.get("/fhir/CodeSystem?url=http://www.ama-assn.org/go/cpt").await.json();
    assert_eq!(listed["total"], 1);
    assert!(listed["entry"][0]["resource"].get("concept").is_none(), "{listed}");
    assert_eq!(listed["entry"][0]["resource"]["meta"]["tag"][0]["code"], "SUBSETTED");
    let licensed_search = app
        .send(
            "GET",
            "/fhir/CodeSystem?url=http://www.ama-assn.org/go/cpt",
            &[("authorization", &format!("Bearer {}", token("carol", "licence/cpt")))],
            None,
        )
        .await;
    assert_eq!(licensed_search.json()["entry"][0]["resource"]["concept"].as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn writes_are_audited_with_their_subject_and_outcome() {
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    assert_eq!(put_with(&app, Some(&format!("Bearer {}", token("alice", "system/CodeSystem.write")))).await.status, StatusCode::CREATED);
    assert_eq!(put_with(&app, Some(&format!("Bearer {}", token("bob", "system/CodeSystem.read")))).await.status, StatusCode::FORBIDDEN);
    let deleted = app
        .send(
            "DELETE",
            "/fhir/CodeSystem/missing",
            &[("authorization", &format!("Bearer {}", token("alice", "system/CodeSystem.d")))],
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    let entries = app.terminology.audit_log(10).expect("audit log");
    let summary: Vec<(Option<&str>, &str, &str, &str)> = entries
        .iter()
        .rev()
        .map(|entry| (entry.sub.as_deref(), entry.action.as_str(), entry.target.as_str(), entry.outcome.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (Some("alice"), "update", "CodeSystem/sample", "succeeded"),
            (Some("bob"), "update", "CodeSystem/sample", "refused 403"),
            (Some("alice"), "delete", "CodeSystem/missing", "failed NotFound"),
        ]
    );
    assert!(entries.iter().all(|entry| entry.at.starts_with("20")), "{entries:?}");
    let over_http = app
        .send("GET", "/admin/audit", &[("authorization", &format!("Bearer {}", token("auditor", "system/AuditEvent.read")))], None)
        .await;
    assert_eq!(over_http.status, StatusCode::OK, "{}", over_http.body);
    assert_eq!(over_http.json()["entries"].as_array().map(Vec::len), Some(3));
    assert_eq!(app.get("/admin/audit").await.status, StatusCode::UNAUTHORIZED);
}
