#pragma once

#include <chrono>

#include <wagate/pg/statement.hpp>

#include "store/sql_text.hpp"

// The SQL of event delivery (docs/events.md). Events are written by the statements that cause
// them (store/event_sql.hpp); these claim, record, list and replay them. Like the relay, a
// claim raises `attempts` and every later write names the attempt, so an instance whose lease
// lapsed cannot overwrite the claim of the instance that took over.
//
// The delivery statements are planned at every execution (pg::Planning::kEachTime): the outbox
// grows from empty to a backlog in seconds, and generic plans made while it was small (a hash
// join over the whole table to record a few results) stayed in use until the next ANALYZE
// (bench/events.md: live delivery at 617-855 events/s with cached plans, 2,118 with per-execution
// plans everywhere).
namespace wagate::store::event_sql {

// Claims due events on the database's clock: per number, its oldest due events that no earlier
// pending event of the same ordering key holds back (a message's statuses go one at a time, in
// order); per callback URL at most $1, or its room here ($5 for URLs $4, the instance's
// per-URL concurrency minus what it already holds), and one (a probe) for a URL that is failing
// and whose wait (event_endpoints.retry_at) is over, unless this instance still holds one for it
// (its room is below $1): a backend that hangs instead of failing gets one probe at a time per
// instance, not one per claim; a failing URL still waiting gets none; $2 in all, the URLs taking
// turns. $3: the lease in ms.
constexpr pg::Statement kClaim{
    "events_claim",
    "WITH clock AS (SELECT clock_timestamp() AS t), "
    "numbers AS ("
    "  SELECT n.id, n.callback_url, COALESCE(h.failures, 0) AS failures,"
    "    CASE WHEN h.failures > 0 THEN CASE WHEN COALESCE(b.room, $1) >= $1 THEN 1 ELSE 0 END"
    "      ELSE LEAST(COALESCE(b.room, $1), $1) END AS room"
    "  FROM phone_numbers n CROSS JOIN clock LEFT JOIN event_endpoints h ON h.url = n.callback_url"
    "  LEFT JOIN unnest($4::text[], $5::int[]) AS b(url, room) ON b.url = n.callback_url"
    "  WHERE n.callback_url <> '' AND COALESCE(b.room, 1) > 0"
    "    AND (h.retry_at IS NULL OR h.retry_at <= clock.t)), "
    "candidates AS ("
    "  SELECT c.id, c.due_at, nu.callback_url, nu.failures, nu.room FROM numbers nu CROSS JOIN clock"
    "  CROSS JOIN LATERAL ("
    "    SELECT e.id, e.due_at FROM events e"
    "    WHERE e.phone_number_id = nu.id AND e.state = 'pending' AND e.due_at <= clock.t"
    "      AND (e.locked_until IS NULL OR e.locked_until <= clock.t)"
    "      AND (e.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM events p WHERE p.ordering_key = e.ordering_key"
    "        AND p.state = 'pending' AND p.id < e.id))"
    "    ORDER BY e.due_at, e.id LIMIT nu.room FOR UPDATE SKIP LOCKED) c), "
    "picked AS ("
    "  SELECT id, failures FROM (SELECT id, due_at, failures, room,"
    "    row_number() OVER (PARTITION BY callback_url ORDER BY due_at, id) AS turn FROM candidates) r"
    "  WHERE turn <= room ORDER BY turn, due_at, id LIMIT $2) "
    "UPDATE events e SET locked_until = clock.t + $3::bigint * interval '1 millisecond', attempts = e.attempts + 1 "
    "FROM picked p, clock, phone_numbers n WHERE e.id = p.id AND n.id = e.phone_number_id "
    "RETURNING e.id, e.phone_number_id, e.attempts, e.payload::text, n.callback_url, n.callback_secret,"
    "  p.failures, " WAGATE_SQL_TO_MICROS("COALESCE(e.replayed_at, e.created_at)"),
    std::chrono::milliseconds(10'000), pg::Planning::kEachTime};

enum ClaimColumn : int { kId, kPhoneNumberId, kAttempts, kPayload, kUrl, kSecret, kEndpointFailures, kAgeFromMicros };

// Acknowledged ($1 ids, $2 claimed attempt), and their URLs ($3) are healthy again: a URL that
// was failing lets its whole backlog through at once.
constexpr pg::Statement kRecordDelivered{
    "events_record_delivered",
    "WITH done AS ("
    "  UPDATE events e SET state = 'delivered', finished_at = now(), locked_until = NULL, last_error = NULL"
    "  FROM unnest($1::bigint[], $2::int[]) AS r(id, attempt)"
    "  WHERE e.id = r.id AND e.attempts = r.attempt AND e.state = 'pending' RETURNING 1), "
    "healed AS (DELETE FROM event_endpoints WHERE url = ANY($3::text[]) RETURNING 1) "
    "SELECT (SELECT count(*) FROM done)",
    std::chrono::milliseconds(10'000), pg::Planning::kEachTime};

// Not acknowledged ($1 ids, $2 claimed attempt, $3 next attempt µs, $4 what happened): due
// again later, or dead ($5) when past the give-up age. The URLs ($6, distinct) wait until $7 µs,
// having failed $8 times in a row, the last time with $9.
constexpr pg::Statement kRecordFailed{
    "events_record_failed",
    "WITH retried AS ("
    "  UPDATE events e SET due_at = " WAGATE_SQL_FROM_MICROS("r.at") ", locked_until = NULL, last_error = r.error,"
    "    state = CASE WHEN r.dead THEN 'dead' ELSE 'pending' END,"
    "    finished_at = CASE WHEN r.dead THEN now() END"
    "  FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::text[], $5::boolean[]) AS r(id, attempt, at, error, dead)"
    "  WHERE e.id = r.id AND e.attempts = r.attempt AND e.state = 'pending' RETURNING 1), "
    "failing AS ("
    "  INSERT INTO event_endpoints AS h (url, failures, retry_at, last_error)"
    "  SELECT url, failures, " WAGATE_SQL_FROM_MICROS("at") ", error"
    "  FROM unnest($6::text[], $7::bigint[], $8::int[], $9::text[]) AS f(url, at, failures, error)"
    "  ON CONFLICT (url) DO UPDATE SET failures = GREATEST(h.failures, excluded.failures),"
    "    retry_at = GREATEST(h.retry_at, excluded.retry_at), last_error = excluded.last_error, updated_at = now()"
    "  RETURNING 1) "
    "SELECT (SELECT count(*) FROM retried)",
    std::chrono::milliseconds(10'000), pg::Planning::kEachTime};

// Gives claimed events back without counting the attempt (shutdown, or the lease ran short).
constexpr pg::Statement kRelease{
    "events_release",
    "UPDATE events e SET locked_until = NULL, attempts = e.attempts - 1 "
    "FROM unnest($1::bigint[], $2::int[]) AS r(id, attempt) "
    "WHERE e.id = r.id AND e.attempts = r.attempt AND e.state = 'pending'",
    std::chrono::milliseconds(10'000), pg::Planning::kEachTime};

// Pending events older than the give-up age ($1 s), counted from their creation or replay,
// that nobody holds: dead. (Events that are tried die in kRecordFailed; this takes those that
// cannot be tried: no callback URL, or a URL failing for that long.)
constexpr pg::Statement kExpire{
    "events_expire",
    "UPDATE events SET state = 'dead', finished_at = now(),"
    "  last_error = COALESCE(last_error, 'not delivered within the give-up age')"
    " WHERE state = 'pending' AND COALESCE(replayed_at, created_at) < now() - $1::bigint * interval '1 second'"
    "   AND (locked_until IS NULL OR locked_until < now())",
    std::chrono::milliseconds(60'000)};

// Delivered and dead events that finished more than $1 hours ago.
constexpr pg::Statement kPrune{
    "events_prune",
    "DELETE FROM events WHERE finished_at < now() - make_interval(hours => $1::int)",
    std::chrono::milliseconds(60'000)};

#define WAGATE_EVENT_COLUMNS                                                                         \
    "id, txid::text, " WAGATE_SQL_RFC3339("created_at") ", state, attempts, last_error, payload::text," \
    " phone_number_id, kind, CASE WHEN finished_at IS NULL THEN NULL ELSE " WAGATE_SQL_RFC3339("finished_at") " END"

enum EventColumn : int {
    kEventId, kEventTxid, kEventCreatedAt, kEventState, kEventAttempts, kEventLastError, kEventPayload,
    kEventPhoneNumberId, kEventKind, kEventFinishedAt,
};

// A page of number $1's events after cursor ($2 txid, $3 id), $4 at most, in (txid, id) order,
// only from transactions older than every one still running: an event that commits later will
// have a txid at or above that horizon, hence after this page, never skipped.
constexpr pg::Statement kList{
    "events_list",
    "SELECT " WAGATE_EVENT_COLUMNS " FROM events"
    " WHERE phone_number_id = $1 AND (txid, id) > ($2::text::xid8, $3::bigint)"
    "   AND txid < pg_snapshot_xmin(pg_current_snapshot())"
    " ORDER BY txid, id LIMIT $4",
    std::chrono::milliseconds(10'000)};

constexpr pg::Statement kGet{"events_get", "SELECT " WAGATE_EVENT_COLUMNS " FROM events WHERE id = $1",
                             std::chrono::milliseconds(10'000)};

// A dead event pending again, now, with its attempts reset and its give-up age counted from now.
// Returns its state before: 'dead' when replayed, anything else when left alone.
constexpr pg::Statement kReplay{
    "events_replay",
    "WITH old AS (SELECT id, state FROM events WHERE id = $1 FOR UPDATE), "
    "replayed AS ("
    "  UPDATE events e SET state = 'pending', due_at = now(), attempts = 0, locked_until = NULL,"
    "    finished_at = NULL, replayed_at = now()"
    "  FROM old WHERE e.id = old.id AND old.state = 'dead' RETURNING 1) "
    "SELECT state FROM old",
    std::chrono::milliseconds(10'000)};

}  // namespace wagate::store::event_sql
