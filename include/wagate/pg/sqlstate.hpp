#pragma once

#include <string_view>

#include <wagate/core/error.hpp>

namespace wagate::pg {

/// Pure. Maps a five-character SQLSTATE to the gateway's vocabulary:
/// 23505 → kConflict; 40001/40P01 → kRetryable; 57014 → kTimeout; class 08, 57P01–57P03 and
/// 53300 → kDbUnavailable; 22xxx/23xxx (other) → kInvalidArgument; anything else → kInternal.
Errc classify_sqlstate(std::string_view sqlstate) noexcept;

}  // namespace wagate::pg
