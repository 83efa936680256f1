//! Persistence of resources: one row per resource, and for a CodeSystem one row per concept,
//! designation and property (the is-a graph is worked out from them when a code system is
//! indexed, by `index`). Every write is one transaction.

use crate::db::{with_conn, Database};
use crate::schema::{concept_map_elements, concept_properties, concepts, current_versions, designations, generation, resources};
use crate::{StoreError, StoreErrorKind};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;
use model::fhir::{array_of, str_of};
use model::terminology::{CodeSystem, Concept, ConceptProperty, Designation, PropertyValue};
use model::Json;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// Rows per multi-row INSERT of a release's rows on SQLite. Every full batch has the same shape
/// (a `&[Row; SQLITE_ROWS_PER_BATCH]` has a static query id in diesel), so each connection
/// prepares its statement once and reuses it for the whole load; only the last, shorter batch of
/// each table is prepared on its own. 7 columns × 256 rows stays far below SQLite's 32,766 bound
/// parameters per statement.
const SQLITE_ROWS_PER_BATCH: usize = 256;
/// Rows per `COPY … FROM STDIN (FORMAT binary)` of a release's rows on PostgreSQL: one round trip
/// and no statement to plan per batch, with a bounded buffer of rows in memory.
const POSTGRES_ROWS_PER_COPY: usize = 16_384;
/// Rows per statement elsewhere (concept map elements): each such statement is prepared anew.
const INSERT_CHUNK: usize = 4000;

#[derive(Insertable)]
#[diesel(table_name = resources)]
#[diesel(treat_none_as_default_value = false)]
struct NewResource<'a> {
    resource_type: &'a str,
    id: &'a str,
    url: Option<&'a str>,
    version: Option<&'a str>,
    name: Option<&'a str>,
    title: Option<&'a str>,
    status: Option<&'a str>,
    version_id: i64,
    last_updated: &'a str,
    json: &'a str,
    write_key: &'a str,
}

/// A concept row as read back (in ordinal order, so the ordinal itself is not read).
#[derive(Queryable)]
struct ConceptRow {
    code: String,
    display: Option<String>,
    definition: Option<String>,
    nest_parent: Option<i32>,
    extra: Option<String>,
}

/// A designation row as read back (in order).
#[derive(Queryable)]
struct DesignationRow {
    concept_ordinal: i32,
    language: Option<String>,
    use_coding: Option<String>,
    value: String,
    extra: Option<String>,
}

/// A property row as read back (in order).
#[derive(Queryable)]
struct PropertyRow {
    concept_ordinal: i32,
    code: String,
    value_key: String,
    value: String,
    extra: Option<String>,
}

/// A concept row to write, borrowing the typed concept's text.
#[derive(Insertable)]
#[diesel(table_name = concepts)]
#[diesel(treat_none_as_default_value = false)]
struct NewConceptRow<'a> {
    resource_pk: i64,
    ordinal: i32,
    code: &'a str,
    display: Option<&'a str>,
    definition: Option<&'a str>,
    nest_parent: Option<i32>,
    extra: Option<String>,
}

/// A designation row to write; `use_coding` is the text of a shared use, written out once per use.
#[derive(Insertable)]
#[diesel(table_name = designations)]
#[diesel(treat_none_as_default_value = false)]
struct NewDesignationRow<'a> {
    resource_pk: i64,
    concept_ordinal: i32,
    ordinal: i32,
    language: Option<&'a str>,
    use_coding: Option<&'a str>,
    value: &'a str,
    extra: Option<String>,
}

/// A property row to write: the value as JSON text, written straight from the typed value.
#[derive(Insertable)]
#[diesel(table_name = concept_properties)]
#[diesel(treat_none_as_default_value = false)]
struct NewPropertyRow<'a> {
    resource_pk: i64,
    concept_ordinal: i32,
    ordinal: i32,
    code: &'a str,
    value_key: &'a str,
    value: Cow<'a, str>,
    extra: Option<String>,
}

/// A row SQLite takes through [`SqliteRowsInsert`]: its table's INSERT up to `VALUES`, and its
/// values as bound parameters in the same column order.
trait SqliteRow {
    const INSERT_INTO: &'static str;
    fn push_values<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()>;
}

impl SqliteRow for NewConceptRow<'_> {
    const INSERT_INTO: &'static str = "INSERT INTO concepts (resource_pk, ordinal, code, display, definition, nest_parent, extra) VALUES ";
    fn push_values<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_bind_param::<BigInt, _>(&self.resource_pk)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&self.ordinal)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.code)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.display)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.definition)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Integer>, _>(&self.nest_parent)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.extra)
    }
}

impl SqliteRow for NewDesignationRow<'_> {
    const INSERT_INTO: &'static str =
        "INSERT INTO designations (resource_pk, concept_ordinal, ordinal, language, use_coding, value, extra) VALUES ";
    fn push_values<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_bind_param::<BigInt, _>(&self.resource_pk)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&self.concept_ordinal)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&self.ordinal)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.language)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.use_coding)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.value)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.extra)
    }
}

impl SqliteRow for NewPropertyRow<'_> {
    const INSERT_INTO: &'static str =
        "INSERT INTO concept_properties (resource_pk, concept_ordinal, ordinal, code, value_key, value, extra) VALUES ";
    fn push_values<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_bind_param::<BigInt, _>(&self.resource_pk)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&self.concept_ordinal)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&self.ordinal)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.code)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.value_key)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&*self.value)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.extra)
    }
}

/// One multi-row INSERT of borrowed rows on SQLite. diesel's own batch insert is prepared once
/// only for rows of a `'static` type (the rows' type is the statement's cache key), which would
/// mean copying every code and display; this statement's cache key is the table's marker type, and
/// only a full batch of [`SQLITE_ROWS_PER_BATCH`] rows (always the same SQL) is cached.
struct SqliteRowsInsert<'r, Row, Marker> {
    rows: &'r [Row],
    marker: std::marker::PhantomData<Marker>,
}

impl<Row, Marker: 'static> QueryId for SqliteRowsInsert<'_, Row, Marker> {
    type QueryId = Marker;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Row: SqliteRow, Marker> QueryFragment<Sqlite> for SqliteRowsInsert<'_, Row, Marker> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        if self.rows.len() != SQLITE_ROWS_PER_BATCH {
            out.unsafe_to_cache_prepared();
        }
        out.push_sql(Row::INSERT_INTO);
        for (idx, row) in self.rows.iter().enumerate() {
            out.push_sql(if idx == 0 { "(" } else { ", (" });
            row.push_values(&mut out)?;
            out.push_sql(")");
        }
        Ok(())
    }
}

impl<Row, Marker> RunQueryDsl<diesel::SqliteConnection> for SqliteRowsInsert<'_, Row, Marker> {}

#[derive(Insertable)]
#[diesel(table_name = concept_map_elements)]
#[diesel(treat_none_as_default_value = false)]
struct MapElementRow {
    resource_pk: i64,
    ordinal: i32,
    source_system: Option<String>,
    source_code: String,
    target_system: Option<String>,
    target_code: Option<String>,
    equivalence: Option<String>,
}

/// The search columns of one stored resource.
#[derive(Queryable, Clone, Debug)]
pub struct ResourceHeader {
    pub pk: i64,
    pub id: String,
    pub url: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    /// When the resource was last written (RFC 3339).
    pub last_updated: String,
}

fn to_text(value: Option<&Json>) -> Option<String> {
    value.map(|value| value.to_string())
}

fn from_text(text: Option<String>) -> Result<Option<Json>, StoreError> {
    text.map(|text| {
        serde_json::from_str(&text).map_err(|error| StoreError::new(StoreErrorKind::Database, format!("corrupt JSON column: {error}")))
    })
    .transpose()
}

/// The designation uses read so far, by their stored text: a release has a handful of distinct
/// uses across millions of designations, and each is parsed and held once.
#[derive(Default)]
struct SharedUses(HashMap<String, Arc<Json>>);

impl SharedUses {
    fn intern(&mut self, text: Option<String>) -> Result<Option<Arc<Json>>, StoreError> {
        let Some(text) = text else { return Ok(None) };
        if let Some(shared) = self.0.get(&text) {
            return Ok(Some(Arc::clone(shared)));
        }
        let Some(parsed) = from_text(Some(text.clone()))? else { return Ok(None) };
        let shared = Arc::new(parsed);
        self.0.insert(text, Arc::clone(&shared));
        Ok(Some(shared))
    }
}

macro_rules! delete_children {
    ($conn:expr, $pk:expr) => {
        diesel::delete(concepts::table.filter(concepts::resource_pk.eq($pk))).execute($conn)?;
        diesel::delete(designations::table.filter(designations::resource_pk.eq($pk))).execute($conn)?;
        diesel::delete(concept_properties::table.filter(concept_properties::resource_pk.eq($pk))).execute($conn)?;
        diesel::delete(concept_map_elements::table.filter(concept_map_elements::resource_pk.eq($pk))).execute($conn)?;
    };
}

macro_rules! insert_chunked {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(INSERT_CHUNK) {
            diesel::insert_into($table).values(chunk).execute($conn)?;
        }
    };
}

/// The JSON text of each distinct designation use of a code system, by the address of its
/// shared value: a release has a handful of uses across its designations, each written out once.
fn use_texts(code_system: &CodeSystem) -> HashMap<*const Json, String> {
    let mut texts = HashMap::new();
    for concept in &code_system.concepts {
        for designation in &concept.designations {
            if let Some(shared) = &designation.use_coding {
                texts.entry(Arc::as_ptr(shared)).or_insert_with(|| shared.to_string());
            }
        }
    }
    texts
}

/// A property value as the JSON text its row keeps, written from the typed value (no JSON tree
/// in between); booleans, the most common value of some releases, need no allocation at all.
fn property_value_text(value: &PropertyValue) -> Cow<'_, str> {
    match value {
        PropertyValue::Boolean(true) => Cow::Borrowed("true"),
        PropertyValue::Boolean(false) => Cow::Borrowed("false"),
        value => Cow::Owned(serde_json::to_string(value).expect("a property value serialises")),
    }
}

/// How a backend writes a batch of a release's rows of one table, and how many it gathers first.
trait BatchWrite<Row> {
    const ROWS_PER_BATCH: usize;
    fn write_batch(&mut self, rows: &[Row]) -> Result<(), StoreError>;
}

/// SQLite: a multi-row INSERT, prepared once for full batches; PostgreSQL: binary `COPY`.
macro_rules! batch_write {
    ($row:ident, $table:ident) => {
        impl<'a> BatchWrite<$row<'a>> for diesel::SqliteConnection {
            const ROWS_PER_BATCH: usize = SQLITE_ROWS_PER_BATCH;
            fn write_batch(&mut self, rows: &[$row<'a>]) -> Result<(), StoreError> {
                SqliteRowsInsert::<_, $table::table> { rows, marker: std::marker::PhantomData }.execute(self)?;
                Ok(())
            }
        }

        impl<'a> BatchWrite<$row<'a>> for diesel::PgConnection {
            const ROWS_PER_BATCH: usize = POSTGRES_ROWS_PER_COPY;
            fn write_batch(&mut self, rows: &[$row<'a>]) -> Result<(), StoreError> {
                diesel::copy_from($table::table).from_insertable(rows).execute(self)?;
                Ok(())
            }
        }
    };
}
batch_write!(NewConceptRow, concepts);
batch_write!(NewDesignationRow, designations);
batch_write!(NewPropertyRow, concept_properties);

/// Rows of one table gathered until a batch is full.
struct Batch<Row>(Vec<Row>);

impl<Row> Batch<Row> {
    fn new<C: BatchWrite<Row>>() -> Batch<Row> {
        Batch(Vec::with_capacity(C::ROWS_PER_BATCH))
    }

    fn push<C: BatchWrite<Row>>(&mut self, conn: &mut C, row: Row) -> Result<(), StoreError> {
        self.0.push(row);
        if self.0.len() == C::ROWS_PER_BATCH {
            self.flush(conn)?;
        }
        Ok(())
    }

    fn flush<C: BatchWrite<Row>>(&mut self, conn: &mut C) -> Result<(), StoreError> {
        if !self.0.is_empty() {
            conn.write_batch(&self.0)?;
            self.0.clear();
        }
        Ok(())
    }
}

/// Writes a CodeSystem's concept, designation and property rows under `pk` in batches (see
/// [`BatchWrite`]), straight from the typed concepts: each value is written as the text its
/// column keeps, with no JSON value in between. Answers how many rows it wrote.
fn write_concept_rows<C>(conn: &mut C, pk: i64, code_system: &CodeSystem) -> Result<usize, StoreError>
where
    C: for<'a> BatchWrite<NewConceptRow<'a>> + for<'a> BatchWrite<NewDesignationRow<'a>> + for<'a> BatchWrite<NewPropertyRow<'a>>,
{
    let use_texts = use_texts(code_system);
    let mut concept_batch = Batch::new::<C>();
    let mut designation_batch = Batch::new::<C>();
    let mut property_batch = Batch::new::<C>();
    let mut n_rows = 0;
    for (idx, concept) in code_system.concepts.iter().enumerate() {
        let ordinal = idx as i32;
        let row = NewConceptRow {
            resource_pk: pk,
            ordinal,
            code: &concept.code,
            display: concept.display.as_deref(),
            definition: concept.definition.as_deref(),
            nest_parent: concept.nest_parent.map(|parent| parent as i32),
            extra: to_text(concept.extra.as_deref()),
        };
        concept_batch.push(conn, row)?;
        for (designation_idx, designation) in concept.designations.iter().enumerate() {
            let row = NewDesignationRow {
                resource_pk: pk,
                concept_ordinal: ordinal,
                ordinal: designation_idx as i32,
                language: designation.language.as_deref(),
                use_coding: designation.use_coding.as_ref().map(|shared| use_texts[&Arc::as_ptr(shared)].as_str()),
                value: &designation.value,
                extra: to_text(designation.extra.as_deref()),
            };
            designation_batch.push(conn, row)?;
        }
        for (property_idx, property) in concept.properties.iter().enumerate() {
            let row = NewPropertyRow {
                resource_pk: pk,
                concept_ordinal: ordinal,
                ordinal: property_idx as i32,
                code: &property.code,
                value_key: property.value_key(),
                value: property_value_text(&property.value),
                extra: to_text(property.extra.as_deref()),
            };
            property_batch.push(conn, row)?;
        }
        n_rows += 1 + concept.designations.len() + concept.properties.len();
    }
    concept_batch.flush(conn)?;
    designation_batch.flush(conn)?;
    property_batch.flush(conn)?;
    Ok(n_rows)
}

/// What a write produced: the stored resource (`null` unless [`PutItem::answer_resource`]) and
/// whether it was new.
pub struct Written {
    pub resource: Json,
    pub created: bool,
}

/// One resource to store under `resource_type/id`.
pub struct PutItem<'a> {
    pub resource_type: &'a str,
    pub id: &'a str,
    pub resource: &'a Json,
    pub code_system: Option<&'a CodeSystem>,
    /// The version the caller last saw (`If-Match`): the write happens only if it is current.
    pub expected_version: Option<i64>,
    /// Whether [`Written::resource`] is wanted; when not, it is `null`.
    pub answer_resource: bool,
    /// A fresh random key for this write (see `migrations/*/…_write_key`): what keys the saved
    /// index file of a CodeSystem.
    pub write_key: &'a str,
}

/// Refuses a write when the stored version is not the one the caller expects.
fn check_expected_version(resource_type: &str, id: &str, current: Option<i64>, expected: Option<i64>) -> Result<(), StoreError> {
    match (expected, current) {
        (None, _) => Ok(()),
        (Some(expected), None) => Err(StoreError::precondition_failed(format!(
            "{resource_type}/{id} does not exist, so it is not at version {expected} (If-Match)"
        ))),
        (Some(expected), Some(current)) if expected != current => Err(StoreError::precondition_failed(format!(
            "{resource_type}/{id} is at version {current}, not {expected} (If-Match); read it again and retry"
        ))),
        _ => Ok(()),
    }
}

/// The types whose url and version name one stored resource: a write that would give a second id
/// the url and version of a stored one is refused. ConceptMap is left out on purpose: HL7's own
/// tx-tests store two ConceptMaps with one url and version (`translate/ConceptMap-full.json` and
/// `ConceptMap-novs.json`), and `$translate` tells them apart by the value sets they map between.
pub const UNIQUE_CANONICAL_TYPES: &[&str] = &["CodeSystem", "ValueSet"];

/// The refusal of a second resource with a stored url and version.
fn canonical_clash(resource_type: &str, id: &str, url: &str, version: Option<&str>, other_id: &str) -> StoreError {
    let version_text = match version {
        Some(version) => format!("version '{version}'"),
        None => "no version".to_owned(),
    };
    StoreError::with_issue(
        StoreErrorKind::Unprocessable,
        model::fhir::Issue::error(
            "duplicate",
            format!(
                "{resource_type}/{other_id} already has url '{url}' and {version_text}; \
                 {resource_type}/{id} may not have them too (update {resource_type}/{other_id} or change the version)"
            ),
        ),
    )
}

/// Stores resources, each replacing any earlier one with the same type and id, all in one
/// transaction: either every one is stored or none is.
/// Writes every item in one transaction. `finish_job` is the end of the upload job these items
/// came from, written in the same transaction, so that a job is never found unfinished (and
/// called failed after a restart) once its content is committed. Answers the write counter as
/// this transaction left it.
pub fn put_all(
    database: &Database,
    items: &[PutItem<'_>],
    make_current: &[(String, String)],
    finish_job: Option<(&str, &crate::jobs::JobChanges)>,
) -> Result<(Vec<Written>, i64), StoreError> {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut phases = crate::timing::Phases::start();
    let bulk = items.iter().any(|item| item.code_system.is_some_and(|code_system| code_system.concepts.len() >= BULK_WRITE_CONCEPTS));
    let outcome = with_conn!(database, |conn| {
        if bulk {
            conn.start_bulk_write()?;
        }
        let outcome = conn.transaction::<(Vec<Written>, i64), StoreError, _>(|conn| {
            let mut written = Vec::with_capacity(items.len());
            for item in items {
                let PutItem { resource_type, id, resource, code_system, expected_version, answer_resource, write_key } = *item;
                let mut shell = match code_system {
                    Some(code_system) => code_system.resource.clone(),
                    None => resource.clone(),
                };
                shell["id"] = Json::String(id.to_owned());
                let existing: Option<(i64, i64)> = resources::table
                    .filter(resources::resource_type.eq(resource_type))
                    .filter(resources::id.eq(id))
                    .select((resources::pk, resources::version_id))
                    .first(conn)
                    .optional()?;
                check_expected_version(resource_type, id, existing.map(|(_, version_id)| version_id), expected_version)?;
                let url = str_of(&shell, "url").filter(|_| UNIQUE_CANONICAL_TYPES.contains(&resource_type));
                if let Some(url) = url {
                    let version = str_of(&shell, "version");
                    let same_canonical = resources::table
                        .filter(resources::resource_type.eq(resource_type))
                        .filter(resources::url.eq(url))
                        .filter(resources::id.ne(id))
                        .select(resources::id)
                        .into_boxed();
                    let same_canonical = match version {
                        Some(version) => same_canonical.filter(resources::version.eq(version)),
                        None => same_canonical.filter(resources::version.is_null()),
                    };
                    if let Some(other_id) = same_canonical.first::<String>(conn).optional()? {
                        return Err(canonical_clash(resource_type, id, url, version, &other_id));
                    }
                }
                let version_id = existing.map(|(_, version_id)| version_id + 1).unwrap_or(1);
                let mut meta = shell.get("meta").cloned().filter(Json::is_object).unwrap_or_else(|| serde_json::json!({}));
                meta["versionId"] = Json::String(version_id.to_string());
                meta["lastUpdated"] = Json::String(now.clone());
                shell["meta"] = meta;
                let json_text = shell.to_string();
                if let Some((pk, _)) = existing {
                    delete_children!(conn, pk);
                    diesel::delete(resources::table.filter(resources::pk.eq(pk))).execute(conn)?;
                }
                diesel::insert_into(resources::table)
                    .values(NewResource {
                        resource_type,
                        id,
                        url: str_of(&shell, "url"),
                        version: str_of(&shell, "version"),
                        name: str_of(&shell, "name"),
                        title: str_of(&shell, "title"),
                        status: str_of(&shell, "status"),
                        version_id,
                        last_updated: &now,
                        json: &json_text,
                        write_key,
                    })
                    .execute(conn)?;
                let pk: i64 = resources::table
                    .filter(resources::resource_type.eq(resource_type))
                    .filter(resources::id.eq(id))
                    .select(resources::pk)
                    .first(conn)?;
                phases.lap("resource row", 1);
                if let Some(code_system) = code_system {
                    let n_rows = write_concept_rows(conn, pk, code_system)?;
                    phases.lap("concept, designation and property rows", n_rows);
                }
                if resource_type == "ConceptMap" {
                    let rows = concept_map_rows(pk, resource);
                    insert_chunked!(conn, concept_map_elements::table, rows);
                }
                let stored = if answer_resource {
                    let mut stored = match code_system {
                        Some(code_system) => code_system.to_json(),
                        None => resource.clone(),
                    };
                    stored["id"] = Json::String(id.to_owned());
                    stored["meta"] = shell["meta"].clone();
                    stored
                } else {
                    Json::Null
                };
                written.push(Written { resource: stored, created: existing.is_none() });
            }
            conn.bump_generation()?;
            for (url, version) in make_current {
                diesel::delete(current_versions::table.filter(current_versions::url.eq(url))).execute(conn)?;
                diesel::insert_into(current_versions::table)
                    .values((current_versions::url.eq(url), current_versions::version.eq(version)))
                    .execute(conn)?;
            }
            let generation_after: i64 = generation::table.select(generation::value).first(conn)?;
            if let Some((job_id, changes)) = finish_job {
                diesel::update(crate::schema::jobs::table.find(job_id)).set(changes).execute(conn)?;
            }
            phases.lap("counters and marks", make_current.len());
            Ok((written, generation_after))
        });
        // The connection goes back to the pool as it was, whether the write succeeded or not; the
        // outcome is the transaction's, since a committed write must be published even if this fails.
        if bulk {
            if let Err(error) = conn.end_bulk_write() {
                tracing::warn!(%error, "cannot restore the connection's settings after a bulk write");
            }
        }
        outcome
    });
    phases.lap("commit", 0);
    outcome
}

/// A write storing a code system of at least this many concepts is a bulk write.
const BULK_WRITE_CONCEPTS: usize = 10_000;

/// What a connection changes for the length of a bulk write (a release's rows), and back.
trait BulkWrite {
    fn start_bulk_write(&mut self) -> Result<(), StoreError>;
    fn end_bulk_write(&mut self) -> Result<(), StoreError>;
}

/// SQLite's page cache while a release is written, in KiB: with the default 2 MB, the rows'
/// pages were spilled to the write-ahead log and faulted in again all through the transaction.
/// Durability and atomicity are unchanged (same journal, same synchronous setting); the cache is
/// memory, given back when the write ends. 64 MB holds all of ICD-10-CM's pages; 256 MB stored
/// SNOMED CT (synthetic, full size) no faster within the noise, for 200 MB more peak memory.
const SQLITE_BULK_CACHE_KIB: i64 = 64 * 1024;
/// SQLite's own default page cache (`PRAGMA cache_size = -2000`), which connections use otherwise.
const SQLITE_DEFAULT_CACHE_KIB: i64 = 2000;

impl BulkWrite for diesel::SqliteConnection {
    fn start_bulk_write(&mut self) -> Result<(), StoreError> {
        diesel::connection::SimpleConnection::batch_execute(self, &format!("PRAGMA cache_size = -{SQLITE_BULK_CACHE_KIB}"))?;
        Ok(())
    }

    fn end_bulk_write(&mut self) -> Result<(), StoreError> {
        diesel::connection::SimpleConnection::batch_execute(self, &format!("PRAGMA cache_size = -{SQLITE_DEFAULT_CACHE_KIB}"))?;
        Ok(())
    }
}

impl BulkWrite for diesel::PgConnection {
    fn start_bulk_write(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn end_bulk_write(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn concept_map_rows(pk: i64, resource: &Json) -> Vec<MapElementRow> {
    let mut rows = Vec::new();
    for group in array_of(resource, "group") {
        for element in array_of(group, "element") {
            let Some(source_code) = str_of(element, "code") else {
                continue;
            };
            let targets = array_of(element, "target");
            let entries: Vec<(Option<&str>, Option<&str>)> = if targets.is_empty() {
                vec![(None, None)]
            } else {
                targets.iter().map(|target| (str_of(target, "code"), str_of(target, "equivalence"))).collect()
            };
            for (target_code, equivalence) in entries {
                rows.push(MapElementRow {
                    resource_pk: pk,
                    ordinal: rows.len() as i32,
                    source_system: str_of(group, "source").map(str::to_owned),
                    source_code: source_code.to_owned(),
                    target_system: str_of(group, "target").map(str::to_owned),
                    target_code: target_code.map(str::to_owned),
                    equivalence: equivalence.map(str::to_owned),
                });
            }
        }
    }
    rows
}

/// Deletes `resource_type/id` and everything stored under it; false when there was nothing.
/// With `expected_version` (`If-Match`), only when that is the stored version.
pub fn delete(database: &Database, resource_type: &str, id: &str, expected_version: Option<i64>) -> Result<bool, StoreError> {
    with_conn!(database, |conn| {
        conn.transaction::<bool, StoreError, _>(|conn| {
            let existing: Option<(i64, i64)> = resources::table
                .filter(resources::resource_type.eq(resource_type))
                .filter(resources::id.eq(id))
                .select((resources::pk, resources::version_id))
                .first(conn)
                .optional()?;
            if existing.is_some() {
                check_expected_version(resource_type, id, existing.map(|(_, version_id)| version_id), expected_version)?;
            }
            let Some((pk, _)) = existing else { return Ok(false) };
            delete_children!(conn, pk);
            diesel::delete(resources::table.filter(resources::pk.eq(pk))).execute(conn)?;
            conn.bump_generation()?;
            Ok(true)
        })
    })
}

/// The current version of each code system that has one set, by canonical URL.
pub fn current_versions(database: &Database) -> Result<HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> = with_conn!(database, |conn| Ok::<_, StoreError>(
        current_versions::table.select((current_versions::url, current_versions::version)).load(conn)?
    ))?;
    Ok(rows.into_iter().collect())
}

/// The write counter; it changes whenever any resource changes.
pub fn generation(database: &Database) -> Result<i64, StoreError> {
    with_conn!(database, |conn| Ok(generation::table.select(generation::value).first::<i64>(conn)?))
}

/// The channel every write notifies on PostgreSQL, so that replicas rebuild within a moment.
pub const CHANGES_CHANNEL: &str = "fhirterm_changes";

/// Bumping the write counter, the one thing every write does inside its transaction.
pub(crate) trait BumpGeneration {
    fn bump_generation(&mut self) -> Result<(), StoreError>;
}

impl BumpGeneration for diesel::SqliteConnection {
    fn bump_generation(&mut self) -> Result<(), StoreError> {
        diesel::update(generation::table.filter(generation::id.eq(1))).set(generation::value.eq(generation::value + 1)).execute(self)?;
        Ok(())
    }
}

impl BumpGeneration for diesel::PgConnection {
    /// Also sends `NOTIFY`, which PostgreSQL delivers to every listener when the transaction
    /// commits (and never when it rolls back).
    fn bump_generation(&mut self) -> Result<(), StoreError> {
        diesel::update(generation::table.filter(generation::id.eq(1))).set(generation::value.eq(generation::value + 1)).execute(self)?;
        diesel::connection::SimpleConnection::batch_execute(self, &format!("NOTIFY {CHANGES_CHANNEL}"))?;
        Ok(())
    }
}

/// The search columns of every resource of a type, in id order.
pub fn headers(database: &Database, resource_type: &str) -> Result<Vec<ResourceHeader>, StoreError> {
    with_conn!(database, |conn| {
        Ok(resources::table
            .filter(resources::resource_type.eq(resource_type))
            .select((
                resources::pk,
                resources::id,
                resources::url,
                resources::version,
                resources::name,
                resources::title,
                resources::status,
                resources::last_updated,
            ))
            .order(resources::id.asc())
            .load::<ResourceHeader>(conn)?)
    })
}

/// The pk of `resource_type/id`, when stored.
pub fn find_pk(database: &Database, resource_type: &str, id: &str) -> Result<Option<i64>, StoreError> {
    with_conn!(database, |conn| {
        Ok(resources::table
            .filter(resources::resource_type.eq(resource_type))
            .filter(resources::id.eq(id))
            .select(resources::pk)
            .first::<i64>(conn)
            .optional()?)
    })
}

/// Reads one stored resource whole; a CodeSystem gets its concepts back from their rows.
pub fn read(database: &Database, pk: i64) -> Result<Json, StoreError> {
    let (resource_type, json_text): (String, String) = with_conn!(database, |conn| resources::table
        .filter(resources::pk.eq(pk))
        .select((resources::resource_type, resources::json))
        .first(conn)?);
    let resource: Json = serde_json::from_str(&json_text)
        .map_err(|error| StoreError::new(StoreErrorKind::Database, format!("corrupt resource row {pk}: {error}")))?;
    if resource_type != "CodeSystem" {
        return Ok(resource);
    }
    Ok(read_code_system(database, pk, resource)?.to_json())
}

/// Reads one stored resource without a CodeSystem's concept rows.
pub fn read_shell(database: &Database, pk: i64) -> Result<Json, StoreError> {
    let json_text: String =
        with_conn!(database, |conn| resources::table.filter(resources::pk.eq(pk)).select(resources::json).first(conn)?);
    serde_json::from_str(&json_text)
        .map_err(|error| StoreError::new(StoreErrorKind::Database, format!("corrupt resource row {pk}: {error}")))
}

/// Rebuilds the typed CodeSystem stored under `pk` from its header and concept rows. The rows
/// are streamed into the concepts, never held all at once beside them.
pub fn read_code_system(database: &Database, pk: i64, header: Json) -> Result<CodeSystem, StoreError> {
    use diesel::connection::DefaultLoadingMode;
    let mut code_system = CodeSystem::from_json(&header)
        .map_err(|error| StoreError::new(StoreErrorKind::Database, format!("corrupt CodeSystem row {pk}: {error}")))?;
    let mut built: Vec<Concept> = Vec::new();
    let mut shared_uses = SharedUses::default();
    let mut property_codes = model::name::Names::default();
    let mut languages = model::name::Names::default();
    with_conn!(database, |conn| {
        let concept_rows = concepts::table
            .filter(concepts::resource_pk.eq(pk))
            .order(concepts::ordinal.asc())
            .select((concepts::code, concepts::display, concepts::definition, concepts::nest_parent, concepts::extra))
            .load_iter::<ConceptRow, DefaultLoadingMode>(conn)?;
        for row in concept_rows {
            let row = row?;
            built.push(Concept {
                code: row.code,
                display: row.display,
                definition: row.definition,
                designations: Vec::new(),
                properties: Vec::new(),
                extra: from_text(row.extra)?.map(Box::new),
                nest_parent: row.nest_parent.map(|parent| parent as usize),
            });
        }
        let designation_rows = designations::table
            .filter(designations::resource_pk.eq(pk))
            .order((designations::concept_ordinal.asc(), designations::ordinal.asc()))
            .select((
                designations::concept_ordinal,
                designations::language,
                designations::use_coding,
                designations::value,
                designations::extra,
            ))
            .load_iter::<DesignationRow, DefaultLoadingMode>(conn)?;
        for row in designation_rows {
            let row = row?;
            if let Some(concept) = built.get_mut(row.concept_ordinal as usize) {
                concept.designations.push(Designation {
                    language: row.language.as_deref().map(|language| languages.name(language)),
                    use_coding: shared_uses.intern(row.use_coding)?,
                    value: row.value,
                    extra: from_text(row.extra)?.map(Box::new),
                });
            }
        }
        let property_rows = concept_properties::table
            .filter(concept_properties::resource_pk.eq(pk))
            .order((concept_properties::concept_ordinal.asc(), concept_properties::ordinal.asc()))
            .select((
                concept_properties::concept_ordinal,
                concept_properties::code,
                concept_properties::value_key,
                concept_properties::value,
                concept_properties::extra,
            ))
            .load_iter::<PropertyRow, DefaultLoadingMode>(conn)?;
        for row in property_rows {
            let row = row?;
            if let Some(concept) = built.get_mut(row.concept_ordinal as usize) {
                let corrupt = |error: serde_json::Error| {
                    StoreError::new(StoreErrorKind::Database, format!("corrupt property value {}: {error}", row.value))
                };
                // Text values (most of them) are read straight into their inline form.
                let text = || serde_json::from_str::<model::CompactString>(&row.value).ok();
                let value = match (row.value_key.as_str(), row.value.starts_with('"')) {
                    ("valueCode", true) => text().map(PropertyValue::Code),
                    ("valueString", true) => text().map(PropertyValue::String),
                    ("valueDateTime", true) => text().map(PropertyValue::DateTime),
                    _ => None,
                };
                let value = match value {
                    Some(value) => value,
                    None => PropertyValue::from_json(&row.value_key, serde_json::from_str(&row.value).map_err(corrupt)?),
                };
                concept.properties.push(ConceptProperty {
                    code: property_codes.name(&row.code),
                    value,
                    extra: from_text(row.extra)?.map(Box::new),
                });
            }
        }
        Ok::<(), StoreError>(())
    })?;
    code_system.concepts = built;
    Ok(code_system)
}

/// One stored resource as the indexes are built from it: its row, without concept rows.
pub struct StoredResource {
    pub pk: i64,
    pub resource_type: String,
    pub id: String,
    /// The key its last write gave it (see [`PutItem::write_key`]).
    pub write_key: String,
    /// The resource JSON; for a CodeSystem, its header without concepts.
    pub json: Json,
}

/// Every stored resource, for building the indexes.
pub fn all_resources(database: &Database) -> Result<Vec<StoredResource>, StoreError> {
    let rows: Vec<(i64, String, String, String, String)> = with_conn!(database, |conn| {
        resources::table
            .select((resources::pk, resources::resource_type, resources::id, resources::write_key, resources::json))
            .order(resources::pk.asc())
            .load(conn)?
    });
    rows.into_iter()
        .map(|(pk, resource_type, id, write_key, json_text)| {
            let json = serde_json::from_str(&json_text)
                .map_err(|error| StoreError::new(StoreErrorKind::Database, format!("corrupt resource row {pk}: {error}")))?;
            Ok(StoredResource { pk, resource_type, id, write_key, json })
        })
        .collect()
}
