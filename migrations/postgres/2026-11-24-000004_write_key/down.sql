ALTER TABLE resources DROP COLUMN write_key;
