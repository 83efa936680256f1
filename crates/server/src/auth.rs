//! Access control: JWT bearer tokens, SMART on FHIR scopes, and restricted code systems.
//!
//! # Brief overview
//! - [`AuthConfig`] holds the verifying keys (an HS256 secret, RS256/ES256 public keys from PEM
//!   files or a JWKS file), the expected `iss` and `aud`, and the switches: anonymous writes for
//!   local development, reads that need a token, and the restricted code systems.
//! - [`authenticate`] turns an `Authorization: Bearer …` header into a [`Principal`] (its `sub`
//!   and scopes), or refuses with 401: malformed header or token, `alg: none`, an algorithm no key
//!   is configured for, a bad signature, expired, not yet valid, wrong issuer or audience.
//! - [`require_write`], [`require_read`] and [`require_systems`] are what handlers call; a
//!   missing scope is a 403 naming the scope that was needed. [`Caller`] is the principal as an
//!   actix extractor, for handlers that take it as an argument.
//!
//! # Scopes
//! SMART v1 and v2 are both understood, in the `system/` and `user/` contexts:
//! `system/CodeSystem.write`, `system/*.read`, `system/*.*`, and `system/CodeSystem.cud`,
//! `system/ValueSet.rs` (v2 letters `c`, `r`, `u`, `d`, `s`). A scope with a query
//! (`system/CodeSystem.read?url=http://www.ama-assn.org/go/cpt`) grants only what it names, and
//! is how a restricted code system is unlocked, besides the licence scope configured for it.
//!
//! # Design decisions
//! `exp`, `nbf`, `iss` and `aud` are checked here, not by jsonwebtoken: the workspace turns on
//! serde_json's `arbitrary_precision`, under which jsonwebtoken's own numeric claim parsing
//! (`deserialize_any`) sees every number as a map and reports `exp` as malformed. Signatures and
//! algorithms are still jsonwebtoken's (with the pure-Rust `rust_crypto` backend).
//!
//! Tests live in `tests/it/auth.rs`.

use crate::error::ApiError;
use actix_web::HttpRequest;
use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use model::Json;
use std::fmt;

/// A key that verifies token signatures.
#[derive(Clone)]
pub struct VerifyingKey {
    pub algorithm: Algorithm,
    /// The JWKS `kid`; a token naming a `kid` is checked only against keys with that `kid`.
    pub kid: Option<String>,
    pub key: DecodingKey,
    /// Where the key came from, for the start-up log.
    pub origin: String,
}

/// A code system whose content needs a scope that names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestrictedSystem {
    pub url: String,
    /// A scope that also unlocks it, such as `licence/cpt`.
    pub licence_scope: Option<String>,
}

/// Who may do what.
#[derive(Clone)]
pub struct AuthConfig {
    pub keys: Vec<VerifyingKey>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// Accept writes without a token (local development and the conformance run).
    pub allow_anonymous_writes: bool,
    /// Reads and operations need a token with read scopes.
    pub read_requires_auth: bool,
    pub restricted: Vec<RestrictedSystem>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
}

impl Default for AuthConfig {
    /// No keys, so every write is refused; reads are open.
    fn default() -> AuthConfig {
        AuthConfig {
            keys: Vec::new(),
            issuer: None,
            audience: None,
            allow_anonymous_writes: false,
            read_requires_auth: false,
            restricted: Vec::new(),
            leeway_seconds: 30,
        }
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.mode_description())
    }
}

impl AuthConfig {
    /// Writes without a token, reads open: for local development and tests.
    pub fn anonymous_writes() -> AuthConfig {
        AuthConfig { allow_anonymous_writes: true, ..AuthConfig::default() }
    }

    pub fn add_hs256_secret(&mut self, secret: &[u8]) {
        self.keys.push(VerifyingKey {
            algorithm: Algorithm::HS256,
            kid: None,
            key: DecodingKey::from_secret(secret),
            origin: "FHIRTERM_JWT_HS256_SECRET".into(),
        });
    }

    /// Adds an RS256 or ES256 public key from PEM text (`-----BEGIN PUBLIC KEY-----`).
    pub fn add_public_key_pem(&mut self, pem: &[u8], origin: &str) -> Result<(), String> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            self.keys.push(VerifyingKey { algorithm: Algorithm::RS256, kid: None, key, origin: origin.to_owned() });
            return Ok(());
        }
        match DecodingKey::from_ec_pem(pem) {
            Ok(key) => {
                self.keys.push(VerifyingKey { algorithm: Algorithm::ES256, kid: None, key, origin: origin.to_owned() });
                Ok(())
            }
            Err(error) => Err(format!("{origin}: not an RSA or P-256 public key in PEM: {error}")),
        }
    }

    /// Adds the RS256 and ES256 keys of a JWKS document.
    pub fn add_jwks(&mut self, text: &str, origin: &str) -> Result<usize, String> {
        let set: JwkSet = serde_json::from_str(text).map_err(|error| format!("{origin}: not a JWKS document: {error}"))?;
        let mut n_added = 0;
        for jwk in &set.keys {
            let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
                (AlgorithmParameters::RSA(_), Some(KeyAlgorithm::RS256) | None) => Algorithm::RS256,
                (AlgorithmParameters::EllipticCurve(_), Some(KeyAlgorithm::ES256) | None) => Algorithm::ES256,
                _ => continue,
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|error| format!("{origin}: bad key {:?}: {error}", jwk.common.key_id))?;
            self.keys.push(VerifyingKey { algorithm, kid: jwk.common.key_id.clone(), key, origin: origin.to_owned() });
            n_added += 1;
        }
        if n_added == 0 {
            return Err(format!("{origin}: the JWKS holds no RS256 or ES256 key"));
        }
        Ok(n_added)
    }

    /// Parses `URL` or `URL=LICENCE-SCOPE` entries, comma-separated.
    pub fn add_restricted(&mut self, list: &str) {
        for entry in list.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            let (url, licence_scope) = match entry.split_once('=') {
                Some((url, scope)) => (url.trim(), Some(scope.trim().to_owned()).filter(|scope| !scope.is_empty())),
                None => (entry, None),
            };
            // An OID names the same system as its canonical URL; the canonical is what is compared.
            let url = model::uris::canonical_for_oid(url).unwrap_or(url);
            self.restricted.push(RestrictedSystem { url: url.to_owned(), licence_scope });
        }
    }

    /// One line for the start-up log: which auth mode the server is in.
    pub fn mode_description(&self) -> String {
        let mut algorithms: Vec<String> = self.keys.iter().map(|key| format!("{:?}", key.algorithm)).collect();
        algorithms.dedup();
        let writes = match (self.keys.is_empty(), self.allow_anonymous_writes) {
            (true, true) => "writes: ANONYMOUS (no token needed; development only)".to_owned(),
            (true, false) => "writes: REFUSED (no token key configured; set FHIRTERM_JWT_* or pass --allow-anonymous-writes)".to_owned(),
            (false, true) => format!("writes: bearer token ({}) or anonymous", algorithms.join(", ")),
            (false, false) => format!("writes: bearer token ({}) with write scopes", algorithms.join(", ")),
        };
        let reads = if self.read_requires_auth { "reads: bearer token with read scopes" } else { "reads: open" };
        let restricted = if self.restricted.is_empty() {
            String::new()
        } else {
            format!("; restricted: {}", self.restricted.iter().map(|system| system.url.as_str()).collect::<Vec<_>>().join(", "))
        };
        format!("{writes}; {reads}{restricted}")
    }

    fn restricted_system(&self, url: &str) -> Option<&RestrictedSystem> {
        let url = url.split('|').next().unwrap_or(url);
        self.restricted.iter().find(|system| system.url == url)
    }
}

/// The caller, as its token names it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`; `None` for an anonymous caller.
    pub sub: Option<String>,
    pub scopes: Vec<String>,
    /// No token: an anonymous write accepted because of `--allow-anonymous-writes`.
    pub anonymous: bool,
}

/// What a request does to a resource type, as SMART v2 letters name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
    Search,
}

impl Action {
    fn letter(self) -> char {
        match self {
            Action::Create => 'c',
            Action::Read => 'r',
            Action::Update => 'u',
            Action::Delete => 'd',
            Action::Search => 's',
        }
    }

    fn v1(self) -> &'static str {
        match self {
            Action::Read | Action::Search => "read",
            _ => "write",
        }
    }
}

/// A parsed SMART scope: context, resource type, permissions and an optional query.
struct Scope<'a> {
    resource_type: &'a str,
    permissions: &'a str,
    query: Option<&'a str>,
}

fn parse_scope(text: &str) -> Option<Scope<'_>> {
    let rest = text.strip_prefix("system/").or_else(|| text.strip_prefix("user/"))?;
    let (resource_part, query) = match rest.split_once('?') {
        Some((resource_part, query)) => (resource_part, Some(query)),
        None => (rest, None),
    };
    let (resource_type, permissions) = resource_part.split_once('.')?;
    Some(Scope { resource_type, permissions, query })
}

fn permits(permissions: &str, action: Action) -> bool {
    match permissions {
        "*" => true,
        "read" | "write" => permissions == action.v1(),
        letters => {
            // SMART v2: a subset of `cruds`, in that order.
            let mut order = "cruds".chars();
            letters.chars().all(|letter| order.by_ref().any(|expected| expected == letter)) && letters.contains(action.letter())
        }
    }
}

impl Principal {
    fn anonymous() -> Principal {
        Principal { sub: None, scopes: Vec::new(), anonymous: true }
    }

    /// Whether a scope without a query grants `action` on `resource_type`.
    pub fn may(&self, resource_type: &str, action: Action) -> bool {
        self.anonymous
            || self.scopes.iter().filter_map(|scope| parse_scope(scope)).any(|scope| {
                scope.query.is_none()
                    && (scope.resource_type == resource_type || scope.resource_type == "*")
                    && permits(scope.permissions, action)
            })
    }

    /// Whether a scope names the restricted system: `…/CodeSystem.read?url=URL` (or `.r`, `.rs`,
    /// `*`), or the system's licence scope.
    fn may_use_system(&self, system: &RestrictedSystem) -> bool {
        self.scopes.iter().any(|text| {
            if system.licence_scope.as_deref() == Some(text.as_str()) {
                return true;
            }
            let Some(scope) = parse_scope(text) else { return false };
            let names_it = scope.query.is_some_and(|query| {
                url::form_urlencoded::parse(query.as_bytes()).any(|(key, value)| key == "url" && value == system.url.as_str())
            });
            names_it && (scope.resource_type == "CodeSystem" || scope.resource_type == "*") && permits(scope.permissions, Action::Read)
        })
    }
}

/// The scope named in a 403, in SMART v1 form with its v2 equivalent.
pub fn scope_needed(resource_type: &str, actions: &[Action]) -> String {
    let v1 = if actions.iter().any(|action| action.v1() == "write") { "write" } else { "read" };
    let mut letters: Vec<char> = actions.iter().map(|action| action.letter()).collect();
    letters.sort_by_key(|letter| "cruds".find(*letter));
    letters.dedup();
    format!("system/{resource_type}.{v1}' (SMART v2: 'system/{resource_type}.{}", letters.into_iter().collect::<String>())
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or_default()
}

fn claim_number(claims: &Json, name: &str) -> Result<Option<u64>, String> {
    match claims.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .or_else(|| value.as_f64().filter(|number| number.is_finite() && *number >= 0.0).map(|number| number as u64))
            .map(Some)
            .ok_or_else(|| format!("the token's '{name}' claim is not a number of seconds")),
    }
}

/// Checks a compact JWS and returns its principal; the error is the reason for a 401.
pub fn validate_token(config: &AuthConfig, token: &str) -> Result<Principal, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 || parts[0].is_empty() || parts[1].is_empty() {
        return Err("malformed token: expected three base64url parts separated by dots".into());
    }
    let header_bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[0].trim_end_matches('='))
        .map_err(|_| "malformed token: the header is not base64url".to_owned())?;
    let raw_header: Json = serde_json::from_slice(&header_bytes).map_err(|_| "malformed token: the header is not JSON".to_owned())?;
    let algorithm_name = raw_header.get("alg").and_then(Json::as_str).unwrap_or_default();
    if algorithm_name.is_empty() {
        return Err("malformed token header: no 'alg'".into());
    }
    if algorithm_name.eq_ignore_ascii_case("none") {
        return Err("unsigned tokens (alg 'none') are refused".into());
    }
    if parts[2].is_empty() {
        return Err("malformed token: the signature is empty".into());
    }
    let header = jsonwebtoken::decode_header(token).map_err(|error| format!("malformed token header: {error}"))?;
    if config.keys.is_empty() {
        return Err("this server has no token key configured, so it cannot accept tokens".into());
    }
    let same_algorithm: Vec<&VerifyingKey> = config.keys.iter().filter(|key| key.algorithm == header.alg).collect();
    if same_algorithm.is_empty() {
        let mut accepted: Vec<String> = config.keys.iter().map(|key| format!("{:?}", key.algorithm)).collect();
        accepted.dedup();
        return Err(format!("algorithm {algorithm_name} is not accepted here (accepted: {})", accepted.join(", ")));
    }
    let candidates: Vec<&VerifyingKey> = same_algorithm
        .iter()
        .copied()
        .filter(|key| match (&header.kid, &key.kid) {
            (Some(wanted), Some(kid)) => wanted == kid,
            _ => true,
        })
        .collect();
    if candidates.is_empty() {
        return Err(format!("no {algorithm_name} key has the kid '{}'", header.kid.unwrap_or_default()));
    }
    // Claims are checked below (see the module doc); jsonwebtoken checks the signature only.
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let mut claims = None;
    for key in candidates {
        match jsonwebtoken::decode::<Json>(token, &key.key, &validation) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(error) => match error.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => continue,
                _ => return Err(format!("invalid token: {error}")),
            },
        }
    }
    let claims = claims.ok_or_else(|| "invalid token: the signature does not verify".to_owned())?;
    if !claims.is_object() {
        return Err("invalid token: the claims are not a JSON object".into());
    }
    let now = now_seconds();
    match claim_number(&claims, "exp")? {
        None => return Err("the token has no 'exp' claim".into()),
        Some(exp) if now > exp + config.leeway_seconds => {
            return Err(format!("the token expired {} seconds ago", now - exp));
        }
        _ => {}
    }
    if let Some(nbf) = claim_number(&claims, "nbf")? {
        if now + config.leeway_seconds < nbf {
            return Err(format!("the token is not valid for another {} seconds (nbf)", nbf - now));
        }
    }
    if let Some(issuer) = &config.issuer {
        let actual = claims.get("iss").and_then(Json::as_str);
        if actual != Some(issuer.as_str()) {
            return Err(format!("the token's issuer {:?} is not the expected '{issuer}'", actual.unwrap_or_default()));
        }
    }
    if let Some(audience) = &config.audience {
        let matches = match claims.get("aud") {
            Some(Json::String(single)) => single == audience,
            Some(Json::Array(many)) => many.iter().any(|item| item.as_str() == Some(audience.as_str())),
            _ => false,
        };
        if !matches {
            return Err(format!("the token's audience does not include '{audience}'"));
        }
    }
    let mut scopes: Vec<String> = Vec::new();
    for name in ["scope", "scp"] {
        match claims.get(name) {
            Some(Json::String(text)) => scopes.extend(text.split_whitespace().map(str::to_owned)),
            Some(Json::Array(items)) => scopes.extend(items.iter().filter_map(Json::as_str).map(str::to_owned)),
            _ => {}
        }
    }
    Ok(Principal { sub: claims.get("sub").and_then(Json::as_str).map(str::to_owned), scopes, anonymous: false })
}

/// The request's principal: `None` without an `Authorization` header, 401 for a bad one.
pub fn authenticate(config: &AuthConfig, request: &HttpRequest) -> Result<Option<Principal>, ApiError> {
    let Some(value) = request.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| ApiError::unauthorized("malformed Authorization header: not ASCII"))?;
    let token = match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => token.trim(),
        _ => return Err(ApiError::unauthorized("malformed Authorization header: expected 'Bearer <token>'")),
    };
    validate_token(config, token).map(Some).map_err(ApiError::unauthorized)
}

/// Allows a write (`actions` on `resource_type`) or refuses it with 401 or 403.
pub fn require_write(config: &AuthConfig, request: &HttpRequest, resource_type: &str, actions: &[Action]) -> Result<Principal, ApiError> {
    let principal = match authenticate(config, request)? {
        Some(principal) => principal,
        None if config.allow_anonymous_writes => return Ok(Principal::anonymous()),
        None if config.keys.is_empty() => {
            return Err(ApiError::forbidden(
                "writes are refused: no token key is configured (FHIRTERM_JWT_HS256_SECRET, FHIRTERM_JWT_PUBLIC_KEY or FHIRTERM_JWT_JWKS) and the server was not started with --allow-anonymous-writes",
            ))
        }
        None => return Err(ApiError::unauthorized("this write needs a bearer token")),
    };
    check_scopes(&principal, resource_type, actions)?;
    Ok(principal)
}

/// Refuses with 403 unless the principal has scopes for every action.
pub fn check_scopes(principal: &Principal, resource_type: &str, actions: &[Action]) -> Result<(), ApiError> {
    if actions.iter().all(|action| principal.may(resource_type, *action)) {
        Ok(())
    } else {
        Err(ApiError::missing_scope(&scope_needed(resource_type, actions)))
    }
}

/// Allows a read or an operation: open unless reads need a token. A token that is sent is
/// checked either way, and its principal returned for the restricted-system check.
pub fn require_read(
    config: &AuthConfig,
    request: &HttpRequest,
    resource_type: &str,
    action: Action,
) -> Result<Option<Principal>, ApiError> {
    read_allowed(config, authenticate(config, request)?, resource_type, action)
}

/// The caller, as an actix extractor: the principal its bearer token names (`None` without a
/// token); a token that does not verify is refused with 401 before the handler runs. The scopes
/// a call needs depend on what it does, so the handler checks them ([`Caller::may_read`]).
pub struct Caller(pub Option<Principal>);

impl actix_web::FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Caller, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let caller = match request.app_data::<actix_web::web::Data<crate::AppState>>() {
            Some(state) => authenticate(&state.config.auth, request).map(Caller),
            None => Err(ApiError::internal("the server's state is not configured for this route")),
        };
        std::future::ready(caller)
    }
}

impl Caller {
    /// As [`require_read`]: the principal, when the caller may do `action` on `resource_type`.
    pub fn may_read(self, config: &AuthConfig, resource_type: &str, action: Action) -> Result<Option<Principal>, ApiError> {
        read_allowed(config, self.0, resource_type, action)
    }
}

fn read_allowed(
    config: &AuthConfig,
    principal: Option<Principal>,
    resource_type: &str,
    action: Action,
) -> Result<Option<Principal>, ApiError> {
    if !config.read_requires_auth {
        return Ok(principal);
    }
    let Some(principal) = principal else {
        return Err(ApiError::unauthorized("reads need a bearer token on this server"));
    };
    check_scopes(&principal, resource_type, &[action])?;
    Ok(Some(principal))
}

/// Why a restricted system is refused: the scope that would unlock it.
fn restricted_message(system: &RestrictedSystem) -> String {
    let mut scope = format!("system/CodeSystem.read?url={}", system.url);
    if let Some(licence_scope) = &system.licence_scope {
        scope = format!("{scope}' or '{licence_scope}");
    }
    format!("{} is a restricted code system: this needs the scope '{scope}'", system.url)
}

/// 401 for a caller without a token, 403 for one whose token lacks the scope.
pub fn refusal(principal: Option<&Principal>, message: String) -> ApiError {
    match principal {
        Some(principal) if !principal.anonymous => ApiError::forbidden(message),
        _ => ApiError::unauthorized(message),
    }
}

/// Refuses when any of `systems` is restricted and the principal has no scope naming it.
pub fn require_systems<'a>(
    config: &AuthConfig,
    principal: Option<&Principal>,
    systems: impl IntoIterator<Item = &'a str>,
) -> Result<(), ApiError> {
    if config.restricted.is_empty() {
        return Ok(());
    }
    for url in systems {
        let Some(system) = config.restricted_system(url) else { continue };
        if principal.is_some_and(|principal| principal.may_use_system(system)) {
            continue;
        }
        return Err(refusal(principal, restricted_message(system)));
    }
    Ok(())
}

/// The restricted systems this principal may not use, for the store to refuse wherever an
/// operation reaches them (directly, by OID, through value sets, imports or concept maps).
pub fn denied_systems(config: &AuthConfig, principal: Option<&Principal>) -> Vec<store::DeniedSystem> {
    config
        .restricted
        .iter()
        .filter(|system| !principal.is_some_and(|principal| principal.may_use_system(system)))
        .map(|system| store::DeniedSystem { url: system.url.clone(), message: restricted_message(system) })
        .collect()
}

/// Whether a restricted system is unlocked for this principal (for search results).
pub fn may_see_system(config: &AuthConfig, principal: Option<&Principal>, url: &str) -> bool {
    match config.restricted_system(url) {
        None => true,
        Some(system) => principal.is_some_and(|principal| principal.may_use_system(system)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_v2_scopes() {
        let principal = |scopes: &[&str]| Principal { sub: None, scopes: scopes.iter().map(|s| s.to_string()).collect(), anonymous: false };
        assert!(principal(&["system/CodeSystem.write"]).may("CodeSystem", Action::Update));
        assert!(!principal(&["system/CodeSystem.write"]).may("CodeSystem", Action::Read));
        assert!(principal(&["system/*.write"]).may("ValueSet", Action::Delete));
        assert!(principal(&["system/CodeSystem.cud"]).may("CodeSystem", Action::Create));
        assert!(principal(&["user/CodeSystem.cruds"]).may("CodeSystem", Action::Search));
        assert!(!principal(&["system/CodeSystem.rs"]).may("CodeSystem", Action::Update));
        assert!(!principal(&["system/CodeSystem.dc"]).may("CodeSystem", Action::Create), "v2 letters must be in order");
        assert!(!principal(&["patient/CodeSystem.write"]).may("CodeSystem", Action::Update));
        assert!(!principal(&["system/CodeSystem.write?url=x"]).may("CodeSystem", Action::Update));
        let cpt = RestrictedSystem { url: "http://www.ama-assn.org/go/cpt".into(), licence_scope: Some("licence/cpt".into()) };
        assert!(principal(&["system/CodeSystem.read?url=http://www.ama-assn.org/go/cpt"]).may_use_system(&cpt));
        assert!(principal(&["system/CodeSystem.rs?url=http://www.ama-assn.org/go/cpt"]).may_use_system(&cpt));
        assert!(principal(&["licence/cpt"]).may_use_system(&cpt));
        assert!(!principal(&["system/CodeSystem.read"]).may_use_system(&cpt));
    }
}
