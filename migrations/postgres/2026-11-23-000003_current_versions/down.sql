DROP TABLE current_versions;
