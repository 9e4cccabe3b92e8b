#pragma once

#include <string_view>

namespace wagate::domain::send_validation {

/// True if `utf8` is exactly one emoji grapheme cluster (UTS #51): a pictographic base with an
/// optional VS16 or skin-tone modifier and optional tag sequence, ZWJ-joined sequences of those,
/// a flag (two regional indicators) or a keycap. What a reaction may carry.
bool is_single_emoji(std::string_view utf8);

/// True if any character would render as an emoji (fields where Meta says "no emoji").
/// Text-default symbols such as (c) or (tm) count only when followed by VS16.
bool contains_emoji(std::string_view utf8);

}  // namespace wagate::domain::send_validation
