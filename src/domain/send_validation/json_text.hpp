#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>
#include <wagate/domain/json_scan.hpp>

namespace wagate::domain::send_validation {

using Json = nlohmann::json;

using ScanProblem = JsonScanProblem;
using domain::scan_json_text;

/// Parses without exceptions; nullopt for anything that is not a single JSON value.
std::optional<Json> parse_json(std::string_view text);

}  // namespace wagate::domain::send_validation
