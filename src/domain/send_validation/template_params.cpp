#include <algorithm>
#include <array>
#include <vector>

#include "template_parts.hpp"
#include "text_rules.hpp"

namespace wagate::domain::send_validation {
namespace {

constexpr std::string_view kParamTypes[] = {
    "text",    "currency", "date_time",   "image",  "video",       "document",           "location",
    "product", "payload",  "coupon_code", "action", "ttl_minutes", "limited_time_offer",
};

Status check_text(const ObjectReader& param, ParamSlot slot) {
    // Header text is capped at 60; the body cap is 1024 or 32768 depending on the stored
    // template (body-only or not), which only the policy layer knows: the wider cap applies here.
    const std::size_t max_chars = slot == ParamSlot::kHeader ? 60 : 32768;
    auto text = param.required_string("text", {.max_chars = max_chars});
    if (!text) {
        return text.error();
    }
    if (!is_template_param_text_clean(*text)) {
        return invalid_error(param.path_of("text"),
                             "no new-line or tab characters and at most 4 consecutive spaces");
    }
    return {};
}

Status check_currency(const ObjectReader& param) {
    auto currency = param.required_object("currency");
    if (!currency) {
        return currency.error();
    }
    if (auto ok = currency->allow_only({"fallback_value", "code", "amount_1000"}); !ok) {
        return ok;
    }
    if (auto fallback = currency->required_string("fallback_value"); !fallback) {
        return fallback.error();
    }
    auto code = currency->required_string("code");
    if (!code) {
        return code.error();
    }
    if (code->size() != 3 || !is_ascii_upper(*code)) {
        return invalid_error(currency->path_of("code"), "must be a 3-letter ISO 4217 code");
    }
    return status_of(currency->required_integer("amount_1000"));
}

Status check_date_time(const ObjectReader& param) {
    auto date_time = param.required_object("date_time");
    if (!date_time) {
        return date_time.error();
    }
    if (auto ok = date_time->allow_only({"fallback_value"}); !ok) {
        return ok;
    }
    return status_of(date_time->required_string("fallback_value"));
}

Status check_product(const ObjectReader& param) {
    auto product = param.required_object("product");
    if (!product) {
        return product.error();
    }
    if (auto ok = product->allow_only({"product_retailer_id", "catalog_id"}); !ok) {
        return ok;
    }
    if (auto id = product->required_string("product_retailer_id"); !id) {
        return id.error();
    }
    return status_of(product->required_string("catalog_id"));
}

ApiResult<std::optional<std::string>> read_parameter_name(const ObjectReader& param) {
    auto name = param.optional_string("parameter_name", {.max_chars = 20});
    if (!name || !*name) {
        return name;
    }
    const bool valid = std::all_of((*name)->begin(), (*name)->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!valid) {
        return invalid_error(param.path_of("parameter_name"),
                             "only lowercase letters, digits and underscores");
    }
    return name;
}

}  // namespace

ApiResult<std::string> read_param_type(const ObjectReader& param,
                                       std::initializer_list<std::string_view> allowed,
                                       std::string_view where) {
    auto type = param.required_string("type", {.allow_empty = true});
    if (!type) {
        return type;
    }
    if (std::find(std::begin(kParamTypes), std::end(kParamTypes), *type) == std::end(kParamTypes)) {
        return enum_error(param.path_of("type"), *type);
    }
    if (std::find(allowed.begin(), allowed.end(), *type) == allowed.end()) {
        std::string list;
        for (const auto name : allowed) {
            list += (list.empty() ? "" : ", ") + std::string(name);
        }
        return invalid_error(param.path_of("type"),
                             std::string(where) + " must be of type " + list);
    }
    return type;
}

ApiResult<std::optional<std::string>> validate_template_parameter(const ObjectReader& param,
                                                                  ParamSlot slot) {
    const bool header = slot == ParamSlot::kHeader;
    auto type =
        header
            ? read_param_type(param, {"text", "image", "video", "document", "location", "product"},
                              "a header parameter")
            : read_param_type(param, {"text", "currency", "date_time"}, "a body parameter");
    if (!type) {
        return type.error();
    }
    // Named parameters exist for variables, i.e. text, currency and date_time.
    const bool nameable = *type == "text" || *type == "currency" || *type == "date_time";
    if (auto ok = nameable ? param.allow_only(
                                 std::vector<std::string_view>{"type", *type, "parameter_name"})
                           : param.allow_only(std::vector<std::string_view>{"type", *type});
        !ok) {
        return ok.error();
    }
    Status checked;
    if (*type == "text") {
        checked = check_text(param, slot);
    } else if (*type == "currency") {
        checked = check_currency(param);
    } else if (*type == "date_time") {
        checked = check_date_time(param);
    } else if (*type == "location") {
        auto location = param.required_object("location");
        checked = location ? validate_location(*location) : Status{location.error()};
    } else if (*type == "product") {
        checked = check_product(param);
    } else {
        checked = validate_captionless_media(param, *type);
    }
    if (!checked) {
        return checked.error();
    }
    return read_parameter_name(param);
}

}  // namespace wagate::domain::send_validation
