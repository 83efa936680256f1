-- A random key each write gives the resource it stores: it names what was written, never repeats
-- (not after a delete and re-create with the same id, nor in a new database), and keys the saved
-- index file of a CodeSystem (`store::index_files`). Rows stored before it get a key of their own.
-- Sqlite flavour; keep in step with migrations/postgres.
ALTER TABLE resources ADD COLUMN write_key TEXT NOT NULL DEFAULT '';
UPDATE resources SET write_key = lower(hex(randomblob(16)));
