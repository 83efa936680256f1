DROP TABLE generation;
DROP TABLE concept_map_elements;
DROP TABLE concept_parents;
DROP TABLE concept_properties;
DROP TABLE designations;
DROP TABLE concepts;
DROP TABLE resources;
