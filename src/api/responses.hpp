#pragma once

#include <string>

#include <wagate/core/error.hpp>
#include <wagate/domain/api_error.hpp>
#include <wagate/http/message.hpp>

namespace wagate::api {

http::Response json_response(int status, std::string body);

/// The Graph error envelope; `request_id` becomes fbtrace_id.
http::Response error_response(const domain::ApiError& error, const std::string& request_id);

/// The single mapping of internal failures to what a caller sees: database unreachable or slow
/// → 503 900300 (retryable); anything else → 500, with the detail logged, not shown.
domain::ApiError from_internal(const Error& error, const std::string& request_id);

}  // namespace wagate::api
