//! Content negotiation: reading request bodies and writing responses in FHIR JSON or FHIR XML.

use crate::error::ApiError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;
use model::Json;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/fhir+json; charset=utf-8",
            Format::Xml => "application/fhir+xml; charset=utf-8",
        }
    }

    /// Reads a media type or `_format` short form; `None` when it is neither JSON nor XML.
    pub fn parse(text: &str) -> Option<Format> {
        let essence = text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match essence.as_str() {
            "json" | "application/json" | "application/fhir+json" | "application/json+fhir" => Some(Format::Json),
            "xml" | "application/xml" | "application/fhir+xml" | "application/xml+fhir" | "text/xml" => Some(Format::Xml),
            _ => None,
        }
    }
}

fn query_param(request: &HttpRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(request.query_string().as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// The format to answer in: `_format`, else the acceptable `Accept` entry of highest quality,
/// else JSON.
/// The response format as an actix extractor: a handler that takes a `Format` answers in it, and a
/// request whose `_format` or `Accept` names neither JSON nor XML is refused with 406 before the
/// handler runs.
impl actix_web::FromRequest for Format {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Format, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(response_format(request))
    }
}

pub fn response_format(request: &HttpRequest) -> Result<Format, ApiError> {
    if let Some(format) = query_param(request, "_format") {
        return Format::parse(&format).ok_or_else(|| {
            ApiError::new(StatusCode::NOT_ACCEPTABLE, "not-supported", format!("unsupported _format '{format}': use json or xml"))
        });
    }
    let Some(accept) = request.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok()) else {
        return Ok(Format::Json);
    };
    negotiate(accept).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-supported",
            format!("cannot answer in '{accept}': use application/fhir+json or application/fhir+xml"),
        )
    })
}

/// The quality an `Accept` entry gives (RFC 9110 section 12.4.2): `q=` between 0 and 1, 1 when
/// absent; a malformed `q` makes the entry count for nothing.
fn quality(entry: &str) -> f32 {
    for parameter in entry.split(';').skip(1) {
        if let Some((name, value)) = parameter.split_once('=') {
            if name.trim().eq_ignore_ascii_case("q") {
                return match value.trim().parse::<f32>() {
                    Ok(q) if (0.0..=1.0).contains(&q) => q,
                    _ => 0.0,
                };
            }
        }
    }
    1.0
}

/// Chooses a format for an `Accept` header: the FHIR format of highest quality, earlier entries
/// winning ties; a wildcard (or `text/html`, a browser) stands for JSON, or XML when JSON was
/// refused with `q=0`; an empty header stands for JSON. `None` when nothing acceptable is left.
pub fn negotiate(accept: &str) -> Option<Format> {
    let mut entries: Vec<(f32, &str)> = accept
        .split(',')
        .map(|entry| (quality(entry), entry.split(';').next().unwrap_or_default().trim()))
        .filter(|(_, essence)| !essence.is_empty())
        .collect();
    if entries.is_empty() {
        // An empty `Accept` asks for nothing in particular.
        return Some(Format::Json);
    }
    let refused: Vec<Format> = entries.iter().filter(|(q, _)| *q == 0.0).filter_map(|(_, essence)| Format::parse(essence)).collect();
    entries.retain(|(q, _)| *q > 0.0);
    // A stable sort keeps the client's order among entries of equal quality.
    entries.sort_by(|left, right| right.0.total_cmp(&left.0));
    entries.into_iter().find_map(|(_, essence)| match Format::parse(essence) {
        Some(format) => Some(format),
        None if matches!(essence, "*/*" | "application/*" | "text/html") => {
            [Format::Json, Format::Xml].into_iter().find(|format| !refused.contains(format))
        }
        None => None,
    })
}

/// Reads the body up to `limit` bytes; more is a 413.
pub async fn read_body(mut payload: actix_web::web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| ApiError::bad_request(format!("cannot read request body: {error}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-costly",
                format!("request body exceeds the limit of {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses a FHIR resource body in the format its `Content-Type` names.
pub fn parse_resource(request: &HttpRequest, body: &[u8]) -> Result<Json, ApiError> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("application/fhir+json");
    let format = Format::parse(content_type).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            format!("unsupported Content-Type '{content_type}': use application/fhir+json or application/fhir+xml"),
        )
    })?;
    let text = std::str::from_utf8(body).map_err(|error| ApiError::structure(format!("request body is not UTF-8: {error}")))?;
    let resource = match format {
        Format::Json => serde_json::from_str::<Json>(text.trim_start_matches('\u{feff}'))
            .map_err(|error| ApiError::structure(format!("malformed JSON at line {}, column {}: {error}", error.line(), error.column())))?,
        Format::Xml => model::fhir::xml::xml_to_json(text).map_err(|error| ApiError::structure(error.to_string()))?,
    };
    if !resource.is_object() || model::fhir::str_of(&resource, "resourceType").is_none() {
        return Err(ApiError::structure("the body is not a FHIR resource: it has no resourceType"));
    }
    Ok(resource)
}

/// Answers a typed resource: JSON is written straight from it, XML goes through its JSON value.
pub fn respond_typed<T: serde::Serialize>(status: StatusCode, resource: &T, format: Format) -> HttpResponse {
    match format {
        Format::Json => match serde_json::to_vec(resource) {
            Ok(body) => HttpResponse::build(status).content_type(format.media_type()).body(body),
            Err(error) => render_failure("JSON", error),
        },
        Format::Xml => respond(status, &model::fhir::render::to_json(resource), format),
    }
}

/// How many bytes a streamed answer writes before it hands them to the body.
const STREAM_CHUNK_BYTES: usize = 64 * 1024;

/// How many written chunks may wait for a slow reader before the writer waits too: a streamed
/// answer holds at most this many chunks, whatever its size.
const STREAM_CHUNKS_WAITING: usize = 4;

/// Answers a large typed resource: its JSON is written on the blocking pool, in chunks that go
/// to the body as they are written, so the answer is never held whole in memory and a reader that
/// goes away stops the writing. XML goes through its JSON value.
pub fn respond_streamed<T: serde::Serialize + Send + 'static>(status: StatusCode, resource: T, format: Format) -> HttpResponse {
    if format == Format::Xml {
        return respond(status, &model::fhir::render::to_json(&resource), format);
    }
    let (sender, receiver) = tokio::sync::mpsc::channel(STREAM_CHUNKS_WAITING);
    tokio::task::spawn_blocking(move || {
        let mut writer = ChunkWriter { chunk: Vec::with_capacity(STREAM_CHUNK_BYTES), sender };
        let written = serde_json::to_writer(&mut writer, &resource).map_err(std::io::Error::from).and_then(|()| writer.send_chunk());
        if let Err(error) = written {
            // Mostly a reader that went away; the body then ends early.
            tracing::debug!(%error, "a streamed answer stopped");
            let _ = writer.sender.blocking_send(Err(error));
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) });
    HttpResponse::build(status).content_type(format.media_type()).streaming(body)
}

/// An `io::Write` that hands what is written to a streamed body, a chunk at a time.
struct ChunkWriter {
    chunk: Vec<u8>,
    sender: tokio::sync::mpsc::Sender<Result<actix_web::web::Bytes, std::io::Error>>,
}

impl ChunkWriter {
    fn send_chunk(&mut self) -> std::io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(STREAM_CHUNK_BYTES));
        self.sender
            .blocking_send(Ok(chunk.into()))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the reader of the answer went away"))
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.chunk.extend_from_slice(bytes);
        if self.chunk.len() >= STREAM_CHUNK_BYTES {
            self.send_chunk()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send_chunk()
    }
}

/// Writes a resource in the chosen format.
pub fn respond(status: StatusCode, resource: &Json, format: Format) -> HttpResponse {
    let body = match format {
        Format::Json => resource.to_string(),
        Format::Xml => match model::fhir::xml::json_to_xml(resource) {
            Ok(xml) => xml,
            Err(error) => return render_failure("XML", error),
        },
    };
    HttpResponse::build(status).content_type(format.media_type()).body(body)
}

/// A 500 with an OperationOutcome in JSON (the one format that cannot fail) when an answer
/// cannot be written in the format asked for.
fn render_failure(format_name: &str, error: impl std::fmt::Display) -> HttpResponse {
    let outcome =
        model::fhir::OperationOutcome::single(model::fhir::Issue::error("exception", format!("cannot render {format_name}: {error}")));
    HttpResponse::InternalServerError().content_type(Format::Json.media_type()).body(outcome.to_json().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A streamed answer is the same bytes as one written whole, handed over in several chunks.
    #[actix_web::test]
    async fn a_streamed_answer_arrives_in_chunks_and_whole() {
        use actix_web::body::{BodySize, MessageBody};
        let entries: Vec<String> = (0..20_000).map(|n| format!("entry number {n}")).collect();
        let mut body = respond_streamed(StatusCode::OK, entries.clone(), Format::Json).into_body();
        assert_eq!(body.size(), BodySize::Stream);
        let (mut written, mut n_chunks) = (Vec::new(), 0);
        while let Some(chunk) = futures_util::future::poll_fn(|context| std::pin::Pin::new(&mut body).poll_next(context)).await {
            written.extend_from_slice(&chunk.expect("a chunk"));
            n_chunks += 1;
        }
        assert_eq!(written, serde_json::to_vec(&entries).unwrap());
        assert!(n_chunks > 1, "{n_chunks} chunk(s)");
    }

    #[test]
    fn the_highest_quality_fhir_format_wins() {
        assert_eq!(negotiate("application/fhir+json;q=0.5, application/fhir+xml;q=0.9"), Some(Format::Xml));
        assert_eq!(negotiate("application/fhir+xml;q=0.1, application/fhir+json"), Some(Format::Json));
        assert_eq!(negotiate("text/plain, application/fhir+xml; q=0.2"), Some(Format::Xml));
        assert_eq!(negotiate("application/fhir+json; fhirVersion=4.0; q=0.8, application/xml;q=0.8"), Some(Format::Json));
    }

    #[test]
    fn ties_keep_the_clients_order() {
        assert_eq!(negotiate("application/xml, application/json"), Some(Format::Xml));
        assert_eq!(negotiate("application/json;q=0.7, application/xml;q=0.7"), Some(Format::Json));
    }

    #[test]
    fn wildcards_answer_json_unless_json_is_refused() {
        assert_eq!(negotiate("*/*"), Some(Format::Json));
        assert_eq!(negotiate("text/html,application/xhtml+xml,*/*;q=0.8"), Some(Format::Json));
        assert_eq!(negotiate("application/fhir+json;q=0, */*;q=0.1"), Some(Format::Xml));
        assert_eq!(negotiate("application/*;q=0.3, application/fhir+xml;q=0.4"), Some(Format::Xml));
    }

    #[test]
    fn an_empty_header_answers_json() {
        assert_eq!(negotiate(""), Some(Format::Json));
        assert_eq!(negotiate(" , "), Some(Format::Json));
    }

    #[test]
    fn nothing_acceptable_is_none() {
        assert_eq!(negotiate("text/plain"), None);
        assert_eq!(negotiate("application/fhir+json;q=0"), None);
        assert_eq!(negotiate("application/fhir+json;q=high"), None);
        assert_eq!(negotiate("application/fhir+xml;q=1.5"), None);
    }
}
