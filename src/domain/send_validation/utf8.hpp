#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wagate::domain::send_validation {

/// Well-formed UTF-8 per Unicode table 3-7: no overlongs, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view bytes) noexcept;

/// Decodes valid UTF-8 (check with is_valid_utf8 first; invalid input gives unspecified output).
std::u32string to_code_points(std::string_view utf8);

/// White space by Unicode's definition, plus the invisible characters people use to fake an empty
/// field (zero-width space, word joiner, BOM).
bool is_unicode_space(char32_t cp) noexcept;

/// True if the text is empty or made only of is_unicode_space characters.
bool is_blank(std::string_view utf8);

/// True if the text contains any is_unicode_space character.
bool has_space(std::string_view utf8);

}  // namespace wagate::domain::send_validation
