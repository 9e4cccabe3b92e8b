#include "interactive_parts.hpp"
#include "text_rules.hpp"

namespace wagate::domain::send_validation {
namespace {

// Keys of an India address form (reference §8.9). `values` and saved addresses hold field values;
// `validation_errors` holds one message per field, so the pin-code length does not apply to it.
Status check_address_fields(const ObjectReader& fields, bool are_messages) {
    if (auto ok = fields.allow_only({"name", "phone_number", "in_pin_code", "house_number",
                                     "floor_number", "tower_number", "building_name", "address",
                                     "landmark_area", "city", "state"});
        !ok) {
        return ok;
    }
    for (const auto& [key, value] : fields.json().items()) {
        if (!value.is_string()) {
            return type_error(fields.path_of(key), "a string");
        }
    }
    if (are_messages) {
        return {};
    }
    return status_of(fields.optional_string("in_pin_code", {.max_chars = 6}));
}

Status check_optional_address_object(const ObjectReader& parameters,
                                     std::string_view key,
                                     bool are_messages) {
    auto object = parameters.optional_object(key);
    if (!object || !*object) {
        return status_of(object);
    }
    return check_address_fields(**object, are_messages);
}

Status check_saved_addresses(const ObjectReader& parameters) {
    auto saved = parameters.optional_array("saved_addresses");
    if (!saved || !*saved) {
        return status_of(saved);
    }
    for (std::size_t i = 0; i < (*saved)->size(); ++i) {
        auto address = (*saved)->object_at(i);
        if (!address) {
            return address.error();
        }
        if (auto ok = address->allow_only({"id", "value"}); !ok) {
            return ok;
        }
        if (auto id = address->required_string("id"); !id) {
            return id.error();
        }
        auto value = address->required_object("value");
        if (!value) {
            return value.error();
        }
        if (auto ok = check_address_fields(*value, /*are_messages=*/false); !ok) {
            return ok;
        }
    }
    return {};
}

}  // namespace

Status validate_location_request_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"name"}); !ok) {
        return ok;
    }
    return status_of(action.required_enum("name", {"send_location"}));
}

Status validate_address_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"name", "parameters"}); !ok) {
        return ok;
    }
    if (auto name = action.required_enum("name", {"address_message"}); !name) {
        return name.error();
    }
    auto params = action.required_object("parameters");
    if (!params) {
        return params.error();
    }
    if (auto ok = params->allow_only({"country", "values", "saved_addresses", "validation_errors"});
        !ok) {
        return ok;
    }
    auto country = params->required_string("country");
    if (!country) {
        return country.error();
    }
    if (country->size() != 2 || !is_ascii_upper(*country)) {
        return invalid_error(params->path_of("country"), "must be a 2-letter ISO country code");
    }
    if (auto ok = check_optional_address_object(*params, "values", /*are_messages=*/false); !ok) {
        return ok;
    }
    if (auto ok = check_saved_addresses(*params); !ok) {
        return ok;
    }
    return check_optional_address_object(*params, "validation_errors", /*are_messages=*/true);
}

Status validate_voice_call_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"name", "parameters"}); !ok) {
        return ok;
    }
    if (auto name = action.required_enum("name", {"voice_call"}); !name) {
        return name.error();
    }
    auto params = action.optional_object("parameters");
    if (!params || !*params) {
        return status_of(params);
    }
    const ObjectReader& p = **params;
    if (auto ok = p.allow_only({"display_text", "ttl_minutes", "payload"}); !ok) {
        return ok;
    }
    if (auto text = p.optional_string("display_text", {.max_chars = 20}); !text) {
        return text.error();
    }
    auto ttl = p.optional_integer("ttl_minutes");
    if (!ttl) {
        return ttl.error();
    }
    if (*ttl && (**ttl < 1 || **ttl > 43200)) {
        return invalid_error(p.path_of("ttl_minutes"), "must be between 1 and 43200");
    }
    return status_of(p.optional_string("payload"));
}

Status validate_call_permission_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"name"}); !ok) {
        return ok;
    }
    return status_of(action.required_enum("name", {"call_permission_request"}));
}

}  // namespace wagate::domain::send_validation
