#pragma once

#include <cstdint>
#include <string_view>

#include <wagate/domain/api_error.hpp>

#include "sandbox/webhook_bodies.hpp"

namespace wagate::sandbox {

/// Reads the body of POST /sandbox/v1/inbound:
/// `{"phone_number_id","from","type",<type>:{…}}` with optional `name` (profile name, default
/// "Sandbox User"), `timestamp` (Unix seconds as a string or number, default `now_unix_s`) and
/// `context`, `referral`, `errors`, copied through like the type's own object. Errors name the
/// field: 131008 missing, 131009 malformed, 100 unexpected key or not a JSON object. Pure.
domain::ApiResult<InboundMessage> parse_inbound_request(std::string_view body, std::int64_t now_unix_s);


}  // namespace wagate::sandbox
