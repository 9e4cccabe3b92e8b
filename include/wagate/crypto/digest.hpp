#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace wagate::crypto {

using Sha256 = std::array<std::uint8_t, 32>;

/// SHA-256 of `data`. Thread-safe.
Sha256 sha256(std::string_view data) noexcept;

/// HMAC-SHA256(key, data), as used by X-Hub-Signature-256. Thread-safe.
Sha256 hmac_sha256(std::string_view key, std::string_view data) noexcept;

/// Lowercase hex of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);

/// The bytes of `hex` (digits in either case); nullopt for an odd length or a non-hex digit.
std::optional<std::string> from_hex(std::string_view hex);

/// Constant-time equality for secrets of possibly different lengths: both sides are hashed first,
/// so neither the content nor the length of the expected value leaks through timing.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// Constant-time equality of two digests.
bool constant_time_equal(const Sha256& a, const Sha256& b) noexcept;

/// Meta's X-Hub-Signature-256 check: `header` is "sha256=" and 64 hex digits (either case), equal
/// to HMAC-SHA256 of the raw `body` bytes under any one of `secrets` (several during a rotation).
/// Each comparison is constant-time; a malformed header or no secret at all never verifies.
bool verify_hub_signature(std::string_view header, std::string_view body, std::span<const std::string> secrets) noexcept;

}  // namespace wagate::crypto
