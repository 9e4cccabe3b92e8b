#include "json_text.hpp"

#include "utf8.hpp"

namespace wagate::domain {

JsonScanProblem scan_json_text(std::string_view text, std::size_t max_depth) noexcept {
    using ScanProblem = JsonScanProblem;
    if (!send_validation::is_valid_utf8(text)) {
        return ScanProblem::kInvalidUtf8;
    }
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                return ScanProblem::kTooDeep;
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    return ScanProblem::kNone;
}

}  // namespace wagate::domain

namespace wagate::domain::send_validation {

std::optional<Json> parse_json(std::string_view text) {
    // A raw NUL is never valid JSON, but nlohmann's lexer takes it for the end of the input and
    // would accept `{"a":1}\0anything` as `{"a":1}`.
    if (text.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace wagate::domain::send_validation
