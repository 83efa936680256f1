-- Terminology schema, PostgreSQL flavour. Keep in step with migrations/sqlite.
CREATE TABLE resources (
    pk BIGSERIAL PRIMARY KEY,
    resource_type TEXT NOT NULL,
    id TEXT NOT NULL,
    url TEXT,
    version TEXT,
    name TEXT,
    title TEXT,
    status TEXT,
    version_id BIGINT NOT NULL,
    last_updated TEXT NOT NULL,
    -- The resource as JSON; for a CodeSystem, without its concepts, which live in `concepts`.
    json TEXT NOT NULL,
    UNIQUE (resource_type, id)
);
CREATE INDEX resources_by_url ON resources (resource_type, url, version);

CREATE TABLE concepts (
    resource_pk BIGINT NOT NULL REFERENCES resources (pk),
    ordinal INTEGER NOT NULL,
    code TEXT NOT NULL,
    display TEXT,
    definition TEXT,
    nest_parent INTEGER,
    extra TEXT,
    PRIMARY KEY (resource_pk, ordinal)
);
CREATE INDEX concepts_by_code ON concepts (resource_pk, code);

CREATE TABLE designations (
    resource_pk BIGINT NOT NULL REFERENCES resources (pk),
    concept_ordinal INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    language TEXT,
    use_coding TEXT,
    value TEXT NOT NULL,
    extra TEXT,
    PRIMARY KEY (resource_pk, concept_ordinal, ordinal)
);

CREATE TABLE concept_properties (
    resource_pk BIGINT NOT NULL REFERENCES resources (pk),
    concept_ordinal INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    code TEXT NOT NULL,
    value_key TEXT NOT NULL,
    value TEXT NOT NULL,
    extra TEXT,
    PRIMARY KEY (resource_pk, concept_ordinal, ordinal)
);

-- The is-a graph: nesting and `parent` properties, several parents per concept allowed.
CREATE TABLE concept_parents (
    resource_pk BIGINT NOT NULL REFERENCES resources (pk),
    child_ordinal INTEGER NOT NULL,
    parent_ordinal INTEGER NOT NULL,
    PRIMARY KEY (resource_pk, child_ordinal, parent_ordinal)
);

CREATE TABLE concept_map_elements (
    resource_pk BIGINT NOT NULL REFERENCES resources (pk),
    ordinal INTEGER NOT NULL,
    source_system TEXT,
    source_code TEXT NOT NULL,
    target_system TEXT,
    target_code TEXT,
    equivalence TEXT,
    PRIMARY KEY (resource_pk, ordinal)
);
CREATE INDEX concept_map_elements_by_source ON concept_map_elements (source_system, source_code);

-- A counter bumped by every write, so replicas sharing one database know to rebuild their indexes.
CREATE TABLE generation (
    id INTEGER PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO generation (id, value) VALUES (1, 0);
