#pragma once

#include <string>
#include <string_view>

namespace wagate {

/// Pure. `text` with every phone-number-like token masked to its last four digits: a run of 8
/// to 15 digits (E.164's longest), optionally after '+', that no letter or digit touches on
/// either side ("+15551234567" → "+*******4567"). Hex ids, which mix in letters, are left alone.
/// Applied to every log line, so a number inside a database error message cannot leak either.
std::string mask_phone_numbers(std::string_view text);

}  // namespace wagate
