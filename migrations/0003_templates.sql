-- Message templates per WABA in Meta's template-definition format (policy §5), as validated by
-- domain::parse_template_definition. Kept current by the admin API, and later by Meta's
-- template webhooks.

CREATE TABLE templates (
    waba_id    text NOT NULL,
    name       text NOT NULL,
    language   text NOT NULL,
    category   text NOT NULL,
    status     text NOT NULL,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (waba_id, name, language)
);
