#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace wagate::domain {

/// An error as an API caller sees it: rendered as the Graph error envelope
/// `{"error":{"message":"(#code) title","type",...,"error_data":{"details"}}}`.
/// `details` always names the exact field path when a field is at fault,
/// e.g. `interactive.action.buttons[3]: at most 3 buttons`.
struct ApiError {
    int http_status = 400;
    int code = 100;
    std::string title;
    std::string details;
    bool gateway_type = false;  // "WagateException" instead of "OAuthException"
    int retry_after_seconds = 0;  // > 0 adds a Retry-After header
};

template <class T>
using ApiResult = boost::system::result<T, ApiError>;

/// Meta's codes for the conditions the validator and the API detect (reference §12).
namespace api_errors {
ApiError invalid_parameter(std::string details);          // 100
ApiError unexpected_key(std::string details);             // 100, "Unexpected key"
ApiError missing_parameter(std::string details);          // 131008
ApiError invalid_value(std::string details);              // 131009
ApiError unsupported_type(std::string details);           // 131051
ApiError template_param_count(std::string details);       // 132000
ApiError template_hydrated_too_long(std::string details); // 132005
ApiError template_param_format(std::string details);      // 132012
ApiError unauthenticated(std::string details);            // 401, code 190
ApiError forbidden(std::string details);                  // 403, code 10
ApiError not_found(std::string details);                  // 404, code 100
ApiError payload_too_large(std::string details);          // 413, code 100
ApiError idempotency_mismatch(std::string details);       // 422, gateway 900200
ApiError db_unavailable(std::string details);             // 503, gateway 900300
ApiError too_many_calls(std::string details, int retry_after_seconds);  // 429, code 4

/// A short, stable name for why a request with this error code was refused, for metrics
/// labels: "window_closed" (131047), "messaging_limit" (900100), "invalid_payload" (100,
/// 1310xx, 1320xx validation), ... and "other" for anything unlisted.
std::string_view rejection_reason(int code) noexcept;
ApiError internal(std::string details);                   // 500, code 1 (never for client input)

/// A condition the HTTP server detects itself (404, 405, 413, 431, ...) as the error to answer.
ApiError server_detected(int http_status, std::string_view details);
}  // namespace api_errors

/// The Graph error envelope of `error`, `fbtrace_id` as given: what the gateway and the sandbox
/// answer. Invalid UTF-8 in the details (they may quote a caller's bytes) is replaced, not thrown.
std::string graph_error_body(const ApiError& error, std::string_view fbtrace_id);

[[noreturn]] void throw_exception_from_error(const ApiError& e, const boost::source_location& loc);

}  // namespace wagate::domain
