#include <algorithm>
#include <utility>
#include <wagate/domain/send_request.hpp>
#include <wagate/domain/templates.hpp>

#include "domain/send_validation/field_reader.hpp"

namespace wagate::domain {
namespace {

using send_validation::invalid_error;

// The send API caps `parameter_name` at 20 characters; a longer name could never be filled in.
constexpr std::size_t kMaxNameChars = 20;

struct Occurrence {
    std::size_t begin = 0;  // byte offset of "{{"
    std::size_t end = 0;    // byte offset just past "}}"
    std::string variable;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_'; }

// Every "{{…}}" in `text`; the reason on failure. Braces are ASCII, so a byte scan is UTF-8 safe.
std::optional<std::string> scan(std::string_view text, std::vector<Occurrence>& out) {
    for (std::size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", at)) {
        const std::size_t close = text.find("}}", at + 2);
        if (close == std::string_view::npos) {
            return "unclosed \"{{\"";
        }
        const std::string_view inner = text.substr(at + 2, close - at - 2);
        const std::string shown = "{{" + std::string(inner) + "}}";
        const bool digits = !inner.empty() && std::all_of(inner.begin(), inner.end(), is_digit);
        const bool name = !inner.empty() && std::all_of(inner.begin(), inner.end(), is_name_char);
        if (!name || (digits && inner.front() == '0')) {
            return shown +
                   " is not a placeholder: use {{1}}, {{2}}, ... or lower-case names like "
                   "{{first_name}}";
        }
        if (!digits && inner.size() > kMaxNameChars) {
            return shown + ": placeholder names are at most 20 characters";
        }
        out.push_back({at, close + 2, std::string(inner)});
        at = close + 2;
    }
    return std::nullopt;
}

}  // namespace

ApiResult<TemplateText> parse_template_text(std::string text, std::string_view path) {
    std::vector<Occurrence> found;
    if (auto reason = scan(text, found)) {
        return invalid_error(path, *reason);
    }
    TemplateText parsed;
    bool positional = false;
    for (const auto& occurrence : found) {
        const std::string& variable = occurrence.variable;
        const bool digits = is_digit(variable.front());
        (digits ? positional : parsed.named) = true;
        if (positional && parsed.named) {
            return invalid_error(path, "named and positional placeholders cannot be mixed");
        }
        if (std::find(parsed.variables.begin(), parsed.variables.end(), variable) !=
            parsed.variables.end()) {
            continue;
        }
        const std::string expected = std::to_string(parsed.variables.size() + 1);
        if (digits && variable != expected) {
            return invalid_error(path, "{{" + variable + "}} where {{" + expected +
                                           "}} was expected: number placeholders 1..n in order "
                                           "of first appearance");
        }
        parsed.variables.push_back(variable);
    }
    parsed.text = std::move(text);
    return parsed;
}

std::size_t hydrated_length(const TemplateText& text,
                            const std::map<std::string, std::string>& values) {
    std::vector<Occurrence> found;
    scan(text.text, found);
    // Placeholders are ASCII: one code point per byte.
    std::size_t length = count_code_points(text.text);
    for (const auto& occurrence : found) {
        const auto value = values.find(occurrence.variable);
        if (value != values.end()) {
            length =
                length - (occurrence.end - occurrence.begin) + count_code_points(value->second);
        }
    }
    return length;
}

}  // namespace wagate::domain
