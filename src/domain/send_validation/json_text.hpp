#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace wagate::domain::send_validation {

using Json = nlohmann::json;

enum class ScanProblem { kNone, kInvalidUtf8, kTooDeep };

/// One linear pass that runs before any parse, so a hostile body costs O(n) and never builds a
/// deep tree: checks UTF-8 and that `{`/`[` nesting (outside strings) stays within `max_depth`.
ScanProblem scan_json_text(std::string_view text, std::size_t max_depth) noexcept;

/// Parses without exceptions; nullopt for anything that is not a single JSON value.
std::optional<Json> parse_json(std::string_view text);

}  // namespace wagate::domain::send_validation
