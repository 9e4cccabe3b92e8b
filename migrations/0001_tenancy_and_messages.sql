-- Tenancy (businesses, phone numbers, API keys) and the outbound message record with its
-- status history, relay queue and idempotency keys. Applied with search_path = wagate.

CREATE TABLE businesses (
    id                   text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
    name                 text NOT NULL DEFAULT '',
    messaging_limit_tier text NOT NULL DEFAULT 'TIER_250' CHECK (messaging_limit_tier IN
                         ('TIER_50', 'TIER_250', 'TIER_1K', 'TIER_2K', 'TIER_10K', 'TIER_100K',
                          'TIER_UNLIMITED')),
    upgrade_rule         text NOT NULL DEFAULT 'meta-2025' CHECK (upgrade_rule IN ('meta-2025', 'double-in-7d')),
    auto_upgrade         boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE phone_numbers (
    id                   text PRIMARY KEY CHECK (id ~ '^[0-9]{1,32}$'),
    business_id          text NOT NULL REFERENCES businesses (id),
    waba_id              text NOT NULL DEFAULT '',
    display_phone_number text NOT NULL DEFAULT '',
    access_token         text NOT NULL DEFAULT '',   -- secret: never returned by any route
    throughput_mps       double precision NOT NULL DEFAULT 80 CHECK (throughput_mps > 0),
    quality_rating       text NOT NULL DEFAULT 'UNKNOWN' CHECK (quality_rating IN ('GREEN', 'YELLOW', 'RED', 'UNKNOWN')),
    status               text NOT NULL DEFAULT 'CONNECTED' CHECK (status IN ('CONNECTED', 'FLAGGED', 'RESTRICTED')),
    callback_url         text NOT NULL DEFAULT '',
    callback_secret      text NOT NULL DEFAULT '',   -- secret: never returned by any route
    require_opt_in       boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX phone_numbers_business ON phone_numbers (business_id);

-- Keys are stored only as SHA-256 of the whole key (keys carry 192 random bits, so a fast hash
-- is enough); the id part of a key finds the row, the hash is compared in constant time.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    key_hash    bytea NOT NULL CHECK (length(key_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE api_key_scopes (
    api_key_id      uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    phone_number_id text NOT NULL REFERENCES phone_numbers (id),
    PRIMARY KEY (api_key_id, phone_number_id)
);

-- Outbound messages and mark-as-read requests, as accepted from the business. `payload` is the
-- normalised request that the relay sends to Meta. Phone numbers are never deleted, so there is
-- no foreign key to them here: it would lock the number's row once per inserted message.
CREATE TABLE messages (
    id                       uuid PRIMARY KEY,
    phone_number_id          text NOT NULL,
    kind                     text NOT NULL CHECK (kind IN ('message', 'mark_read')),
    type                     text NOT NULL,
    to_input                 text NOT NULL,
    wa_id                    text NOT NULL,
    payload                  jsonb NOT NULL,
    biz_opaque_callback_data text,
    api_key_id               uuid,
    status                   text NOT NULL DEFAULT 'accepted',
    wamid                    text,
    errors                   jsonb,
    pricing                  jsonb,
    conversation             jsonb,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

-- Partial: most rows have no wamid while they wait for the relay, and need no index entry.
CREATE UNIQUE INDEX messages_wamid ON messages (wamid) WHERE wamid IS NOT NULL;

-- Every distinct status event of a message, once (policy §6).
CREATE TABLE message_statuses (
    message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    status      text NOT NULL,
    participant text NOT NULL DEFAULT '',
    occurred_at timestamptz NOT NULL,
    errors      jsonb,
    raw         jsonb,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, status, participant)
);

-- Work for the relay: one row per message still to be sent to Meta.
CREATE TABLE relay_queue (
    message_id      uuid PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    phone_number_id text NOT NULL,
    due_at          timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    locked_until    timestamptz
);
CREATE INDEX relay_queue_due ON relay_queue (due_at);

-- Idempotency-Key per API key: the exact response given the first time, and a hash of the
-- normalised request so a different body under the same key is detected.
CREATE TABLE idempotency_keys (
    api_key_id   uuid NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    message_id   uuid NOT NULL,
    response     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
