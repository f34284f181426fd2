-- Letterbox receiver schema, version 4. Portable SQL, like version 1.

-- /healthz writes a row here (about 10 KB, so it needs fresh pages) and deletes it in the same
-- transaction: the health check fails when the database cannot write, not only when it answers.
CREATE TABLE health_probe (
    id TEXT PRIMARY KEY,
    pad TEXT NOT NULL,
    at BIGINT NOT NULL
);
