#include "content.hpp"
#include "utf8.hpp"

namespace wagate::domain::send_validation {

Status validate_text(const ObjectReader& text, bool direct_send) {
    if (auto ok = text.allow_only({"body", "preview_url"}); !ok) {
        return ok;
    }
    // Direct Send applies the template limits (reference §8.11), so its body is capped at 1024.
    const std::size_t max_chars = direct_send ? 1024 : 4096;
    auto body = text.required_string("body", {.max_chars = max_chars});
    if (!body) {
        return body.error();
    }
    if (is_blank(*body)) {
        return invalid_error(text.path_of("body"), "must not be blank");
    }
    auto preview = text.optional_bool("preview_url");
    if (!preview) {
        return preview.error();
    }
    if (*preview && direct_send) {
        return invalid_error(text.path_of("preview_url"), "not supported with Direct Send");
    }
    return {};
}

}  // namespace wagate::domain::send_validation
