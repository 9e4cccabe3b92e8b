#include <wagate/domain/events.hpp>

#include <charconv>

#include <nlohmann/json.hpp>

namespace wagate::domain::events {

std::optional<std::string> delivery_body(std::string_view payload_json) {
    // ordered_json keeps the members in the stored order; ensure_ascii writes \u escapes in
    // lowercase hex with surrogate pairs, which is exactly the wire form of the contract.
    auto parsed = nlohmann::ordered_json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
        return std::nullopt;
    }
    return parsed.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::ordered_json::error_handler_t::replace);
}

std::string to_string(const Cursor& c) { return std::to_string(c.txid) + "." + std::to_string(c.id); }

namespace {

/// A canonical decimal (no sign, no leading zero but "0") that fits T.
template <class T>
std::optional<T> canonical_decimal(std::string_view text) {
    if (text.empty() || text.size() > 20 || (text.size() > 1 && text.front() == '0')) {
        return std::nullopt;
    }
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<Cursor> parse_cursor(std::string_view text) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    const auto txid = canonical_decimal<std::uint64_t>(text.substr(0, dot));
    const auto id = canonical_decimal<std::int64_t>(text.substr(dot + 1));
    if (!txid || !id || text.substr(dot + 1).front() == '-') {
        return std::nullopt;
    }
    return Cursor{*txid, *id};
}

}  // namespace wagate::domain::events
