#pragma once

#include <chrono>

#include <wagate/pg/statement.hpp>

#include "store/sql_text.hpp"

// The statements of one accept batch (docs/adr/0003-policy-in-the-accept-batch.md), in the order
// they run: [BEGIN, lock] state, insert [, COMMIT]. The bracketed steps run only for batches
// holding templates, which are the only messages that can take a messaging-limit slot.
namespace wagate::store::accept_sql {

// Locks the businesses of the batch's templates (the only messages that can take a slot) in id
// order, so that two batches (of this or another instance) can never wait for each other in a
// cycle, and returns their ids. Held until COMMIT: the budget read by the next statement cannot
// change before this batch's counts are written. A statement of its own because a READ
// COMMITTED statement reads with the snapshot it started with: the state must be read by a
// statement that starts after the lock is granted, to see the previous holder's counts.
// NO KEY UPDATE: the batch changes no key, so foreign-key checks on the business still pass.
constexpr pg::Statement kLockBusinesses{
    "accept_lock_businesses",
    "SELECT b.id FROM businesses b "
    "WHERE b.id IN (SELECT n.business_id FROM phone_numbers n WHERE n.id = ANY($1::text[])) "
    "ORDER BY b.id FOR NO KEY UPDATE OF b",
    std::chrono::milliseconds(10'000)};

// Everything the rules need, one row per input in input order: the number, the contact, the
// stored template, the idempotency key if it was claimed before, the messages queued to the same
// user (only when $7, the pair cap, is on) and, for the businesses this batch has locked ($6),
// the budget with every count older than the cutoff $5 expired:
//   budget_used = limit_used minus the counts that left the window since limit_expired_through.
// The budget is computed once per business (MATERIALIZED), not once per row of the batch: after
// a quiet day a large business may have many counts to expire.
constexpr pg::Statement kState{
    "accept_state",
    "WITH input AS ("
    "  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $8::text[], $9::text[])"
    "    WITH ORDINALITY AS t(phone_number_id, wa_id, template_name, template_language, api_key_id,"
    "                         idem_key, ord)), "
    "locked AS ("
    "  SELECT b.id, b.messaging_limit_tier, b.limit_used, b.limit_expired_through,"
    "         greatest(b.limit_expired_through, " WAGATE_SQL_FROM_MICROS("$5") ") AS cutoff"
    "  FROM businesses b WHERE b.id = ANY($6::text[])), "
    "budget AS MATERIALIZED ("
    "  SELECT l.id, l.messaging_limit_tier, l.cutoff,"
    "    l.limit_used - (SELECT count(*) FROM limit_counts lc WHERE lc.business_id = l.id"
    "      AND lc.counted_at > l.limit_expired_through AND lc.counted_at <= l.cutoff) AS used,"
    "    (SELECT min(lc.counted_at) FROM limit_counts lc"
    "      WHERE lc.business_id = l.id AND lc.counted_at > l.cutoff) AS oldest"
    "  FROM locked l) "
    "SELECT n.business_id, n.waba_id, n.status, n.require_opt_in,"
    "  " WAGATE_SQL_TO_MICROS("c.last_inbound_at") ", c.opted_in, c.opted_out, c.identity_ack_required,"
    "  t.status, t.definition::text, " WAGATE_SQL_TO_MICROS("t.updated_at") ","
    "  encode(k.request_hash, 'hex'), k.response,"
    "  CASE WHEN $7::boolean AND i.wa_id <> '' THEN (SELECT count(*) FROM relay_queue q"
    "    WHERE q.phone_number_id = i.phone_number_id AND q.wa_id = i.wa_id) ELSE 0 END,"
    "  bu.messaging_limit_tier, bu.used, " WAGATE_SQL_TO_MICROS("bu.cutoff") ","
    "  " WAGATE_SQL_TO_MICROS("bu.oldest") ","
    "  EXISTS (SELECT 1 FROM limit_counts lc WHERE lc.business_id = bu.id AND lc.wa_id = i.wa_id"
    "    AND lc.counted_at > bu.cutoff) "
    "FROM input i "
    "LEFT JOIN phone_numbers n ON n.id = i.phone_number_id "
    "LEFT JOIN contacts c ON c.phone_number_id = i.phone_number_id AND c.wa_id = i.wa_id "
    "LEFT JOIN templates t ON t.waba_id = n.waba_id AND t.name = i.template_name"
    "  AND t.language = i.template_language "
    "LEFT JOIN idempotency_keys k ON k.api_key_id = i.api_key_id::uuid AND k.key = i.idem_key "
    "LEFT JOIN budget bu ON bu.id = n.business_id "
    "ORDER BY i.ord",
    std::chrono::milliseconds(10'000)};

// The state of a batch without templates while the pair cap is off, which is the common case:
// free-form messages and mark-as-read need only the contact (window, identity) and the
// idempotency key. Same columns as kState; the number's and the budget's are constants, which
// the rules never read for such a batch (they matter to templates only).
constexpr pg::Statement kStateFreeForm{
    "accept_state_free_form",
    "SELECT '', '', 'CONNECTED', true,"
    "  " WAGATE_SQL_TO_MICROS("c.last_inbound_at") ", c.opted_in, c.opted_out, c.identity_ack_required,"
    "  NULL, NULL, NULL, encode(k.request_hash, 'hex'), k.response, 0, NULL, NULL, NULL, NULL, NULL "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
    "  WITH ORDINALITY AS i(phone_number_id, wa_id, api_key_id, idem_key, ord) "
    "LEFT JOIN contacts c ON c.phone_number_id = i.phone_number_id AND c.wa_id = i.wa_id "
    "LEFT JOIN idempotency_keys k ON k.api_key_id = i.api_key_id::uuid AND k.key = i.idem_key "
    "ORDER BY i.ord",
    std::chrono::milliseconds(10'000)};

/// Column positions of kState.
enum StateColumn : int {
    kBusinessId, kWabaId, kNumberStatus, kRequireOptIn,
    kLastInboundMicros, kOptedIn, kOptedOut, kIdentityAckRequired,
    kTemplateStatus, kTemplateDefinition, kTemplateUpdatedMicros,
    kIdemHash, kIdemResponse,
    kQueuedToUser,
    kTier, kBudgetUsed, kCutoffMicros, kOldestCountedMicros, kUserCounted,
};

// The admitted inputs, as arrays $1..$13, and what every accept writes for them: claims their
// idempotency keys (ON CONFLICT DO NOTHING, so a lost race is a non-event rather than an aborted
// batch), then message, `accepted` status and relay-queue row (expiring after ttl_s seconds) for every input that
// has no key or won its key. An input missing from the statement's result lost its key to a
// concurrent request and is answered from that request's row.
#define WAGATE_ACCEPT_INPUT_ARRAYS                                                                  \
    "$1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], "          \
    "$8::text[], $9::uuid[], $10::text[], $11::text[], $12::text[], $13::int[]"
#define WAGATE_ACCEPT_INPUT_COLUMNS                                                                 \
    "id, phone_number_id, kind, type, to_input, wa_id, payload, biz_opaque, api_key_id, idem_key, " \
    "idem_hash, response, ttl_s"
#define WAGATE_ACCEPT_WRITES                                                                        \
    "claimed AS ("                                                                                  \
    "  INSERT INTO idempotency_keys (api_key_id, key, request_hash, message_id, response)"          \
    "  SELECT api_key_id, idem_key, decode(idem_hash, 'hex'), id, response FROM input"              \
    "  WHERE idem_key IS NOT NULL ON CONFLICT DO NOTHING RETURNING message_id), "                   \
    "accepted AS ("                                                                                 \
    "  SELECT * FROM input WHERE idem_key IS NULL OR id IN (SELECT message_id FROM claimed)), "     \
    "m AS ("                                                                                        \
    "  INSERT INTO messages (id, phone_number_id, kind, type, to_input, wa_id, payload,"            \
    "                        biz_opaque_callback_data, api_key_id)"                                 \
    "  SELECT id, phone_number_id, kind, type, to_input, wa_id, payload::jsonb, biz_opaque,"        \
    "         api_key_id FROM accepted RETURNING id), "                                             \
    "s AS ("                                                                                        \
    "  INSERT INTO message_statuses (message_id, status, occurred_at)"                              \
    "  SELECT id, 'accepted', now() FROM accepted), "                                               \
    "q AS ("                                                                                        \
    "  INSERT INTO relay_queue (message_id, phone_number_id, wa_id, due_at, expires_at)"            \
    "  SELECT id, phone_number_id, CASE WHEN kind = 'message' THEN wa_id ELSE '' END, now(),"       \
    "         now() + make_interval(secs => ttl_s) FROM accepted)"

// A batch without templates: nothing to count.
constexpr pg::Statement kInsert{
    "accept_insert",
    "WITH input AS (SELECT * FROM unnest(" WAGATE_ACCEPT_INPUT_ARRAYS ") AS t(" WAGATE_ACCEPT_INPUT_COLUMNS ")), "
    WAGATE_ACCEPT_WRITES " "
    "SELECT replace(id::text, '-', '') FROM m",
    std::chrono::milliseconds(10'000)};

// The fast path of a free-form batch (no template, pair cap off), which is most traffic: one
// statement that writes the inputs the rules certainly admit and leaves the others to the
// normal path (kStateFreeForm, domain::admission, kInsert), which decides and answers them.
// "Certainly admitted" restates two rules as a filter, and may only ever be narrower than them:
// a mark-as-read; or a message whose contact has no unacknowledged identity change
// (policy::check_identity) and an open window, last_inbound_at > $14 = now - 24 h
// (policy::window_open). The window tests at exactly 24 h fail if the two ever disagree.
constexpr pg::Statement kInsertFreeForm{
    "accept_insert_free_form",
    "WITH input AS (SELECT t.* FROM unnest(" WAGATE_ACCEPT_INPUT_ARRAYS ") AS t(" WAGATE_ACCEPT_INPUT_COLUMNS ") "
    "  WHERE t.kind = 'mark_read' OR EXISTS (SELECT 1 FROM contacts c"
    "    WHERE c.phone_number_id = t.phone_number_id AND c.wa_id = t.wa_id"
    "      AND NOT c.identity_ack_required AND c.last_inbound_at > " WAGATE_SQL_FROM_MICROS("$14") ")), "
    WAGATE_ACCEPT_WRITES " "
    "SELECT replace(id::text, '-', '') FROM m",
    std::chrono::milliseconds(10'000)};

// A batch holding its businesses' locks: also the limit count of each input that takes a slot
// ($14: its business, else NULL; counted at $15), and each locked business's counter set to its
// base ($16/$17) plus the counts written, with the cutoff it was expired through ($18).
constexpr pg::Statement kInsertCounted{
    "accept_insert_counted",
    "WITH input AS (SELECT * FROM unnest(" WAGATE_ACCEPT_INPUT_ARRAYS ", $14::text[])"
    "  AS t(" WAGATE_ACCEPT_INPUT_COLUMNS ", count_business)), "
    WAGATE_ACCEPT_WRITES ", "
    "counted AS ("
    "  INSERT INTO limit_counts (business_id, wa_id, counted_at)"
    "  SELECT count_business, wa_id, " WAGATE_SQL_FROM_MICROS("$15") " FROM accepted"
    "  WHERE count_business IS NOT NULL RETURNING business_id), "
    "budgets AS ("
    "  UPDATE businesses b SET"
    "    limit_used = u.base_used + (SELECT count(*) FROM counted c WHERE c.business_id = u.id),"
    "    limit_expired_through = " WAGATE_SQL_FROM_MICROS("u.through") " "
    "  FROM unnest($16::text[], $17::bigint[], $18::bigint[]) AS u(id, base_used, through)"
    "  WHERE b.id = u.id) "
    "SELECT replace(id::text, '-', '') FROM m",
    std::chrono::milliseconds(10'000)};

constexpr pg::Statement kFindIdempotency{
    "idempotency_find",
    "SELECT encode(request_hash, 'hex'), response FROM idempotency_keys "
    "WHERE api_key_id = $1::uuid AND key = $2"};

}  // namespace wagate::store::accept_sql
