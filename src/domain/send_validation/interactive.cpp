#include <algorithm>
#include <iterator>
#include <vector>

#include "interactive_parts.hpp"

namespace wagate::domain::send_validation {
namespace {

struct InteractiveKind {
    std::string_view type;
    PartsRule parts;
    Status (*validate_action)(const ObjectReader&);
    bool direct_send;  // Direct Send supports reply buttons, CTA URL and the call button only
};

constexpr InteractiveKind kKinds[] = {
    {"button", {.header_kinds = kAnyHeader}, validate_button_action, true},
    {"list", {.header_kinds = kTextHeader, .body_max = 4096}, validate_list_action, false},
    {"cta_url", {.header_kinds = kAnyHeader}, validate_cta_url_action, true},
    {"flow", {.header_kinds = kAnyHeader}, validate_flow_action, false},
    {"product", {.body_required = false}, validate_product_action, false},
    {"product_list",
     {.header_kinds = kTextHeader, .header_required = true},
     validate_product_list_action,
     false},
    {"catalog_message", {}, validate_catalog_action, false},
    {"location_request_message",
     {.footer_allowed = false},
     validate_location_request_action,
     false},
    {"carousel", {.footer_allowed = false}, validate_carousel_action, false},
    {"address_message", {}, validate_address_action, false},
    {"voice_call", {}, validate_voice_call_action, true},
    {"call_permission_request", {}, validate_call_permission_action, false},
};

unsigned header_kind_bit(std::string_view header_type) {
    if (header_type == "text") {
        return kTextHeader;
    }
    if (header_type == "image") {
        return kImageHeader;
    }
    return header_type == "video" ? kVideoHeader : kDocumentHeader;
}

Status validate_header(const ObjectReader& header, std::string_view type, unsigned kinds) {
    auto header_type = header.required_enum("type", {"text", "image", "video", "document"});
    if (!header_type) {
        return header_type.error();
    }
    if ((kinds & header_kind_bit(*header_type)) == 0) {
        return invalid_error(header.path_of("type"),
                             std::string(type) + " messages take no " + *header_type + " header");
    }
    if (*header_type == "text") {
        if (auto ok = header.allow_only({"type", "text", "sub_text"}); !ok) {
            return ok;
        }
        if (auto text = header.required_string("text", {.max_chars = 60}); !text) {
            return text.error();
        }
        auto sub_text = header.optional_string("sub_text", {.max_chars = 60});
        return status_of(sub_text);
    }
    if (auto ok = header.allow_only(std::vector<std::string_view>{"type", *header_type}); !ok) {
        return ok;
    }
    return validate_captionless_media(header, *header_type);
}

}  // namespace

Status validate_text_part(const ObjectReader& part, std::size_t max_chars) {
    if (auto ok = part.allow_only({"text"}); !ok) {
        return ok;
    }
    auto text = part.required_string("text", {.max_chars = max_chars});
    return status_of(text);
}

Status validate_parts(const ObjectReader& interactive,
                      std::string_view type,
                      const PartsRule& rule) {
    const std::string not_allowed = "not allowed in " + std::string(type) + " messages";
    auto header = interactive.optional_object("header");
    if (!header) {
        return header.error();
    }
    if (*header && rule.header_kinds == kNoHeader) {
        return invalid_error(interactive.path_of("header"), not_allowed);
    }
    if (!*header && rule.header_required) {
        return required_error(interactive.path_of("header"));
    }
    if (*header) {
        if (auto ok = validate_header(**header, type, rule.header_kinds); !ok) {
            return ok;
        }
    }
    auto body = interactive.optional_object("body");
    if (!body) {
        return body.error();
    }
    if (!*body && rule.body_required) {
        return required_error(interactive.path_of("body"));
    }
    if (*body) {
        if (auto ok = validate_text_part(**body, rule.body_max); !ok) {
            return ok;
        }
    }
    auto footer = interactive.optional_object("footer");
    if (!footer) {
        return footer.error();
    }
    if (*footer && !rule.footer_allowed) {
        return invalid_error(interactive.path_of("footer"), not_allowed);
    }
    return *footer ? validate_text_part(**footer, 60) : Status{};
}

ApiResult<std::string> validate_interactive(const ObjectReader& interactive, bool direct_send) {
    if (auto ok = interactive.allow_only({"type", "header", "body", "footer", "action"}); !ok) {
        return ok.error();
    }
    auto type = interactive.required_string("type", {.allow_empty = true});
    if (!type) {
        return type.error();
    }
    const auto* kind = std::find_if(std::begin(kKinds), std::end(kKinds),
                                    [&](const InteractiveKind& k) { return k.type == *type; });
    if (kind == std::end(kKinds)) {
        return enum_error(interactive.path_of("type"), *type);
    }
    if (direct_send && !kind->direct_send) {
        return invalid_error(interactive.path_of("type"), "not supported with Direct Send");
    }
    if (auto ok = validate_parts(interactive, *type, kind->parts); !ok) {
        return ok.error();
    }
    auto action = interactive.required_object("action");
    if (!action) {
        return action.error();
    }
    if (auto ok = kind->validate_action(*action); !ok) {
        return ok.error();
    }
    return type;
}

}  // namespace wagate::domain::send_validation
