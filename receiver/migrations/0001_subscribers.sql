-- Letterbox receiver schema, version 1. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Times are Unix milliseconds (BIGINT); statuses are text.

-- One row per address (the key is the address lower-cased).
CREATE TABLE addresses (
    email_key TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    locale TEXT NOT NULL,
    unsubscribe_token TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- One row per address and newsletter: stored once, whatever the number of signups.
-- status: pending_confirmation | subscribed | unsubscribed
CREATE TABLE subscriptions (
    email_key TEXT NOT NULL,
    newsletter TEXT NOT NULL,
    status TEXT NOT NULL,
    source_page TEXT NOT NULL,
    source_slot TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    PRIMARY KEY (email_key, newsletter)
);

-- Double opt-in tokens: the newsletters a confirmation link confirms.
CREATE TABLE confirmations (
    token TEXT PRIMARY KEY,
    email_key TEXT NOT NULL,
    newsletters TEXT NOT NULL,
    locale TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    confirmed_at BIGINT
);

-- Emails to send (and, without SMTP, the record the demo shows).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    claimed_at BIGINT,
    sent_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_unsent ON outbox (sent_at, created_at);

-- Confirmation emails per address per UTC day (the inbox-bombing cap).
CREATE TABLE mail_counts (
    email_key TEXT NOT NULL,
    day BIGINT NOT NULL,
    sent BIGINT NOT NULL,
    PRIMARY KEY (email_key, day)
);

-- Answers already given, by Idempotency-Key, so a retried request is answered the same way.
CREATE TABLE idempotency (
    idem_key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
