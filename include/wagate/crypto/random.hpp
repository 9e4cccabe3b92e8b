#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace wagate::crypto {

/// `n` bytes from OpenSSL's CSPRNG, as lowercase hex (2n characters). Throws std::runtime_error
/// only if the CSPRNG fails, which is not a condition the gateway can serve through.
std::string random_hex(std::size_t n);

/// A UUIDv7 (RFC 9562) as 32 lowercase hex digits without hyphens: 48 bits of Unix milliseconds,
/// then random bits, so ids sort by creation time and B-tree inserts stay at the right edge.
std::string uuid_v7_hex(std::chrono::system_clock::time_point now);

}  // namespace wagate::crypto
