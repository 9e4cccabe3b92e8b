#include <cmath>

#include "content.hpp"
#include "emoji.hpp"
#include "text_rules.hpp"

namespace wagate::domain::send_validation {
namespace {

// Current docs show coordinates as strings, the legacy docs as numbers: accept both.
Status check_coordinate(const ObjectReader& location, std::string_view key, double limit) {
    const std::string path = location.path_of(key);
    const Json* value = location.find(key);
    if (value == nullptr) {
        return required_error(path);
    }
    double degrees = 0;
    if (value->is_number()) {
        degrees = value->get<double>();
    } else if (value->is_string()) {
        const auto parsed = parse_decimal(value->get_ref<const std::string&>());
        if (!parsed) {
            return invalid_error(path, "must be a decimal number");
        }
        degrees = *parsed;
    } else {
        return type_error(path, "a number or a numeric string");
    }
    if (!std::isfinite(degrees) || std::fabs(degrees) > limit) {
        const std::string bound = limit == 90 ? "90" : "180";
        return invalid_error(path, "must be between -" + bound + " and " + bound);
    }
    return {};
}

}  // namespace

Status validate_location(const ObjectReader& location) {
    if (auto ok = location.allow_only({"latitude", "longitude", "name", "address"}); !ok) {
        return ok;
    }
    if (auto ok = check_coordinate(location, "latitude", 90); !ok) {
        return ok;
    }
    if (auto ok = check_coordinate(location, "longitude", 180); !ok) {
        return ok;
    }
    if (auto name = location.optional_string("name", {.max_chars = 1000}); !name) {
        return name.error();
    }
    if (auto address = location.optional_string("address", {.max_chars = 1000}); !address) {
        return address.error();
    }
    return {};
}

ApiResult<std::string> validate_reaction(const ObjectReader& reaction) {
    if (auto ok = reaction.allow_only({"message_id", "emoji"}); !ok) {
        return ok.error();
    }
    auto id = reaction.required_string("message_id", {.max_chars = 128});
    if (!id) {
        return id.error();
    }
    // "" removes an earlier reaction; anything else must be exactly one emoji.
    auto emoji = reaction.required_string("emoji", {.allow_empty = true});
    if (!emoji) {
        return emoji.error();
    }
    if (!emoji->empty() && !is_single_emoji(*emoji)) {
        return invalid_error(reaction.path_of("emoji"),
                             "must be exactly one emoji, or empty to remove a reaction");
    }
    return id;
}

}  // namespace wagate::domain::send_validation
