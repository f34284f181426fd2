-- Letterbox receiver schema, version 3. Portable SQL, like version 1.

-- The consent record of the signup that last asked for the subscription, as the widget sent it
-- (compact JSON: {"text","version","locale","page","at_ms"}); NULL when none was given.
ALTER TABLE subscriptions ADD COLUMN consent TEXT;
