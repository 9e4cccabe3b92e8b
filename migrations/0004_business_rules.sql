-- State for the business rules of policy §3–§4 and §7: who was counted against each business's
-- messaging limit, the history of tiers, quality ratings and number statuses, and the recipient
-- of each queued message (the pair-backlog cap counts them).

-- One row per user counted against a business's messaging limit: the user occupies a slot while
-- counted_at > now - 24 h, and a user is counted again only after that. Rows are kept for 7 days
-- after counting, as the history upgrade eligibility reads.
CREATE TABLE limit_counts (
    business_id text NOT NULL REFERENCES businesses (id),
    wa_id       text NOT NULL,
    counted_at  timestamptz NOT NULL,
    PRIMARY KEY (business_id, wa_id, counted_at)
);
CREATE INDEX limit_counts_by_time ON limit_counts (business_id, counted_at);

-- The messaging-limit counter, kept exact under the business row's lock (policy §3):
-- limit_used = rows of limit_counts with counted_at in (limit_expired_through, now], and
-- limit_expired_through only moves forward, so every row leaves the counter exactly once.
ALTER TABLE businesses
    ADD COLUMN limit_used bigint NOT NULL DEFAULT 0 CHECK (limit_used >= 0),
    ADD COLUMN limit_expired_through timestamptz NOT NULL DEFAULT '-infinity';

-- When the number's status last changed: a number FLAGGED for 7 days loses a tier under the
-- double-in-7d rule (policy §4).
ALTER TABLE phone_numbers
    ADD COLUMN status_changed_at timestamptz NOT NULL DEFAULT now();

-- Every change of a business's tier and of a number's quality rating or status, with its source
-- ('admin', 'auto_upgrade', 'flagged_downgrade', later 'meta').
CREATE TABLE state_changes (
    id           bigserial PRIMARY KEY,
    subject_kind text NOT NULL CHECK (subject_kind IN ('business', 'phone_number')),
    subject_id   text NOT NULL,
    field        text NOT NULL,
    old_value    text,
    new_value    text NOT NULL,
    source       text NOT NULL,
    changed_at   timestamptz NOT NULL
);
CREATE INDEX state_changes_subject ON state_changes (subject_kind, subject_id, id);

-- The recipient of each queued message, so the API can cap the backlog to one user (policy §7).
-- Its index (relay_queue_pair) is created by `serve` only when the cap is configured: it would
-- cost every accepted message an index insert for a setting that is off by default.
ALTER TABLE relay_queue ADD COLUMN wa_id text NOT NULL DEFAULT '';
