#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <wagate/domain/webhook.hpp>

namespace wagate::domain::webhook {

using Json = nlohmann::json;

// Lenient reads of Meta's fields: Meta writes ids and timestamps sometimes as strings and
// sometimes as numbers (reference §3.2), so every read accepts both and never throws.

/// The member `key` of `object` if `object` is an object that has it; nullptr otherwise.
const Json* member(const Json& object, std::string_view key) noexcept;

/// A string member as is, an integer member in decimal; nullopt for absent, null or other kinds.
std::optional<std::string> text(const Json& object, std::string_view key);

/// text(), or "" when it is absent.
std::string text_or_empty(const Json& object, std::string_view key);

/// Unix seconds from a string of digits or an integer, within 0 .. 10^12.
MetaTime meta_time(const Json& object, std::string_view key);

/// The member serialised, when present and not null.
std::optional<std::string> dump_member(const Json& object, std::string_view key);

/// JSON text of `value`; invalid UTF-8 inside strings is replaced rather than thrown on.
std::string dump(const Json& value);

}  // namespace wagate::domain::webhook
