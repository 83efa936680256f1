-- Which version of a code system answers when none is named: set by make_current on upload and
-- by --make-current on fhirterm load. A system without a row answers with its latest version.
-- Postgres flavour; keep in step with migrations/sqlite.
CREATE TABLE current_versions (
    url TEXT PRIMARY KEY NOT NULL,
    version TEXT NOT NULL
);
