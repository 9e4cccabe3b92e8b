#pragma once

// SQL text that writes events into the outbox (docs/events.md). Every statement that changes
// what a business backend must hear about writes its events in the same statement, so the event
// exists exactly when the change committed.

// The Cloud API webhook body of one `messages` change for number `n` (a phone_numbers row): the
// value holds messaging_product, metadata, and the members of the jsonb object `members`.
#define WAGATE_EVENT_MESSAGES_BODY(n, members)                                                                  \
    "jsonb_build_object('object', 'whatsapp_business_account', 'entry', jsonb_build_array(jsonb_build_object(" \
    "'id', " n ".waba_id, 'changes', jsonb_build_array(jsonb_build_object('field', 'messages', 'value',"       \
    " jsonb_build_object('messaging_product', 'whatsapp', 'metadata', jsonb_build_object("                    \
    "'display_phone_number', regexp_replace(" n ".display_phone_number, '[^0-9]', '', 'g'),"                   \
    " 'phone_number_id', " n ".id)) || " members ")))))"

// Where a status stands in the order a backend hears a message's statuses: a `failed` comes
// after `sent` and before `delivered` (a delivery outranks a failure, policy §6). The current
// status of a message is the highest position among its statuses, so a status is announced
// exactly when it lies above the message's position before the change and at or below it after.
#define WAGATE_EVENT_POSITION(status) \
    "array_position(ARRAY['accepted','sending','sent','failed','delivered','read','played'], " status ")"

// Orders inbound events per user of a number, so a conversation reaches the backend in order.
#define WAGATE_EVENT_USER_KEY(phone, user) "'in:' || " phone " || ':' || " user
