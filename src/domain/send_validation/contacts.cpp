#include <algorithm>

#include "content.hpp"
#include "text_rules.hpp"
#include "utf8.hpp"

namespace wagate::domain::send_validation {
namespace {

// Optional free-text fields: Meta types them as plain strings, so "" is tolerated.
constexpr StringRule kFreeText{.allow_empty = true};

Status check_free_strings(const ObjectReader& object,
                          std::initializer_list<std::string_view> keys) {
    for (const auto key : keys) {
        if (auto value = object.optional_string(key, kFreeText); !value) {
            return value.error();
        }
    }
    return {};
}

// Calls `check` on every element of the optional array `key`, each as an object.
template <class Check>
Status for_each_object(const ObjectReader& contact, std::string_view key, Check check) {
    auto array = contact.optional_array(key);
    if (!array) {
        return array.error();
    }
    if (!*array) {
        return {};
    }
    for (std::size_t i = 0; i < (*array)->size(); ++i) {
        auto item = (*array)->object_at(i);
        if (!item) {
            return item.error();
        }
        if (auto ok = check(*item); !ok) {
            return ok;
        }
    }
    return {};
}

Status check_type(const ObjectReader& item) {
    // The doc examples write `Home` where the enum says HOME, so the type is free but non-empty.
    if (auto type = item.optional_string("type"); !type) {
        return type.error();
    }
    return {};
}

Status validate_name(const ObjectReader& contact) {
    auto name = contact.required_object("name");
    if (!name) {
        return name.error();
    }
    constexpr std::string_view kParts[] = {"first_name", "last_name", "middle_name", "suffix",
                                           "prefix"};
    if (auto ok = name->allow_only(
            {"formatted_name", "first_name", "last_name", "middle_name", "suffix", "prefix"});
        !ok) {
        return ok;
    }
    if (auto formatted = name->required_string("formatted_name"); !formatted) {
        return formatted.error();
    }
    bool has_part = false;
    for (const auto part : kParts) {
        auto value = name->optional_string(part, kFreeText);
        if (!value) {
            return value.error();
        }
        has_part = has_part || (*value && !is_blank(**value));
    }
    if (!has_part) {
        return api_errors::missing_parameter(
            name->path() + ": at least one of first_name, last_name, middle_name, suffix, prefix");
    }
    return {};
}

Status validate_address(const ObjectReader& address) {
    if (auto ok = address.allow_only(
            {"street", "city", "state", "zip", "country", "country_code", "type"});
        !ok) {
        return ok;
    }
    if (auto ok = check_free_strings(address, {"street", "city", "state", "zip", "country"}); !ok) {
        return ok;
    }
    auto code = address.optional_string("country_code");
    if (!code) {
        return code.error();
    }
    if (*code && !((*code)->size() == 2 && is_ascii_alpha(**code))) {
        return invalid_error(address.path_of("country_code"), "must be a 2-letter country code");
    }
    return check_type(address);
}

Status validate_email(const ObjectReader& email) {
    if (auto ok = email.allow_only({"email", "type"}); !ok) {
        return ok;
    }
    auto value = email.required_string("email");
    if (!value) {
        return value.error();
    }
    const auto at = value->find('@');
    if (at == 0 || at == std::string::npos || at + 1 == value->size() || has_space(*value)) {
        return invalid_error(email.path_of("email"), "not an email address");
    }
    return check_type(email);
}

Status validate_phone(const ObjectReader& phone) {
    if (auto ok = phone.allow_only({"phone", "type", "wa_id"}); !ok) {
        return ok;
    }
    if (auto value = phone.required_string("phone"); !value) {
        return value.error();
    }
    if (auto wa_id = phone.optional_string("wa_id"); !wa_id) {
        return wa_id.error();
    }
    return check_type(phone);
}

Status validate_url(const ObjectReader& url) {
    if (auto ok = url.allow_only({"url", "type"}); !ok) {
        return ok;
    }
    if (auto value = url.required_string("url"); !value) {
        return value.error();
    }
    return check_type(url);
}

Status validate_org(const ObjectReader& contact) {
    auto org = contact.optional_object("org");
    if (!org) {
        return org.error();
    }
    if (!*org) {
        return {};
    }
    if (auto ok = (*org)->allow_only({"company", "department", "title"}); !ok) {
        return ok;
    }
    return check_free_strings(**org, {"company", "department", "title"});
}

Status validate_contact(const ObjectReader& contact) {
    if (auto ok = contact.allow_only(
            {"addresses", "birthday", "emails", "name", "org", "phones", "urls"});
        !ok) {
        return ok;
    }
    if (auto ok = validate_name(contact); !ok) {
        return ok;
    }
    auto birthday = contact.optional_string("birthday");
    if (!birthday) {
        return birthday.error();
    }
    if (*birthday && !is_calendar_date(**birthday)) {
        return invalid_error(contact.path_of("birthday"), "must be a date YYYY-MM-DD");
    }
    if (auto ok = validate_org(contact); !ok) {
        return ok;
    }
    if (auto ok = for_each_object(contact, "addresses", validate_address); !ok) {
        return ok;
    }
    if (auto ok = for_each_object(contact, "emails", validate_email); !ok) {
        return ok;
    }
    if (auto ok = for_each_object(contact, "phones", validate_phone); !ok) {
        return ok;
    }
    return for_each_object(contact, "urls", validate_url);
}

}  // namespace

Status validate_contacts(const ArrayReader& contacts, std::size_t max_contacts) {
    if (auto ok = contacts.check_size(1, max_contacts, "contact", "contacts"); !ok) {
        return ok;
    }
    for (std::size_t i = 0; i < contacts.size(); ++i) {
        auto contact = contacts.object_at(i);
        if (!contact) {
            return contact.error();
        }
        if (auto ok = validate_contact(*contact); !ok) {
            return ok;
        }
    }
    return {};
}

}  // namespace wagate::domain::send_validation
