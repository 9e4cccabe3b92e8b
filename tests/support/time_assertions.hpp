#pragma once

#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace wagate::test {

/// Unix seconds as UTC date and time to the second, "2025-01-02T03:04:05": how a time appears in
/// error details, whether the gateway then writes "Z" or ".000Z".
std::string utc_to_the_second(std::int64_t unix_seconds);

/// True if `value` is an RFC 3339 UTC time ("…Z" or "…+00:00", any zero fraction) for exactly
/// `unix_seconds`. Tests move their ManualClock by whole seconds.
::testing::AssertionResult is_time(const nlohmann::json& value, std::int64_t unix_seconds);

}  // namespace wagate::test
