#include <wagate/domain/relay.hpp>

#include <array>

#include <nlohmann/json.hpp>

namespace wagate::domain::relay {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "wagate.";

/// The 32 hex digits of a gateway id, or empty.
std::string gateway_id_digits(const json& value) {
    if (!value.is_string()) {
        return {};
    }
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() != kPrefix.size() + 32 || !text.starts_with(kPrefix)) {
        return {};
    }
    for (std::size_t i = kPrefix.size(); i < text.size(); ++i) {
        const char c = text[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return {};
        }
    }
    return text.substr(kPrefix.size());
}

/// The places a payload names another message: context.message_id, reaction.message_id, and
/// message_id at the top (a mark-as-read).
template <class Visit>
void for_each_reference(json& doc, Visit visit) {
    if (auto it = doc.find("message_id"); it != doc.end()) {
        visit(*it);
    }
    for (const char* holder : {"context", "reaction"}) {
        if (auto h = doc.find(holder); h != doc.end() && h->is_object()) {
            if (auto it = h->find("message_id"); it != h->end()) {
                visit(*it);
            }
        }
    }
}

}  // namespace

std::vector<std::string> referenced_gateway_ids(std::string_view payload_json) {
    std::vector<std::string> ids;
    if (payload_json.find(kPrefix) == std::string_view::npos) {
        return ids;
    }
    json doc = json::parse(payload_json, nullptr, false);
    if (!doc.is_object()) {
        return ids;
    }
    for_each_reference(doc, [&ids](json& value) {
        if (auto digits = gateway_id_digits(value); !digits.empty()) {
            ids.push_back(std::move(digits));
        }
    });
    return ids;
}

std::string replace_references(std::string_view payload_json, const std::map<std::string, std::string>& wamids) {
    json doc = json::parse(payload_json, nullptr, false);
    if (!doc.is_object()) {
        return std::string(payload_json);
    }
    for_each_reference(doc, [&wamids](json& value) {
        if (auto it = wamids.find(gateway_id_digits(value)); it != wamids.end()) {
            value = it->second;
        }
    });
    // The stored payload was serialised the same way (compact, UTF-8 kept as is).
    return doc.dump(-1, ' ', false, json::error_handler_t::strict);
}

}  // namespace wagate::domain::relay
