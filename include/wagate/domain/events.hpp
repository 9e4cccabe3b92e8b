#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Pure rules of event delivery to business backends (contract §7, docs/events.md).
namespace wagate::domain::events {

/// The bytes a backend receives for a stored payload (JSON text): compact, members in the order
/// given, every non-ASCII character as a lowercase \uXXXX escape (astral characters as surrogate
/// pairs). Deterministic, so every attempt sends, and signs, the same bytes; and a fixed point of
/// "parse, then serialise compactly with ASCII escapes", so a backend that re-serialises before
/// checking the signature computes the same bytes. nullopt if `payload_json` is not JSON.
std::optional<std::string> delivery_body(std::string_view payload_json);

/// Whether a backend's answer acknowledges the event: any 2xx (a redirect is not followed).
constexpr bool acknowledges(int http_status) noexcept { return http_status >= 200 && http_status < 300; }

/// A position in a number's event stream: events are listed in (txid, id) order, where txid is
/// the transaction that wrote the event. Shown to clients as an opaque string.
struct Cursor {
    std::uint64_t txid = 0;
    std::int64_t id = 0;
    friend bool operator==(const Cursor&, const Cursor&) = default;
};

std::string to_string(const Cursor& c);
/// nullopt unless `text` is exactly what to_string produces for some cursor.
std::optional<Cursor> parse_cursor(std::string_view text);

// Retries wait domain::relay::retry_delay (doubling from a base to a cap, equal jitter), the same
// rule as the relay's, with the event delivery's own base and cap.

}  // namespace wagate::domain::events
