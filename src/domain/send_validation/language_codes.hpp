#pragma once

#include <string_view>

namespace wagate::domain::send_validation {

/// Meta's supported template languages (templates/supported-languages). Codes are case-sensitive.
bool is_supported_template_language(std::string_view code);

}  // namespace wagate::domain::send_validation
