#include "api/json_fields.hpp"

#include <algorithm>
#include <charconv>

#include <wagate/domain/send_request.hpp>

namespace wagate::api {
namespace errors = domain::api_errors;

domain::ApiResult<JsonFields> JsonFields::parse(std::string_view body,
                                                std::initializer_list<std::string_view> allowed_keys) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return JsonFields(nlohmann::json::object());
    }
    auto parsed = nlohmann::json::parse(body, nullptr, false);
    if (parsed.is_discarded()) {
        return errors::invalid_parameter("body: not valid JSON");
    }
    if (!parsed.is_object()) {
        return errors::invalid_parameter("body: must be a JSON object");
    }
    for (const auto& [key, value] : parsed.items()) {
        if (std::find(allowed_keys.begin(), allowed_keys.end(), key) == allowed_keys.end()) {
            return errors::unexpected_key(key + ": unexpected key");
        }
    }
    return JsonFields(std::move(parsed));
}

void JsonFields::fail(domain::ApiError e) {
    if (!error_) {
        error_ = std::move(e);
    }
}

const nlohmann::json* JsonFields::find(const char* key, bool required) {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
        if (required) {
            fail(errors::missing_parameter(std::string(key) + ": required"));
        }
        return nullptr;
    }
    return &*it;
}

std::optional<std::string> JsonFields::string(const char* key, std::size_t max_length, bool required) {
    const auto* v = find(key, required);
    if (!v) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        fail(errors::invalid_parameter(std::string(key) + ": must be a string"));
        return std::nullopt;
    }
    const auto& s = v->get_ref<const std::string&>();
    if (domain::count_code_points(s) > max_length) {
        fail(errors::invalid_value(std::string(key) + ": at most " + std::to_string(max_length) +
                                   " characters"));
        return std::nullopt;
    }
    if (required && s.empty()) {
        fail(errors::invalid_value(std::string(key) + ": must not be empty"));
        return std::nullopt;
    }
    return s;
}

std::optional<std::string> JsonFields::one_of(const char* key, std::initializer_list<std::string_view> values) {
    auto s = string(key, 64);
    if (s && std::find(values.begin(), values.end(), *s) == values.end()) {
        std::string allowed;
        for (auto v : values) {
            allowed += (allowed.empty() ? "" : ", ") + std::string(v);
        }
        fail(errors::invalid_parameter(std::string(key) + ": must be one of " + allowed));
        return std::nullopt;
    }
    return s;
}

std::optional<bool> JsonFields::boolean(const char* key) {
    const auto* v = find(key, false);
    if (!v) {
        return std::nullopt;
    }
    if (!v->is_boolean()) {
        fail(errors::invalid_parameter(std::string(key) + ": must be true or false"));
        return std::nullopt;
    }
    return v->get<bool>();
}

std::optional<double> JsonFields::positive_number(const char* key) {
    const auto* v = find(key, false);
    if (!v) {
        return std::nullopt;
    }
    if (!v->is_number() || v->get<double>() <= 0 || v->get<double>() > 1e6) {
        fail(errors::invalid_value(std::string(key) + ": must be a positive number"));
        return std::nullopt;
    }
    return v->get<double>();
}

std::optional<std::int64_t> JsonFields::integer(const char* key, std::int64_t min, std::int64_t max) {
    const auto* v = find(key, false);
    if (!v) {
        return std::nullopt;
    }
    std::optional<std::int64_t> value;
    if (v->is_number_integer()) {
        value = v->get<std::int64_t>();
    } else if (v->is_string()) {
        const auto& text = v->get_ref<const std::string&>();
        std::int64_t parsed = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
        if (ec == std::errc{} && end == text.data() + text.size() && !text.empty()) {
            value = parsed;
        }
    }
    if (!value || *value < min || *value > max) {
        fail(errors::invalid_value(std::string(key) + ": a whole number from " + std::to_string(min) +
                                   " to " + std::to_string(max)));
        return std::nullopt;
    }
    return value;
}

std::optional<std::vector<std::string>> JsonFields::string_array(const char* key, std::size_t max_items,
                                                                 bool required) {
    const auto* v = find(key, required);
    if (!v) {
        return std::nullopt;
    }
    if (!v->is_array()) {
        fail(errors::invalid_parameter(std::string(key) + ": must be an array of strings"));
        return std::nullopt;
    }
    if (v->size() > max_items || (required && v->empty())) {
        fail(errors::invalid_value(std::string(key) + ": 1 to " + std::to_string(max_items) + " items"));
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v->size(); ++i) {
        const auto& item = (*v)[i];
        if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
            fail(errors::invalid_parameter(std::string(key) + "[" + std::to_string(i) +
                                           "]: must be a non-empty string"));
            return std::nullopt;
        }
        out.push_back(item.get<std::string>());
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace wagate::api
