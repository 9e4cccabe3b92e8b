#pragma once

#include <chrono>

#include <wagate/pg/statement.hpp>

#include "store/sql_text.hpp"
#include "store/webhook_statements.hpp"

// The SQL of the relay (docs/relay.md). A claim is one transaction: due rows (SKIP LOCKED, so
// instances never wait for each other's rows), then, with pacing, the numbers' pacing rows
// (locked: one instance at a time schedules a number's sends), the pairs' pacing, and the write
// back. Every later write names the attempt it belongs to (`attempts`, raised by each claim), so
// an instance whose lease lapsed cannot overwrite the claim of the instance that took over.
namespace wagate::store::relay_sql {

// Due rows whose claim is free or lapsed, oldest first, with what a send needs. $1 limit.
// The database's clock is the relay's: every instance and every stored time agree on it.
constexpr pg::Statement kClaimDue{
    "relay_claim_due",
    "WITH clock AS (SELECT clock_timestamp() AS t) "
    "SELECT replace(q.message_id::text, '-', ''), q.phone_number_id, q.wa_id, q.attempts,"
    "  " WAGATE_SQL_TO_MICROS("q.expires_at") ", m.kind, m.payload::text, COALESCE(n.access_token, ''),"
    "  COALESCE(n.throughput_mps, 80), " WAGATE_SQL_TO_MICROS("clock.t") ","
    "  q.last_error #>> '{0,error_data,details}' "
    "FROM relay_queue q CROSS JOIN clock "
    "JOIN messages m ON m.id = q.message_id "
    "LEFT JOIN phone_numbers n ON n.id = q.phone_number_id "
    "WHERE q.due_at <= clock.t AND (q.locked_until IS NULL OR q.locked_until <= clock.t) "
    "ORDER BY q.due_at LIMIT $1 "
    "FOR UPDATE OF q SKIP LOCKED",
    std::chrono::milliseconds(10'000)};

enum ClaimColumn : int {
    kId, kPhoneNumberId, kWaId, kAttempts, kExpiresMicros, kKind, kPayload, kAccessToken, kThroughput,
    kNowMicros, kLastErrorDetails,
};

// Locks the pacing rows of numbers $1 (creating missing ones) in id order, so two claims never
// wait for each other in a cycle, and returns each number's next send time. ON CONFLICT DO
// UPDATE takes the row lock and, after waiting for another claim, returns its committed value.
constexpr pg::Statement kLockPacing{
    "relay_lock_pacing",
    "INSERT INTO relay_pacing AS p (phone_number_id) SELECT id FROM unnest($1::text[]) AS id ORDER BY id "
    "ON CONFLICT (phone_number_id) DO UPDATE SET next_at = p.next_at "
    "RETURNING phone_number_id, " WAGATE_SQL_TO_MICROS("next_at"),
    std::chrono::milliseconds(10'000)};

// The pair-rate state of ($1 number, $2 user) pairs still in the future. Consistent because
// only a claim holding the number's pacing row writes it.
constexpr pg::Statement kPairPacing{
    "relay_pair_pacing",
    "SELECT p.phone_number_id, p.wa_id, " WAGATE_SQL_TO_MICROS("p.next_at") " "
    "FROM relay_pair_pacing p JOIN unnest($1::text[], $2::text[]) AS i(phone, wa_id)"
    "  ON p.phone_number_id = i.phone AND p.wa_id = i.wa_id",
    std::chrono::milliseconds(10'000)};

// The claim's writes: claimed rows $1 held until $2 (their attempt counted); rows $3 not due
// before $4 (over pace: they wait, and are not read again until then); numbers $5 next free at
// $6; pairs ($7, $8) next free at $9.
constexpr pg::Statement kWriteClaim{
    "relay_write_claim",
    "WITH claimed AS ("
    "  UPDATE relay_queue SET locked_until = " WAGATE_SQL_FROM_MICROS("$2") ", attempts = attempts + 1"
    "  WHERE message_id = ANY($1::uuid[])), "
    "deferred AS ("
    "  UPDATE relay_queue q SET due_at = " WAGATE_SQL_FROM_MICROS("d.at") " "
    "  FROM unnest($3::uuid[], $4::bigint[]) AS d(id, at) WHERE q.message_id = d.id), "
    "numbers AS ("
    "  UPDATE relay_pacing p SET next_at = " WAGATE_SQL_FROM_MICROS("u.at") " "
    "  FROM unnest($5::text[], $6::bigint[]) AS u(id, at) WHERE p.phone_number_id = u.id), "
    "pairs AS ("
    "  INSERT INTO relay_pair_pacing (phone_number_id, wa_id, next_at)"
    "  SELECT phone, wa_id, " WAGATE_SQL_FROM_MICROS("at") " FROM unnest($7::text[], $8::text[], $9::bigint[])"
    "    AS u(phone, wa_id, at)"
    "  ON CONFLICT (phone_number_id, wa_id) DO UPDATE SET next_at = excluded.next_at) "
    "SELECT 1",
    std::chrono::milliseconds(10'000)};

// Meta took the messages ($1 ids, $2 claimed attempt, $3 wamid; '' for a mark-as-read, which
// has none) at $4: out of the queue, the wamid recorded (the first one wins: if a lapsed lease
// let two instances send, the second wamid is only logged), and `sending` (a message waiting for
// Meta's `sent`) or, for a mark-as-read, `sent` (nothing follows). Returns the wamids recorded,
// whose parked statuses the caller attaches after the commit (webhook_sql::kAttachParked).
constexpr pg::Statement kRecordAccepted{
    "relay_record_accepted",
    "WITH input AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[]) AS t(id, attempt, wamid)), "
    "dequeued AS ("
    "  DELETE FROM relay_queue q USING input i WHERE q.message_id = i.id AND q.attempts = i.attempt), "
    "recorded AS ("
    "  UPDATE messages m SET wamid = NULLIF(i.wamid, ''),"
    "    status = CASE WHEN m.status = 'accepted' THEN CASE WHEN i.wamid = '' THEN 'sent' ELSE 'sending' END"
    "      ELSE m.status END,"
    "    updated_at = now()"
    "  FROM input i WHERE m.id = i.id AND m.wamid IS NULL RETURNING m.id, i.wamid), "
    "statuses AS ("
    "  INSERT INTO message_statuses (message_id, status, occurred_at)"
    "  SELECT id, CASE WHEN wamid = '' THEN 'sent' ELSE 'sending' END, " WAGATE_SQL_FROM_MICROS("$4") " "
    "  FROM recorded ON CONFLICT DO NOTHING) "
    "SELECT wamid FROM recorded WHERE wamid <> ''",
    std::chrono::milliseconds(10'000)};

// A transient failure: the rows ($1 ids, $2 claimed attempt) wait until $3 with the errors $4.
constexpr pg::Statement kRecordRetry{
    "relay_record_retry",
    "UPDATE relay_queue q SET due_at = " WAGATE_SQL_FROM_MICROS("r.at") ", locked_until = NULL, last_error = r.errors "
    "FROM unnest($1::uuid[], $2::int[], $3::bigint[], $4::jsonb[]) AS r(id, attempt, at, errors) "
    "WHERE q.message_id = r.id AND q.attempts = r.attempt",
    std::chrono::milliseconds(10'000)};

// Gives claimed rows back without counting the attempt (shutdown, or a send never started).
constexpr pg::Statement kRelease{
    "relay_release",
    "UPDATE relay_queue q SET locked_until = NULL, attempts = q.attempts - 1 "
    "FROM unnest($1::uuid[], $2::int[]) AS r(id, attempt) "
    "WHERE q.message_id = r.id AND q.attempts = r.attempt",
    std::chrono::milliseconds(10'000)};

// Messages that will not be sent ($1 ids, $2 claimed attempt, $3 errors: Meta's refusal or
// 900301 expiry) at $4: out of the queue, and a `failed` status folded into the message like any
// status (policy §6: it is current only while nothing at or above `delivered` is known).
constexpr pg::Statement kRecordFailed{
    "relay_record_failed",
    "WITH input AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::jsonb[]) AS t(id, attempt, errors)), "
    "dequeued AS ("
    "  DELETE FROM relay_queue q USING input i WHERE q.message_id = i.id AND q.attempts = i.attempt"
    "  RETURNING q.message_id), "
    "known AS ("
    "  SELECT i.id AS message_id, NULL::text AS wamid, 'failed'::text AS status, ''::text AS participant,"
    "    " WAGATE_SQL_FROM_MICROS("$4") " AS occurred_at, i.errors, NULL::jsonb AS pricing,"
    "    NULL::jsonb AS conversation, NULL::text AS opaque, NULL::jsonb AS raw"
    "  FROM input i JOIN dequeued d ON d.message_id = i.id), " WAGATE_STATUS_FOLD
    "SELECT count(*) FROM updated",
    std::chrono::milliseconds(10'000)};

// Pair-rate rows whose time has passed: the same as no row.
constexpr pg::Statement kPrunePairPacing{
    "relay_prune_pair_pacing",
    "DELETE FROM relay_pair_pacing WHERE next_at < now()",
    std::chrono::milliseconds(60'000)};

// Outbound messages referenced by gateway id ($1 ids) in a payload about to be sent (a reply's
// context, a reaction), since Meta knows its own ids only: each one's wamid, and whether it is
// still waiting to be sent (then the reference must wait too).
constexpr pg::Statement kReferences{
    "relay_references",
    "SELECT replace(m.id::text, '-', ''), m.wamid,"
    "  m.wamid IS NULL AND EXISTS (SELECT 1 FROM relay_queue q WHERE q.message_id = m.id) "
    "FROM messages m WHERE m.id = ANY($1::uuid[])",
    std::chrono::milliseconds(10'000)};

}  // namespace wagate::store::relay_sql
