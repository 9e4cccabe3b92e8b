#pragma once

#include <wagate/pg/statement.hpp>

namespace wagate::store {

// Shared by the accept path (after losing a key race) and the pre-check in MessageStore.
inline constexpr pg::Statement kFindIdempotency{
    "idempotency_find",
    "SELECT encode(request_hash, 'hex'), response FROM idempotency_keys "
    "WHERE api_key_id = $1::uuid AND key = $2"};

}  // namespace wagate::store
