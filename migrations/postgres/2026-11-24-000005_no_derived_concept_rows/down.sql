CREATE INDEX concepts_by_code ON concepts (resource_pk, code);
CREATE TABLE concept_parents (
    resource_pk BIGINT NOT NULL REFERENCES resources (pk),
    child_ordinal INTEGER NOT NULL,
    parent_ordinal INTEGER NOT NULL,
    PRIMARY KEY (resource_pk, child_ordinal, parent_ordinal)
);
