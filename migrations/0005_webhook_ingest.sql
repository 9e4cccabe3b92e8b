-- Meta webhook ingest (contract §3, policy §6): raw deliveries committed before the 200, the
-- quarantine of unverified ones, inbound messages, parked statuses, reactions and account events.

-- Every verified POST, byte for byte, until it is processed and its retention has passed. An
-- exact repeat of a body (Meta retries) is recognised by its SHA-256 and stored once.
-- claimed_until: the instance processing it; an expired claim lets any instance take it over,
-- which is how a delivery acknowledged by a process that then died gets processed.
CREATE TABLE webhook_deliveries (
    id            bigserial PRIMARY KEY,
    body_sha256   bytea NOT NULL CHECK (length(body_sha256) = 32),
    body          bytea NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    processed_at  timestamptz,
    items         integer,           -- items found when processed
    failed_items  integer            -- of which could not be applied (see webhook_item_failures)
);
CREATE UNIQUE INDEX webhook_deliveries_body ON webhook_deliveries (body_sha256);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (id) WHERE processed_at IS NULL;
CREATE INDEX webhook_deliveries_processed ON webhook_deliveries (processed_at) WHERE processed_at IS NOT NULL;

-- Items of a delivery that could not be applied, with the fragment as received (text, not jsonb:
-- the reason may be that it is not storable as jsonb).
CREATE TABLE webhook_item_failures (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL,
    path        text NOT NULL,   -- e.g. entry[0].changes[1].value.statuses[3]
    reason      text NOT NULL,
    fragment    text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (delivery_id, path)
);

-- POSTs whose signature did not verify: kept for diagnosis, never processed. Anyone can send
-- them, so only the first 64 KiB of the body is kept, with the whole body's length and SHA-256.
CREATE TABLE webhook_quarantine (
    id             bigserial PRIMARY KEY,
    received_at    timestamptz NOT NULL DEFAULT now(),
    reason         text NOT NULL,
    signature      text NOT NULL,
    remote_address text NOT NULL,
    body_length    bigint NOT NULL,
    body_sha256    bytea NOT NULL,
    body           bytea NOT NULL    -- the first 64 KiB
);
CREATE INDEX webhook_quarantine_received ON webhook_quarantine (received_at);

-- Inbound messages by Meta's wamid (their id in the API too). `content` is the message item as
-- Meta sent it; erased (NULL) with deleted_at set when the user deletes the message. A row with
-- occurred_at NULL is a tombstone that arrived before its message: the message, when it comes,
-- fills in the metadata but never the content.
CREATE TABLE inbound_messages (
    wamid           text PRIMARY KEY,
    phone_number_id text NOT NULL,
    wa_id           text NOT NULL,   -- `from`; "" for username users (BSUID only)
    user_id         text,            -- `from_user_id` (BSUID)
    type            text NOT NULL,
    occurred_at     timestamptz,     -- Meta's timestamp
    content         jsonb,
    contact         jsonb,           -- the matching value.contacts[] entry (profile)
    received_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
CREATE INDEX inbound_messages_contact ON inbound_messages (phone_number_id, wa_id, occurred_at);

-- The current reaction of each user to each message: the latest by Meta's timestamp wins, so a
-- late-arriving older reaction never overwrites a newer one or a removal (emoji NULL).
CREATE TABLE reactions (
    phone_number_id text NOT NULL,
    message_id      text NOT NULL,   -- the wamid reacted to
    wa_id           text NOT NULL,
    emoji           text,            -- NULL: removed
    reaction_wamid  text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    PRIMARY KEY (phone_number_id, message_id, wa_id)
);

-- Statuses for a wamid no message of the gateway carries (yet): attached when the relay records
-- that wamid, expired after the webhook retention otherwise.
CREATE TABLE parked_statuses (
    wamid       text NOT NULL,
    status      text NOT NULL,
    participant text NOT NULL,
    occurred_at timestamptz NOT NULL,
    errors      jsonb,
    pricing     jsonb,
    conversation jsonb,
    biz_opaque_callback_data text,
    raw         jsonb NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (wamid, status, participant)
);
CREATE INDEX parked_statuses_parked ON parked_statuses (parked_at);

-- Pricing and conversation come from the highest-ranked status that carried them (ties broken by
-- the text, so the result never depends on arrival order); the rank they came from is kept.
ALTER TABLE messages
    ADD COLUMN pricing_rank smallint,
    ADD COLUMN conversation_rank smallint;
ALTER TABLE message_statuses
    ADD COLUMN pricing jsonb,
    ADD COLUMN conversation jsonb;

-- The user's BSUID, and the identity key hash Meta last reported for the user
-- (contacts[].identity_key_hash) with its time: a newer, different hash is an identity change.
ALTER TABLE contacts
    ADD COLUMN user_id text,
    ADD COLUMN identity_key_hash text,
    ADD COLUMN identity_key_hash_at timestamptz;

-- Account-level webhook fields (and value-level errors), each kept once per
-- (WABA, field, entry.time, canonical value): `applied` says what it changed, if anything.
CREATE TABLE account_events (
    id          bigserial PRIMARY KEY,
    waba_id     text NOT NULL,
    field       text NOT NULL,
    entry_time  bigint NOT NULL,
    value       jsonb NOT NULL,
    value_hash  bytea NOT NULL,
    applied     text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (waba_id, field, entry_time, value_hash)
);

-- The entry.time of the last applied account update per (subject, attribute): an older update
-- arriving later is stored but not applied.
CREATE TABLE meta_versions (
    subject    text NOT NULL,
    attribute  text NOT NULL,
    entry_time bigint NOT NULL,
    PRIMARY KEY (subject, attribute)
);

-- Templates: quality from Meta, and the status an ARCHIVED template returns to when UNARCHIVED.
ALTER TABLE templates
    ADD COLUMN quality text NOT NULL DEFAULT 'UNKNOWN',
    ADD COLUMN template_id text,
    ADD COLUMN status_before_archive text;
