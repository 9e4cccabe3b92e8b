#include <algorithm>
#include <iterator>
#include <set>

#include "language_codes.hpp"
#include "template_parts.hpp"
#include "text_rules.hpp"

namespace wagate::domain::send_validation {
namespace {

constexpr std::string_view kComponentTypes[] = {"header", "body", "button", "carousel",
                                                "limited_time_offer"};

Status validate_components(const ArrayReader& components, bool in_card);

Status validate_parameter_list(const ObjectReader& component, ParamSlot slot) {
    if (auto ok = component.allow_only({"type", "parameters"}); !ok) {
        return ok;
    }
    auto params = component.required_array("parameters");
    if (!params) {
        return params.error();
    }
    if (slot == ParamSlot::kHeader && params->size() != 1) {
        return invalid_error(params->path(), "a header takes exactly one parameter");
    }
    UniqueValues names("parameter_name");
    std::size_t named = 0;
    for (std::size_t i = 0; i < params->size(); ++i) {
        auto param = params->object_at(i);
        if (!param) {
            return param.error();
        }
        auto name = validate_template_parameter(*param, slot);
        if (!name) {
            return name.error();
        }
        if (*name) {
            ++named;
            if (auto ok = names.add(param->path_of("parameter_name"), **name); !ok) {
                return ok;
            }
        }
    }
    if (named != 0 && named != params->size()) {
        return api_errors::template_param_format(
            params->path() + ": named and positional parameters cannot be mixed");
    }
    return {};
}

Status validate_limited_time_offer(const ObjectReader& component) {
    if (auto ok = component.allow_only({"type", "parameters"}); !ok) {
        return ok;
    }
    auto params = component.required_array("parameters");
    if (!params) {
        return params.error();
    }
    if (params->size() != 1) {
        return invalid_error(params->path(), "a limited_time_offer takes exactly one parameter");
    }
    auto param = params->object_at(0);
    if (!param) {
        return param.error();
    }
    auto type = read_param_type(*param, {"limited_time_offer"}, "a limited_time_offer parameter");
    if (!type) {
        return type.error();
    }
    if (auto ok = param->allow_only({"type", "limited_time_offer"}); !ok) {
        return ok;
    }
    auto offer = param->required_object("limited_time_offer");
    if (!offer) {
        return offer.error();
    }
    if (auto ok = offer->allow_only({"expiration_time_ms"}); !ok) {
        return ok;
    }
    auto expiration = offer->required_integer("expiration_time_ms");
    if (!expiration) {
        return expiration.error();
    }
    if (*expiration < 0) {
        return invalid_error(offer->path_of("expiration_time_ms"), "must not be negative");
    }
    return {};
}

Status validate_carousel(const ObjectReader& component) {
    if (auto ok = component.allow_only({"type", "cards"}); !ok) {
        return ok;
    }
    auto cards = component.required_array("cards", 1, 10, "card", "cards");
    if (!cards) {
        return cards.error();
    }
    std::set<int> indices;
    for (std::size_t i = 0; i < cards->size(); ++i) {
        auto card = cards->object_at(i);
        if (!card) {
            return card.error();
        }
        if (auto ok = card->allow_only({"card_index", "components"}); !ok) {
            return ok;
        }
        if (auto index = read_unique_index(*card, "card_index", 9, indices); !index) {
            return index.error();
        }
        auto components = card->required_array("components");
        if (!components) {
            return components.error();
        }
        if (auto ok = validate_components(*components, /*in_card=*/true); !ok) {
            return ok;
        }
    }
    return {};
}

Status validate_component(const ObjectReader& component,
                          const std::string& type,
                          ButtonTally& tally) {
    if (type == "header") {
        return validate_parameter_list(component, ParamSlot::kHeader);
    }
    if (type == "body") {
        return validate_parameter_list(component, ParamSlot::kBody);
    }
    if (type == "button") {
        return validate_template_button(component, tally);
    }
    if (type == "carousel") {
        return validate_carousel(component);
    }
    return validate_limited_time_offer(component);
}

Status validate_components(const ArrayReader& components, bool in_card) {
    ButtonTally tally;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < components.size(); ++i) {
        auto component = components.object_at(i);
        if (!component) {
            return component.error();
        }
        auto raw_type = component->required_string("type", {.allow_empty = true});
        if (!raw_type) {
            return raw_type.error();
        }
        const std::string type = ascii_lower(*raw_type);
        const std::string type_path = component->path_of("type");
        if (std::find(std::begin(kComponentTypes), std::end(kComponentTypes), type) ==
            std::end(kComponentTypes)) {
            return enum_error(type_path, *raw_type);
        }
        component->json()["type"] = type;
        if (in_card && (type == "carousel" || type == "limited_time_offer")) {
            return invalid_error(type_path, "not allowed in a carousel card");
        }
        if (type != "button" && !seen.insert(type).second) {
            return invalid_error(type_path, "duplicate " + type + " component");
        }
        if (auto ok = validate_component(*component, type, tally); !ok) {
            return ok;
        }
    }
    return {};
}

ApiResult<std::string> validate_language(const ObjectReader& tpl) {
    auto object = tpl.required_object("language");
    if (!object) {
        return object.error();
    }
    if (auto ok = object->allow_only({"code", "policy"}); !ok) {
        return ok.error();
    }
    auto code = object->required_string("code");
    if (!code) {
        return code.error();
    }
    if (!is_supported_template_language(*code)) {
        return invalid_error(object->path_of("code"),
                             "unsupported language code \"" + *code + "\"");
    }
    if (auto policy = object->optional_enum("policy", {"deterministic"}); !policy) {
        return policy.error();
    }
    return code;
}

}  // namespace

ApiResult<TemplateRef> validate_template(const ObjectReader& tpl) {
    if (auto ok = tpl.allow_only({"name", "language", "components"}); !ok) {
        return ok.error();
    }
    auto template_name = tpl.required_string("name", {.max_chars = 512});
    if (!template_name) {
        return template_name.error();
    }
    const bool valid_name = std::all_of(template_name->begin(), template_name->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!valid_name) {
        return invalid_error(tpl.path_of("name"), "only lowercase letters, digits and underscores");
    }
    auto language = validate_language(tpl);
    if (!language) {
        return language.error();
    }
    auto components = tpl.optional_array("components");
    if (!components) {
        return components.error();
    }
    if (*components) {
        if (auto ok = validate_components(**components, /*in_card=*/false); !ok) {
            return ok.error();
        }
    }
    return TemplateRef{std::move(*template_name), std::move(*language)};
}

}  // namespace wagate::domain::send_validation
