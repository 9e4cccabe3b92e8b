#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "field_reader.hpp"

namespace wagate::domain::send_validation {

/// One validator per message type; each reads the content object named after `type` (reference
/// §4-§11) and normalises it in place.
Status validate_text(const ObjectReader& text, bool direct_send);
Status validate_media(const ObjectReader& media, std::string_view type);
Status validate_location(const ObjectReader& location);
Status validate_contacts(const ArrayReader& contacts, std::size_t max_contacts);
Status validate_pin(const ObjectReader& pin);

/// Returns `interactive.type`.
ApiResult<std::string> validate_interactive(const ObjectReader& interactive, bool direct_send);
/// Returns the message reacted to.
ApiResult<std::string> validate_reaction(const ObjectReader& reaction);

/// What the policy layer looks a template up by.
struct TemplateRef {
    std::string name;
    std::string language;
};
ApiResult<TemplateRef> validate_template(const ObjectReader& tpl);

bool is_media_type(std::string_view type);

/// Exactly one of `id` / `link` with their formats. The caller has already restricted the keys.
Status validate_media_source(const ObjectReader& media);

/// The media object `parent.<type>` of a header or template parameter: no caption; a document may
/// carry the file name shown to the user.
Status validate_captionless_media(const ObjectReader& parent, const std::string& type);

/// `url` must be an absolute https URL of at most 2000 characters (the template URL-button cap).
Status check_https_url(std::string_view path, const std::string& url);

}  // namespace wagate::domain::send_validation
