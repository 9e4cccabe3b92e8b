#pragma once

// SQL text shared by the store's statements (string literals, so that statements stay constexpr).

// A timestamptz column as the API shows every time: RFC 3339, UTC, milliseconds.
#define WAGATE_SQL_RFC3339(column) \
    "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

// Instants cross the wire as whole microseconds since the Unix epoch (PostgreSQL's own
// resolution), so the gateway's clock and the database agree exactly on every comparison.
#define WAGATE_SQL_FROM_MICROS(param) "('epoch'::timestamptz + (" param ")::bigint * interval '1 microsecond')"
#define WAGATE_SQL_TO_MICROS(column) "(extract(epoch FROM " column ") * 1000000)::bigint"
