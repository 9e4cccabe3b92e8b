-- Contacts per (phone number, user): the customer service window, consent and identity state
-- that the business rules read (policy §1, §2). The window is fed by inbound webhooks; until
-- then by the admin API.

CREATE TABLE contacts (
    phone_number_id       text NOT NULL,
    wa_id                 text NOT NULL,
    last_inbound_at       timestamptz,
    opted_in              boolean NOT NULL DEFAULT false,
    opted_out             boolean NOT NULL DEFAULT false,
    identity_ack_required boolean NOT NULL DEFAULT false,
    identity_changed_at   timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (phone_number_id, wa_id)
);

-- Every opt-in and opt-out as it was recorded, for audit (policy §2: source and time).
CREATE TABLE contact_consent_events (
    id              bigserial PRIMARY KEY,
    phone_number_id text NOT NULL,
    wa_id           text NOT NULL,
    opted_in        boolean NOT NULL,
    source          text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_consent_events_contact ON contact_consent_events (phone_number_id, wa_id, recorded_at);
