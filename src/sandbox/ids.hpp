#pragma once

#include <string>

#include "sandbox/rng.hpp"

namespace wagate::sandbox {

/// A new message id in Meta's shape: "wamid." and 40 base64url characters, starting "HBgL" as
/// Meta's do. Meta's own ids are standard base64 (with '+', '/', '='); base64url keeps the
/// sandbox's ids safe in a URL path without escaping, and the gateway treats both as opaque.
std::string new_wamid(Rng& rng);

/// A conversation id as Meta writes it on statuses: 32 lowercase hex digits.
std::string new_conversation_id(Rng& rng);

}  // namespace wagate::sandbox
