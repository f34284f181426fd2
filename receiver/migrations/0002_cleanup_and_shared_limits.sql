-- Letterbox receiver schema, version 2. Portable SQL, like version 1.

-- The periodic cleanup deletes by age; these keep it from scanning whole tables.
CREATE INDEX idempotency_created ON idempotency (created_at);
CREATE INDEX confirmations_expiry ON confirmations (expires_at);
CREATE INDEX mail_counts_day ON mail_counts (day);

-- Per-IP rate-limit buckets shared by several receiver processes (PostgreSQL with
-- limits.shared_per_ip = true): tokens left, when they were counted (ms), and whether the last
-- request took one (1) or was refused (0).
CREATE TABLE rate_buckets (
    bucket TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL,
    granted BIGINT NOT NULL
);
CREATE INDEX rate_buckets_updated ON rate_buckets (updated_at);
