#pragma once

#include <cstddef>
#include <string_view>

#include "content.hpp"

namespace wagate::domain::send_validation {

/// Header types an interactive type accepts (reference §8.2), as a bit set.
enum HeaderKind : unsigned {
    kNoHeader = 0,
    kTextHeader = 1,
    kImageHeader = 2,
    kVideoHeader = 4,
    kDocumentHeader = 8,
    kAnyHeader = kTextHeader | kImageHeader | kVideoHeader | kDocumentHeader,
};

struct PartsRule {
    unsigned header_kinds = kNoHeader;
    bool header_required = false;
    bool body_required = true;
    std::size_t body_max = 1024;
    bool footer_allowed = true;
};

/// header, body and footer of an interactive message of type `type`.
Status validate_parts(const ObjectReader& interactive,
                      std::string_view type,
                      const PartsRule& rule);

/// `{"text": ...}` parts (body, footer, card bodies).
Status validate_text_part(const ObjectReader& part, std::size_t max_chars);

/// The `action` object of each interactive type.
Status validate_button_action(const ObjectReader& action);
Status validate_list_action(const ObjectReader& action);
Status validate_cta_url_action(const ObjectReader& action);
Status validate_flow_action(const ObjectReader& action);
Status validate_product_action(const ObjectReader& action);
Status validate_product_list_action(const ObjectReader& action);
Status validate_catalog_action(const ObjectReader& action);
Status validate_carousel_action(const ObjectReader& action);
Status validate_location_request_action(const ObjectReader& action);
Status validate_address_action(const ObjectReader& action);
Status validate_voice_call_action(const ObjectReader& action);
Status validate_call_permission_action(const ObjectReader& action);

/// product_list sections and template MPM buttons: 1..10 sections of >= 1 product each, at most
/// 30 products in total.
Status validate_product_sections(const ArrayReader& sections);

}  // namespace wagate::domain::send_validation
