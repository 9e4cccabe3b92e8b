#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wagate::domain::send_validation {

/// Absolute `https://` URL with a non-empty host and no white space or control characters.
/// Stricter than Meta (which also takes http) so media fetches never leave TLS.
bool is_https_url(std::string_view url);

/// Meta rejects template text parameters with a new line, a tab or more than 4 consecutive spaces.
bool is_template_param_text_clean(std::string_view text);

/// `YYYY-MM-DD` naming a real calendar day.
bool is_calendar_date(std::string_view text);

/// A decimal number written as a JSON-like string ("37.44", "-122"), finite.
std::optional<double> parse_decimal(std::string_view text);

bool is_ascii_digits(std::string_view text);  // non-empty, [0-9] only
bool is_ascii_alnum(std::string_view text);   // non-empty, [A-Za-z0-9] only
bool is_ascii_upper(std::string_view text);   // non-empty, [A-Z] only
bool is_ascii_alpha(std::string_view text);   // non-empty, [A-Za-z] only

std::string ascii_lower(std::string_view text);

/// White space at either end (Meta: reply ids must not start or end with a space).
bool has_outer_space(std::string_view text);

}  // namespace wagate::domain::send_validation
