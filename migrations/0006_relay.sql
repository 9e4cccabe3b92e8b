-- Relay to Meta (contract §5, docs/relay.md): the last failure of a queued message, and the
-- pacing state every instance shares. Applied with search_path = wagate.

-- What the last attempt got (the errors array of a failed status), kept for the expiry error.
ALTER TABLE relay_queue ADD COLUMN last_error jsonb;

-- Throughput pacing per phone number: the GCRA's theoretical arrival time of the number's next
-- send (NULL or a past time: no backlog). A claim updates the row, so instances take turns per
-- number and together keep to its rate.
CREATE TABLE relay_pacing (
    phone_number_id text PRIMARY KEY,
    next_at         timestamptz
);

-- Pair-rate pacing per (number, user), written under the number's pacing row lock. A row whose
-- time has passed means the same as no row; maintenance deletes those.
CREATE TABLE relay_pair_pacing (
    phone_number_id text NOT NULL,
    wa_id           text NOT NULL,
    next_at         timestamptz NOT NULL,
    PRIMARY KEY (phone_number_id, wa_id)
);
CREATE INDEX relay_pair_pacing_next ON relay_pair_pacing (next_at);
