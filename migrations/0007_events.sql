-- Event delivery to business backends (contract §7, docs/events.md): the outbox, written in
-- the same transaction as the change it reports, and each callback URL's health. Applied with
-- search_path = wagate.

-- One row per event, until it is delivered or dead and past its retention.
--   txid:         the writing transaction. The catch-up cursor orders by (txid, id) and reads
--                 only below the oldest transaction still running, so a page never skips an
--                 event that commits later with a smaller id.
--   ordering_key: events with the same key are delivered one at a time, in id order (a
--                 message's statuses; a user's inbound messages). NULL: no order to keep.
--   dedupe_key:   for events whose cause can be applied twice concurrently; NULL for the rest.
--   payload:      the Cloud API webhook body; delivered as ASCII-only compact JSON.
CREATE TABLE events (
    id              bigserial PRIMARY KEY,
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    phone_number_id text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('message', 'status', 'account')),
    ordering_key    text,
    dedupe_key      text,
    payload         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    due_at          timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    replayed_at     timestamptz,    -- the give-up age counts from here after a replay
    finished_at     timestamptz     -- delivered or dead
);
CREATE INDEX events_due ON events (phone_number_id, due_at, id) WHERE state = 'pending';
CREATE INDEX events_order ON events (ordering_key, id) WHERE state = 'pending' AND ordering_key IS NOT NULL;
CREATE INDEX events_cursor ON events (phone_number_id, txid, id);
CREATE INDEX events_finished ON events (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX events_pending_age ON events ((COALESCE(replayed_at, created_at))) WHERE state = 'pending';
CREATE UNIQUE INDEX events_once ON events (dedupe_key) WHERE dedupe_key IS NOT NULL;

-- A callback URL that is failing: while retry_at is ahead, none of its events is tried; then one
-- (a probe) is, and its success deletes the row and lets the backlog flow at once.
CREATE TABLE event_endpoints (
    url        text PRIMARY KEY,
    failures   integer NOT NULL,
    retry_at   timestamptz NOT NULL,
    last_error text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The status a message had before its last status change, set by the same UPDATE that changes
-- it: the fold reads it back (RETURNING) to tell which new statuses advanced the message, even
-- when a concurrent fold changed the row first.
ALTER TABLE messages ADD COLUMN previous_status text;
