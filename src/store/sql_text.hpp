#pragma once

#include <chrono>
#include <cstdint>

#include <wagate/pg/statement.hpp>

// SQL text shared by the store's statements (string literals, so that statements stay constexpr).

// A timestamptz column as the API shows every time: RFC 3339, UTC, milliseconds.
#define WAGATE_SQL_RFC3339(column) \
    "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

// Instants cross the wire as whole microseconds since the Unix epoch (PostgreSQL's own
// resolution), so the gateway's clock and the database agree exactly on every comparison.
#define WAGATE_SQL_FROM_MICROS(param) "('epoch'::timestamptz + (" param ")::bigint * interval '1 microsecond')"
#define WAGATE_SQL_TO_MICROS(column) "(extract(epoch FROM " column ") * 1000000)::bigint"

namespace wagate::store {

/// The parameter form of an instant for WAGATE_SQL_FROM_MICROS (whole microseconds, truncated).
inline std::int64_t to_micros(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

/// The inverse, for a column read with WAGATE_SQL_TO_MICROS.
inline std::chrono::system_clock::time_point from_micros(std::int64_t micros) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(micros)));
}

/// One statement's parameters: each array literal, in order. (Variadic, not an initializer list:
/// GCC 12 rejects initializer-list temporaries in coroutine bodies, docs/adr/0002.)
template <class... Arrays>
pg::Params array_params(const Arrays&... arrays) {
    pg::Params params;
    (params.add(arrays.str()), ...);
    return params;
}

/// Locks one business row until the transaction ends, for changes that must not interleave with
/// another change of the same business (its tier, its counter). NO KEY UPDATE: foreign-key
/// checks against the business still pass.
constexpr pg::Statement kLockBusinessRow{"business_lock_row",
                                         "SELECT 1 FROM businesses WHERE id = $1 FOR NO KEY UPDATE"};

}  // namespace wagate::store
