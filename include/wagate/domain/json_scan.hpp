#pragma once

#include <cstddef>
#include <string_view>

namespace wagate::domain {

enum class JsonScanProblem { kNone, kInvalidUtf8, kTooDeep };

/// One linear pass that runs before any parse, so a hostile body costs O(n) and never builds a
/// deep tree: checks UTF-8 and that `{`/`[` nesting (outside strings) stays within `max_depth`.
JsonScanProblem scan_json_text(std::string_view text, std::size_t max_depth) noexcept;

}  // namespace wagate::domain
