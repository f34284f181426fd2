-- Letterbox receiver schema, version 5. Portable SQL, like version 1.

-- Anonymous slot statistics: only daily counts, never single events. day is days since the Unix
-- epoch (UTC); page is a path without query or fragment; newsletter is '' when the event was not
-- for one newsletter; event is seen | submitted | succeeded | queued | failed:<kind>.
CREATE TABLE stats_daily (
    day BIGINT NOT NULL,
    slot TEXT NOT NULL,
    page TEXT NOT NULL,
    newsletter TEXT NOT NULL,
    event TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, slot, page, newsletter, event)
);

-- The operator page counts signups and confirmations by day.
CREATE INDEX subscriptions_created ON subscriptions (created_at);
CREATE INDEX subscriptions_confirmed ON subscriptions (confirmed_at);
