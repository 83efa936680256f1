-- Rows nothing read, which every release load paid for. Keep in step with the other dialect.
-- The is-a graph is worked out from the concepts' nesting (concepts.nest_parent) and hierarchy
-- properties (concept_properties) each time a code system is indexed; its copy here was never read,
-- and cost a load one row per edge (ICD-10-CM 2026: 98,483 rows, a fifth of its store time).
DROP TABLE concept_parents;
-- Concepts are read by code system in ordinal order, never looked up by code in the database
-- (the in-memory index does that).
DROP INDEX concepts_by_code;
