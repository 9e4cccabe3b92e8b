#pragma once

#include <wagate/pg/statement.hpp>

#include "store/event_sql.hpp"

// The SQL of webhook processing (docs/webhooks.md). Every statement is idempotent: applying the
// same items again changes nothing, and items of one kind commute (the result does not depend on
// the order they are applied in).

namespace wagate::store::webhook_sql {

// Folds newly recorded statuses into their messages. Expects a CTE `known(message_id, wamid,
// status, participant, occurred_at, errors, pricing, conversation, opaque, raw)`.
//
// The current status is a function of the set of statuses (policy §6): the highest of
// accepted < sending < sent < delivered < read < played, except that a `failed` wins while nothing
// at or above `delivered` is known. That function can be kept incrementally from the current
// status string alone: `failed` means "failed seen, nothing at or above delivered", and a status
// of rank r means "highest rank r" (with a failure, if any, outranked when r >= delivered). So the
// UPDATE folds only the statuses this statement inserted (a duplicate inserts nothing) into the
// row's current value; and under a concurrent fold, READ COMMITTED re-evaluates SET on the newest
// row version, so concurrent batches compose too. Pricing and conversation come from the
// highest-ranked carrier (ties by text); the failure's errors by text; opaque data first seen.
// The batch's `col` (pricing, conversation) replaces the message's: it is there, and the message
// has none, or it came from a higher-ranked status, or from an equal rank with a greater text.
// Compared against the message row itself (m), so a concurrent fold is re-evaluated correctly.
#define WAGATE_CARRIER_WINS(col)                                                                      \
    "(f." col " IS NOT NULL AND (m." col " IS NULL OR f." col "_rank > m." col "_rank"                 \
    " OR (f." col "_rank = m." col "_rank AND f." col "::text > m." col "::text)))"
#define WAGATE_STATUS_RANKS "ARRAY['accepted','sending','sent','delivered','read','played']"
#define WAGATE_STATUS_FOLD                                                                                    \
    "fresh AS ("                                                                                              \
    "  INSERT INTO message_statuses (message_id, status, participant, occurred_at, errors, raw, pricing,"    \
    "                                conversation)"                                                           \
    "  SELECT message_id, status, participant, occurred_at, errors, raw, pricing, conversation FROM known"   \
    "  ON CONFLICT DO NOTHING"                                                                                \
    "  RETURNING message_id, status, errors, pricing, conversation, raw->>'biz_opaque_callback_data' AS opaque," \
    "    COALESCE(array_position(" WAGATE_STATUS_RANKS ", status), 0) AS rank, occurred_at, raw), "            \
    "folded AS ("                                                                                             \
    "  SELECT message_id, NULLIF(max(rank), 0) AS top_rank, bool_or(status = 'failed') AS failed,"          \
    "    (array_agg(pricing ORDER BY rank DESC, pricing::text DESC) FILTER (WHERE pricing IS NOT NULL))[1] AS pricing," \
    "    max(rank) FILTER (WHERE pricing IS NOT NULL) AS pricing_rank,"                                     \
    "    (array_agg(conversation ORDER BY rank DESC, conversation::text DESC)"                               \
    "       FILTER (WHERE conversation IS NOT NULL))[1] AS conversation,"                                    \
    "    max(rank) FILTER (WHERE conversation IS NOT NULL) AS conversation_rank,"                           \
    "    (array_agg(errors ORDER BY errors::text DESC) FILTER (WHERE status = 'failed' AND errors IS NOT NULL))[1] AS errors," \
    "    min(opaque) AS opaque"                                                                               \
    "  FROM fresh GROUP BY message_id), "                                                                     \
    "updated AS ("                                                                                            \
    "  UPDATE messages m SET"                                                                                 \
    "    status = CASE"                                                                                       \
    "      WHEN m.status = 'failed' THEN CASE WHEN f.top_rank >= 4 THEN (" WAGATE_STATUS_RANKS ")[f.top_rank] ELSE 'failed' END" \
    "      WHEN f.failed AND GREATEST(array_position(" WAGATE_STATUS_RANKS ", m.status), f.top_rank, 0) < 4 THEN 'failed'" \
    "      WHEN f.top_rank > COALESCE(array_position(" WAGATE_STATUS_RANKS ", m.status), 0)"                 \
    "        THEN (" WAGATE_STATUS_RANKS ")[f.top_rank]"                                                       \
    "      ELSE m.status END,"                                                                                \
    "    pricing = CASE WHEN " WAGATE_CARRIER_WINS("pricing") " THEN f.pricing ELSE m.pricing END,"           \
    "    pricing_rank = CASE WHEN " WAGATE_CARRIER_WINS("pricing") " THEN f.pricing_rank ELSE m.pricing_rank END," \
    "    conversation = CASE WHEN " WAGATE_CARRIER_WINS("conversation") " THEN f.conversation"                 \
    "      ELSE m.conversation END,"                                                                          \
    "    conversation_rank = CASE WHEN " WAGATE_CARRIER_WINS("conversation") " THEN f.conversation_rank"       \
    "      ELSE m.conversation_rank END,"                                                                     \
    "    errors = CASE WHEN f.errors IS NOT NULL AND (m.errors IS NULL OR f.errors::text > m.errors::text)"   \
    "      THEN f.errors ELSE m.errors END,"                                                                  \
    "    biz_opaque_callback_data = COALESCE(m.biz_opaque_callback_data, f.opaque),"                         \
    "    previous_status = m.status, updated_at = now()"                                                      \
    "  FROM folded f WHERE m.id = f.message_id"                                                               \
    "  RETURNING m.id, m.previous_status, m.status, m.kind, m.phone_number_id, m.wa_id, m.wamid,"              \
    "    m.biz_opaque_callback_data), "                                                                       \
    WAGATE_STATUS_EVENTS

// The status events of a fold (docs/events.md): each new status that moved the message forward
// (a `sent`, `delivered`, `read` or `played` between its position before and after; a `failed`
// that became current), and every new `warning`, in the order of their positions. A status that
// moved nothing (a late `sent` after `delivered`) is recorded but not announced, so a backend
// never hears a message go backwards. Mark-as-read requests have no statuses to announce. The
// item is Meta's own (or, for the gateway's `failed`, one in its shape) with the gateway's id
// in `id` and Meta's in `wamid`.
#define WAGATE_STATUS_EVENTS                                                                                  \
    "announced AS ("                                                                                          \
    "  INSERT INTO events (phone_number_id, kind, ordering_key, payload)"                                     \
    "  SELECT u.phone_number_id, 'status', 'out:' || u.id::text, "                                           \
    WAGATE_EVENT_MESSAGES_BODY("n", "jsonb_build_object('statuses', jsonb_build_array("                        \
        "COALESCE(f.raw, jsonb_build_object('status', f.status,"                                              \
        "  'timestamp', extract(epoch FROM f.occurred_at)::bigint::text, 'recipient_id', u.wa_id)"          \
        "  || CASE WHEN f.errors IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('errors', f.errors) END)" \
        " || jsonb_build_object('id', 'wagate.' || replace(u.id::text, '-', ''))"                            \
        " || CASE WHEN u.wamid IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('wamid', u.wamid) END"       \
        " || CASE WHEN u.biz_opaque_callback_data IS NULL OR f.raw ? 'biz_opaque_callback_data' THEN '{}'::jsonb" \
        "    ELSE jsonb_build_object('biz_opaque_callback_data', u.biz_opaque_callback_data) END))")         \
    "  FROM updated u JOIN fresh f ON f.message_id = u.id JOIN phone_numbers n ON n.id = u.phone_number_id"  \
    "  WHERE u.kind = 'message' AND (f.status = 'warning'"                                                   \
    "    OR (f.status = 'failed' AND u.status = 'failed' AND u.previous_status IS DISTINCT FROM 'failed')"  \
    "    OR (f.status IN ('sent', 'delivered', 'read', 'played')"                                            \
    "      AND " WAGATE_EVENT_POSITION("f.status") " > COALESCE(" WAGATE_EVENT_POSITION("u.previous_status") ", 0)" \
    "      AND " WAGATE_EVENT_POSITION("f.status") " <= COALESCE(" WAGATE_EVENT_POSITION("u.status") ", 0)))" \
    "  ORDER BY u.id, COALESCE(" WAGATE_EVENT_POSITION("f.status") ", 0)) "

// Statuses of one batch: $1 wamid, $2 status, $3 participant, $4 Meta time (s), $5 errors,
// $6 pricing, $7 conversation, $8 opaque data, $9 raw item. Statuses of known wamids are folded
// into their message; the rest are parked. Returns the wamids parked by this statement.
constexpr pg::Statement kApplyStatuses{
    "webhook_statuses",
    "WITH input AS (SELECT DISTINCT ON (wamid, status, participant) * FROM unnest($1::text[], $2::text[],"
    "    $3::text[], $4::bigint[], $5::jsonb[], $6::jsonb[], $7::jsonb[], $8::text[], $9::jsonb[])"
    "    AS t(wamid, status, participant, ts, errors, pricing, conversation, opaque, raw)"
    "  ORDER BY wamid, status, participant, ts), "
    "known AS (SELECT m.id AS message_id, i.wamid, i.status, i.participant, to_timestamp(i.ts) AS occurred_at,"
    "  i.errors, i.pricing, i.conversation, i.opaque, i.raw FROM input i JOIN messages m ON m.wamid = i.wamid), "
    "parked AS ("
    "  INSERT INTO parked_statuses (wamid, status, participant, occurred_at, errors, pricing, conversation,"
    "                               biz_opaque_callback_data, raw)"
    "  SELECT wamid, status, participant, to_timestamp(ts), errors, pricing, conversation, opaque, raw"
    "  FROM input i WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.wamid = i.wamid)"
    "  ON CONFLICT DO NOTHING RETURNING wamid), " WAGATE_STATUS_FOLD
    "SELECT DISTINCT wamid FROM parked"};

// Moves the parked statuses of $1 (wamids, now recorded on their messages; NULL: every parked
// status whose wamid is now known) onto them. Run after the wamid is committed by the relay, and
// after a batch that parked statuses commits: whichever commits second sees the other's rows,
// and DELETE ... RETURNING moves each row once. Every sweep also runs it with NULL, so a move
// lost to a crash between the two is made up within a second.
constexpr pg::Statement kAttachParked{
    "webhook_attach_parked",
    "WITH moved AS (DELETE FROM parked_statuses p USING messages m"
    "  WHERE ($1::text[] IS NULL OR p.wamid = ANY($1::text[])) AND m.wamid = p.wamid"
    "  RETURNING m.id AS message_id, p.*), "
    "known AS (SELECT message_id, wamid, status, participant, occurred_at, errors, pricing, conversation,"
    "  biz_opaque_callback_data AS opaque, raw FROM moved), " WAGATE_STATUS_FOLD
    "SELECT count(*) FROM fresh"};

// Inbound messages: $1 wamid, $2 phone number id, $3 from, $4 from_user_id, $5 type, $6 Meta time
// (s), $7 item, $8 sender contact, $9 renews the window, $10 user key (from, or the BSUID),
// $11 identity_key_hash. Stores each message once (a tombstone that came first keeps its erased
// content) and moves each user's window to the latest renewing message (GREATEST: never back;
// a repeat changes nothing). Identity key hashes count only from messages stored now, so a
// replay cannot flag again after an acknowledgement: two different hashes among them, or one
// different from the hash on record (in whatever order they arrive), flag the contact; the
// record keeps the newest hash by Meta's time. Returns the wamids stored by this statement.
constexpr pg::Statement kApplyInbound{
    "webhook_inbound",
    "WITH input AS (SELECT DISTINCT ON (wamid) * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    "    $5::text[], $6::bigint[], $7::jsonb[], $8::jsonb[], $9::boolean[], $10::text[], $11::text[])"
    "    AS t(wamid, phone, wa_id, user_id, type, ts, item, contact, renews, user_key, key_hash)"
    "  ORDER BY wamid), "
    "stored AS ("
    "  INSERT INTO inbound_messages AS im (wamid, phone_number_id, wa_id, user_id, type, occurred_at, content, contact)"
    "  SELECT wamid, phone, wa_id, user_id, type, to_timestamp(ts), item, contact FROM input"
    "  ON CONFLICT (wamid) DO UPDATE SET phone_number_id = excluded.phone_number_id, wa_id = excluded.wa_id,"
    "    user_id = excluded.user_id, type = excluded.type, occurred_at = excluded.occurred_at,"
    "    contact = excluded.contact"
    "  WHERE im.occurred_at IS NULL"
    "  RETURNING wamid, phone_number_id, content, contact), "
    "per_user AS ("
    "  SELECT phone, user_key, max(user_id) AS user_id, max(to_timestamp(ts)) FILTER (WHERE renews) AS last_inbound,"
    "    (array_agg(key_hash ORDER BY ts DESC, key_hash) FILTER (WHERE fresh AND key_hash IS NOT NULL))[1] AS key_hash,"
    "    max(to_timestamp(ts)) FILTER (WHERE fresh AND key_hash IS NOT NULL) AS key_hash_at,"
    "    count(DISTINCT key_hash) FILTER (WHERE fresh) > 1 AS hashes_differ"
    "  FROM (SELECT i.*, i.wamid IN (SELECT wamid FROM stored) AS fresh FROM input i) i"
    "  GROUP BY phone, user_key), "
    "contact AS ("
    "INSERT INTO contacts AS c (phone_number_id, wa_id, user_id, last_inbound_at, identity_key_hash,"
    "                           identity_key_hash_at, identity_ack_required, identity_changed_at)"
    "SELECT phone, user_key, user_id, last_inbound, key_hash, key_hash_at, hashes_differ,"
    "  CASE WHEN hashes_differ THEN key_hash_at END FROM per_user "
    "ON CONFLICT (phone_number_id, wa_id) DO UPDATE SET"
    "  last_inbound_at = GREATEST(c.last_inbound_at, excluded.last_inbound_at),"
    "  user_id = COALESCE(excluded.user_id, c.user_id),"
    "  identity_ack_required = c.identity_ack_required OR excluded.identity_ack_required"
    "    OR COALESCE(excluded.identity_key_hash <> c.identity_key_hash, false),"
    "  identity_changed_at = CASE WHEN excluded.identity_ack_required"
    "      OR COALESCE(excluded.identity_key_hash <> c.identity_key_hash, false)"
    "    THEN GREATEST(c.identity_changed_at, excluded.identity_key_hash_at) ELSE c.identity_changed_at END,"
    "  identity_key_hash = CASE WHEN excluded.identity_key_hash IS NOT NULL AND (c.identity_key_hash_at IS NULL"
    "    OR excluded.identity_key_hash_at >= c.identity_key_hash_at) THEN excluded.identity_key_hash"
    "    ELSE c.identity_key_hash END,"
    "  identity_key_hash_at = GREATEST(c.identity_key_hash_at, excluded.identity_key_hash_at),"
    "  updated_at = now() RETURNING 1), "
    // A message the user deleted before it arrived (a tombstone was first) is not announced.
    // The events take their ids only after `contact` has locked the users' rows (reading its
    // count makes it run first; unreferenced CTEs run in no documented order): concurrent
    // webhooks of one user then number their events in commit order, which the per-user delivery
    // order relies on, since a claim delivers a key's events by id among those committed.
    "announced AS ("
    "  INSERT INTO events (phone_number_id, kind, ordering_key, payload)"
    "  SELECT s.phone_number_id, 'message', " WAGATE_EVENT_USER_KEY("s.phone_number_id", "i.user_key") ", "
    WAGATE_EVENT_MESSAGES_BODY("n", "CASE WHEN s.contact IS NULL THEN '{}'::jsonb"
                                    " ELSE jsonb_build_object('contacts', jsonb_build_array(s.contact)) END"
                                    " || jsonb_build_object('messages', jsonb_build_array(s.content))")
    "  FROM stored s JOIN input i ON i.wamid = s.wamid JOIN phone_numbers n ON n.id = s.phone_number_id"
    "  CROSS JOIN (SELECT count(*) FROM contact) AS users_locked"
    "  WHERE s.content IS NOT NULL ORDER BY i.ts, s.wamid) "
    "SELECT wamid FROM stored"};

// Deletions by the user ($1 phone number id, $2 wamid, $3 user, $4 Meta time): the content is
// erased and the row kept as a tombstone; one that arrives before its message is a row without
// occurred_at, which the message's arrival fills in without content.
// $5 says whether the deletion is announced to the business as a `deleted` status (Meta's
// On-Premises status; a Cloud API revoke reaches the business as the revoke message itself), once
// per message however often it is applied.
constexpr pg::Statement kTombstones{
    "webhook_tombstones",
    "WITH input AS (SELECT DISTINCT ON (wamid) * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[],"
    "    $5::boolean[]) AS t(phone, wamid, wa_id, ts, announce) ORDER BY wamid, ts), "
    "stone AS ("
    "  INSERT INTO inbound_messages AS im (wamid, phone_number_id, wa_id, type, content, deleted_at)"
    "  SELECT wamid, phone, wa_id, '', NULL, to_timestamp(ts) FROM input"
    "  ON CONFLICT (wamid) DO UPDATE SET content = NULL,"
    "    deleted_at = LEAST(COALESCE(im.deleted_at, excluded.deleted_at), excluded.deleted_at)"
    "  RETURNING wamid, phone_number_id, wa_id, user_id), "
    "announced AS ("
    "  INSERT INTO events (phone_number_id, kind, ordering_key, dedupe_key, payload)"
    "  SELECT s.phone_number_id, 'status',"
    "    " WAGATE_EVENT_USER_KEY("s.phone_number_id", "COALESCE(NULLIF(s.wa_id, ''), s.user_id, '')") ","
    "    'deleted:' || s.wamid, "
    WAGATE_EVENT_MESSAGES_BODY("n", "jsonb_build_object('statuses', jsonb_build_array(jsonb_build_object("
                                    "'id', s.wamid, 'status', 'deleted', 'timestamp', i.ts::text,"
                                    " 'recipient_id', s.wa_id)))")
    "  FROM stone s JOIN input i ON i.wamid = s.wamid JOIN phone_numbers n ON n.id = s.phone_number_id"
    "  WHERE i.announce"
    "  ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING) "
    "SELECT count(*) FROM stone"};

// Reactions ($1 phone number id, $2 message reacted to, $3 user, $4 emoji or NULL for removed,
// $5 the reaction's wamid, $6 Meta time): the latest by (time, wamid) wins whatever the order.
constexpr pg::Statement kReactions{
    "webhook_reactions",
    "INSERT INTO reactions AS r (phone_number_id, message_id, wa_id, emoji, reaction_wamid, occurred_at)"
    " SELECT DISTINCT ON (phone, target, wa_id) phone, target, wa_id, emoji, reaction_wamid, to_timestamp(ts)"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])"
    "   AS t(phone, target, wa_id, emoji, reaction_wamid, ts)"
    " ORDER BY phone, target, wa_id, ts DESC, reaction_wamid DESC"
    " ON CONFLICT (phone_number_id, message_id, wa_id) DO UPDATE SET emoji = excluded.emoji,"
    "   reaction_wamid = excluded.reaction_wamid, occurred_at = excluded.occurred_at"
    " WHERE (excluded.occurred_at, excluded.reaction_wamid) > (r.occurred_at, r.reaction_wamid)"};

// Identity changes carried by newly stored messages ($1 phone number id, $2 user, $3 Meta time):
// the user's messages wait for the business's acknowledgement (policy §2). Only new messages
// come here, so a replay after an acknowledgement does not block the user again.
constexpr pg::Statement kIdentityChanges{
    "webhook_identity_changes",
    "INSERT INTO contacts AS c (phone_number_id, wa_id, identity_ack_required, identity_changed_at)"
    " SELECT phone, wa_id, true, max(to_timestamp(ts))"
    " FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(phone, wa_id, ts) GROUP BY phone, wa_id"
    " ON CONFLICT (phone_number_id, wa_id) DO UPDATE SET identity_ack_required = true,"
    "   identity_changed_at = GREATEST(c.identity_changed_at, excluded.identity_changed_at), updated_at = now()"};

// A user's new number (user_changed_number): a contact with the window of that message
// ($1 phone number id, $2 new wa_id, $3 Meta time).
constexpr pg::Statement kNewNumbers{
    "webhook_new_numbers",
    "INSERT INTO contacts AS c (phone_number_id, wa_id, last_inbound_at)"
    " SELECT phone, wa_id, max(to_timestamp(ts))"
    " FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(phone, wa_id, ts) GROUP BY phone, wa_id"
    " ON CONFLICT (phone_number_id, wa_id) DO UPDATE SET"
    "   last_inbound_at = GREATEST(c.last_inbound_at, excluded.last_inbound_at), updated_at = now()"};

// Items that could not be applied ($1 delivery, $2 path, $3 reason, $4 fragment).
constexpr pg::Statement kItemFailures{
    "webhook_item_failures",
    "INSERT INTO webhook_item_failures (delivery_id, path, reason, fragment)"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])"
    " ON CONFLICT (delivery_id, path) DO NOTHING"};

// Marks deliveries processed ($1 ids, $2 items found, $3 items failed).
constexpr pg::Statement kMarkProcessed{
    "webhook_mark_processed",
    "UPDATE webhook_deliveries d SET processed_at = now(), claimed_until = NULL, items = t.items,"
    "  failed_items = t.failed"
    " FROM unnest($1::bigint[], $2::int[], $3::int[]) AS t(id, items, failed) WHERE d.id = t.id"};

// Claims up to $1 pending deliveries nobody holds, for $2 ms, oldest first, and no more than $3
// bytes of bodies (at least one).
constexpr pg::Statement kClaimPending{
    "webhook_claim_pending",
    "UPDATE webhook_deliveries d SET claimed_until = now() + $2::bigint * interval '1 millisecond',"
    "  attempts = attempts + 1"
    " WHERE d.id IN (SELECT id FROM (SELECT id, size, sum(size) OVER (ORDER BY id) AS running FROM ("
    "     SELECT id, length(body) AS size FROM webhook_deliveries WHERE processed_at IS NULL"
    "       AND (claimed_until IS NULL OR claimed_until < now()) ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) c) w"
    "   WHERE running - size < $3)"
    " RETURNING d.id, encode(d.body, 'hex')"};

constexpr pg::Statement kLockNumberRow{"webhook_lock_number",
                                       "SELECT 1 FROM phone_numbers WHERE id = $1 FOR NO KEY UPDATE"};

// Account-level updates: stored once per (WABA, field, entry.time, canonical value); returns the
// id only when new ($1 WABA, $2 field, $3 entry.time, $4 value).
constexpr pg::Statement kAccountEvent{
    "webhook_account_event",
    "INSERT INTO account_events (waba_id, field, entry_time, value, value_hash)"
    " VALUES ($1, $2, $3, $4::jsonb, sha256(convert_to($4::jsonb::text, 'UTF8')))"
    " ON CONFLICT DO NOTHING RETURNING id"};

// The business-facing copy of a new account-level update ($1 WABA, $2 field, $3 entry.time,
// $4 value): one event per distinct callback URL among the numbers it concerns ($5 a number id,
// from the value's metadata; else $6 a display number; else every number of the WABA), so a
// backend serving several numbers of one WABA hears a WABA-wide change once. Value-level errors
// and unrecognised `messages` values go out as the `messages` change they came in.
constexpr pg::Statement kAccountEventOut{
    "webhook_account_event_out",
    "INSERT INTO events (phone_number_id, kind, payload)"
    " SELECT DISTINCT ON (callback_url) id, 'account',"
    "   jsonb_build_object('object', 'whatsapp_business_account', 'entry', jsonb_build_array("
    "     jsonb_build_object('id', $1::text, 'changes', jsonb_build_array(jsonb_build_object("
    "       'field', CASE WHEN $2 IN ('errors', 'messages') THEN 'messages' ELSE $2 END, 'value', $4::jsonb)))"
    "     || CASE WHEN $3::bigint > 0 THEN jsonb_build_object('time', $3::bigint) ELSE '{}'::jsonb END))"
    " FROM phone_numbers"
    " WHERE CASE WHEN $5 <> '' THEN id = $5"
    "   ELSE waba_id = $1 AND ($6 = '' OR id = $6 OR regexp_replace(display_phone_number, '[^0-9]', '', 'g')"
    "     = regexp_replace($6, '[^0-9]', '', 'g')) END"
    " ORDER BY callback_url, id"};

constexpr pg::Statement kAccountApplied{"webhook_account_applied",
                                        "UPDATE account_events SET applied = $2 WHERE id = $1"};

// Moves (subject, attribute) to entry.time $3 unless a later update was applied already; a row
// back means: apply. Equal times apply (a replay of the same update changes nothing).
constexpr pg::Statement kClaimVersion{
    "webhook_claim_version",
    "INSERT INTO meta_versions AS v (subject, attribute, entry_time) VALUES ($1, $2, $3)"
    " ON CONFLICT (subject, attribute) DO UPDATE SET entry_time = excluded.entry_time"
    " WHERE v.entry_time <= excluded.entry_time RETURNING 1"};

// The numbers of WABA $1 with display number $2 ("" = all of them; the id also matches). Meta
// writes display numbers as digits; an operator may have stored "+1 555-078-3881".
constexpr pg::Statement kNumbersOfWaba{
    "webhook_numbers_of_waba",
    "SELECT id, business_id FROM phone_numbers WHERE waba_id = $1"
    " AND ($2 = '' OR id = $2 OR regexp_replace(display_phone_number, '[^0-9]', '', 'g')"
    "      = regexp_replace($2, '[^0-9]', '', 'g')) ORDER BY id"};

// Meta's word on a business's tier ($1 business, $2 tier, $3 now µs) and a number's status or
// quality ($1 number, $2 value, $3 now µs; for the status, $4: change only from this status, or
// NULL): recorded in state_changes with source 'meta'.
constexpr pg::Statement kSetBusinessTier{
    "webhook_set_tier",
    "WITH old AS (SELECT id, messaging_limit_tier AS tier FROM businesses WHERE id = $1), "
    "changed AS (UPDATE businesses b SET messaging_limit_tier = $2, updated_at = now() FROM old"
    "  WHERE b.id = old.id AND old.tier <> $2 RETURNING b.id, old.tier) "
    "INSERT INTO state_changes (subject_kind, subject_id, field, old_value, new_value, source, changed_at)"
    " SELECT 'business', id, 'messaging_limit_tier', tier, $2, 'meta',"
    "   'epoch'::timestamptz + $3::bigint * interval '1 microsecond' FROM changed RETURNING 1"};

constexpr pg::Statement kSetNumberStatus{
    "webhook_set_number_status",
    "WITH old AS (SELECT id, status FROM phone_numbers WHERE id = $1), "
    "changed AS (UPDATE phone_numbers p SET status = $2, updated_at = now(),"
    "  status_changed_at = 'epoch'::timestamptz + $3::bigint * interval '1 microsecond' FROM old"
    "  WHERE p.id = old.id AND old.status <> $2 AND ($4::text IS NULL OR old.status = $4::text)"
    "  RETURNING p.id, old.status) "
    "INSERT INTO state_changes (subject_kind, subject_id, field, old_value, new_value, source, changed_at)"
    " SELECT 'phone_number', id, 'status', status, $2, 'meta',"
    "   'epoch'::timestamptz + $3::bigint * interval '1 microsecond' FROM changed RETURNING 1"};

constexpr pg::Statement kSetNumberQuality{
    "webhook_set_number_quality",
    "WITH old AS (SELECT id, quality_rating FROM phone_numbers WHERE id = $1), "
    "changed AS (UPDATE phone_numbers p SET quality_rating = $2, updated_at = now() FROM old"
    "  WHERE p.id = old.id AND old.quality_rating <> $2 RETURNING p.id, old.quality_rating) "
    "INSERT INTO state_changes (subject_kind, subject_id, field, old_value, new_value, source, changed_at)"
    " SELECT 'phone_number', id, 'quality_rating', quality_rating, $2, 'meta',"
    "   'epoch'::timestamptz + $3::bigint * interval '1 microsecond' FROM changed RETURNING 1"};

// Templates of WABA $1 by name $2 and language $3, or by Meta's id $4.
constexpr pg::Statement kTemplatesFor{
    "webhook_templates_for",
    "SELECT name, language, status, COALESCE(status_before_archive, '') FROM templates"
    " WHERE waba_id = $1 AND ((name = $2 AND language = $3) OR (template_id = $4 AND $4 <> ''))"
    " ORDER BY name, language FOR NO KEY UPDATE"};

// $1 WABA, $2 name, $3 language, $4 new status, $5 status to restore on UNARCHIVED (NULL keeps),
// $6 Meta's template id ("" keeps).
constexpr pg::Statement kSetTemplateStatus{
    "webhook_set_template_status",
    "UPDATE templates SET status = $4, status_before_archive = COALESCE($5, status_before_archive),"
    "  template_id = COALESCE(NULLIF($6, ''), template_id), updated_at = now()"
    " WHERE waba_id = $1 AND name = $2 AND language = $3 AND status <> $4 RETURNING 1"};

constexpr pg::Statement kSetTemplateQuality{
    "webhook_set_template_quality",
    "UPDATE templates SET quality = $4, template_id = COALESCE(NULLIF($5, ''), template_id), updated_at = now()"
    " WHERE waba_id = $1 AND ((name = $2 AND language = $3) OR (template_id = $5 AND $5 <> ''))"
    "   AND quality <> $4 RETURNING 1"};

constexpr pg::Statement kSetTemplateCategory{
    "webhook_set_template_category",
    "UPDATE templates SET category = $4, definition = jsonb_set(definition, '{category}', to_jsonb($4::text)),"
    "  template_id = COALESCE(NULLIF($5, ''), template_id), updated_at = now()"
    " WHERE waba_id = $1 AND ((name = $2 AND language = $3) OR (template_id = $5 AND $5 <> ''))"
    "   AND category <> $4 RETURNING 1"};

// Retention ($1 hours): processed deliveries and their failures, parked statuses never attached,
// quarantined bodies.
constexpr pg::Statement kPrune{
    "webhook_prune",
    "WITH d AS (DELETE FROM webhook_deliveries WHERE processed_at < now() - make_interval(hours => $1::int)"
    "  RETURNING id), "
    "f AS (DELETE FROM webhook_item_failures WHERE recorded_at < now() - make_interval(hours => $1::int) RETURNING 1), "
    "p AS (DELETE FROM parked_statuses WHERE parked_at < now() - make_interval(hours => $1::int) RETURNING 1), "
    "q AS (DELETE FROM webhook_quarantine WHERE received_at < now() - make_interval(hours => $1::int) RETURNING 1) "
    "SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM f) + (SELECT count(*) FROM p) + (SELECT count(*) FROM q)",
    std::chrono::milliseconds(60'000)};

}  // namespace wagate::store::webhook_sql
