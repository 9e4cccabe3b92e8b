#include "sandbox/inbound_request.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <wagate/domain/json_scan.hpp>

namespace wagate::sandbox {
namespace {

using Json = nlohmann::json;
using domain::ApiError;
namespace api_errors = domain::api_errors;

bool all_of(std::string_view s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_id_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '.' || c == '_' || c == '-';
}
bool is_type_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

/// A required string member: 131008 when absent, 131009 when not a string or not matching `ok`.
domain::ApiResult<std::string> required_string(const Json& body, const char* key, std::size_t max_size,
                                               bool (*ok)(char), const char* rule) {
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) {
        return api_errors::missing_parameter(std::string(key) + ": required");
    }
    if (!it->is_string()) {
        return api_errors::invalid_value(std::string(key) + ": must be a string");
    }
    std::string value = it->get<std::string>();
    if (value.empty() || value.size() > max_size || !all_of(value, ok)) {
        return api_errors::invalid_value(std::string(key) + ": " + rule);
    }
    return value;
}

/// The message's time, `now_unix_s` when absent; nullopt when malformed. (An optional, not an
/// ApiResult: ApiError is constructible from an integer, which makes result<int64> ambiguous.)
std::optional<std::int64_t> read_timestamp(const Json& body, std::int64_t now_unix_s) {
    const auto it = body.find("timestamp");
    if (it == body.end() || it->is_null()) {
        return now_unix_s;
    }
    if (it->is_number_unsigned()) {
        return static_cast<std::int64_t>(std::min<std::uint64_t>(it->get<std::uint64_t>(), 9'999'999'999ULL));
    }
    if (it->is_string()) {
        const std::string text = it->get<std::string>();
        if (!text.empty() && text.size() <= 10 && all_of(text, is_digit)) {
            return static_cast<std::int64_t>(std::stoll(text));
        }
    }
    return std::nullopt;
}

}  // namespace

domain::ApiResult<InboundMessage> parse_inbound_request(std::string_view text, std::int64_t now_unix_s) {
    switch (domain::scan_json_text(text, 32)) {
        case domain::JsonScanProblem::kNone: break;
        case domain::JsonScanProblem::kInvalidUtf8: return api_errors::invalid_parameter("body: not valid UTF-8");
        case domain::JsonScanProblem::kTooDeep:
            return api_errors::invalid_parameter("body: nested deeper than 32 levels");
    }
    const Json body = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) {
        return api_errors::invalid_parameter("body: must be a JSON object");
    }
    InboundMessage m;
    auto phone_number_id = required_string(body, "phone_number_id", 128, is_id_char,
                                           "must be a phone number id ([A-Za-z0-9._-], at most 128)");
    if (!phone_number_id) {
        return phone_number_id.error();
    }
    m.phone_number_id = std::move(*phone_number_id);
    auto from = required_string(body, "from", 20, is_digit, "must be the user's phone number, digits only");
    if (!from) {
        return from.error();
    }
    m.from = std::move(*from);
    auto type = required_string(body, "type", 64, is_type_char, "must be a message type such as \"text\"");
    if (!type) {
        return type.error();
    }
    m.type = std::move(*type);

    for (const auto& [key, value] : body.items()) {
        const bool known = key == "phone_number_id" || key == "from" || key == "type" || key == "name" ||
                           key == "timestamp" || key == "context" || key == "referral" || key == "errors" ||
                           key == m.type;
        if (!known) {
            return api_errors::unexpected_key(key + ": unexpected key");
        }
    }

    const auto content = body.find(m.type);
    if (content == body.end() || content->is_null()) {
        return api_errors::missing_parameter(m.type + ": required for type \"" + m.type + "\"");
    }
    // Inbound `contacts` is an array of cards; every other type carries an object.
    const bool shape_ok = m.type == "contacts" ? content->is_array() : content->is_object();
    if (!shape_ok) {
        return api_errors::invalid_value(m.type + ": must be " + (m.type == "contacts" ? "an array" : "an object"));
    }
    if (m.type == "text") {
        const auto text_body = content->find("body");
        if (text_body == content->end() || text_body->is_null()) {
            return api_errors::missing_parameter("text.body: required");
        }
        if (!text_body->is_string() || text_body->get_ref<const std::string&>().empty()) {
            return api_errors::invalid_value("text.body: must be a non-empty string");
        }
    }
    m.members.emplace_back(m.type, content->dump());
    for (const char* key : {"context", "referral", "errors"}) {
        const auto it = body.find(key);
        if (it == body.end() || key == m.type) {
            continue;
        }
        const bool ok = std::string_view(key) == "errors" ? it->is_array() : it->is_object();
        if (!ok) {
            return api_errors::invalid_value(std::string(key) + ": must be " +
                                             (std::string_view(key) == "errors" ? "an array" : "an object"));
        }
        m.members.emplace_back(key, it->dump());
    }

    const auto name = body.find("name");
    if (name != body.end() && !name->is_null() && !name->is_string()) {
        return api_errors::invalid_value("name: must be a string");
    }
    m.profile_name = name != body.end() && name->is_string() ? name->get<std::string>() : "Sandbox User";
    const auto timestamp = read_timestamp(body, now_unix_s);
    if (!timestamp) {
        return api_errors::invalid_value("timestamp: must be Unix seconds, as a string of digits or an integer");
    }
    m.timestamp = *timestamp;
    return m;
}

}  // namespace wagate::sandbox
