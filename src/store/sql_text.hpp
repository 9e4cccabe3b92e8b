#pragma once

// SQL text shared by the store's statements (string literals, so that statements stay constexpr).

// A timestamptz column as the API shows every time: RFC 3339, UTC, milliseconds.
#define WAGATE_SQL_RFC3339(column) \
    "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
