#include "content.hpp"

namespace wagate::domain::send_validation {

Status validate_pin(const ObjectReader& pin) {
    if (auto ok = pin.allow_only({"type", "message_id", "expiration_days"}); !ok) {
        return ok;
    }
    auto type = pin.required_enum("type", {"pin", "unpin"});
    if (!type) {
        return type.error();
    }
    if (auto id = pin.required_string("message_id", {.max_chars = 128}); !id) {
        return id.error();
    }
    auto days = pin.optional_integer("expiration_days");
    if (!days) {
        return days.error();
    }
    // WhatsApp offers pins of 1 to 30 days; an unpin has nothing to expire.
    if (*type == "unpin") {
        if (*days) {
            return invalid_error(pin.path_of("expiration_days"), "only for type pin");
        }
        return {};
    }
    if (!*days) {
        return required_error(pin.path_of("expiration_days"));
    }
    if (**days < 1 || **days > 30) {
        return invalid_error(pin.path_of("expiration_days"), "must be between 1 and 30");
    }
    return {};
}

}  // namespace wagate::domain::send_validation
