#include "domain/webhook/lenient.hpp"

#include <charconv>

namespace wagate::domain::webhook {

const Json* member(const Json& object, std::string_view key) noexcept {
    if (!object.is_object()) {
        return nullptr;
    }
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::optional<std::string> text(const Json& object, std::string_view key) {
    const Json* v = member(object, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_string()) {
        return v->get<std::string>();
    }
    if (v->is_number_integer()) {
        return v->dump();
    }
    return std::nullopt;
}

std::string text_or_empty(const Json& object, std::string_view key) { return text(object, key).value_or(""); }

MetaTime meta_time(const Json& object, std::string_view key) {
    constexpr std::int64_t kMax = 1'000'000'000'000;  // year ~33658: anything above is not a time
    const Json* v = member(object, key);
    if (v == nullptr) {
        return {};
    }
    std::int64_t seconds = -1;
    if (v->is_number_unsigned() || v->is_number_integer()) {
        if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(kMax)) {
            return {};
        }
        seconds = v->get<std::int64_t>();
    } else if (v->is_string()) {
        const auto& s = v->get_ref<const std::string&>();
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
        if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
            return {};
        }
    } else {
        return {};
    }
    if (seconds < 0 || seconds > kMax) {
        return {};
    }
    return MetaTime{seconds, true};
}

std::optional<std::string> dump_member(const Json& object, std::string_view key) {
    const Json* v = member(object, key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    return dump(*v);
}

std::string dump(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace wagate::domain::webhook
