#include <wagate/domain/api_error.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

namespace wagate::domain {
namespace api_errors {
namespace {
ApiError make(int http_status, int code, const char* title, std::string details, bool gateway = false) {
    return ApiError{http_status, code, title, std::move(details), gateway, 0};
}
}  // namespace

ApiError invalid_parameter(std::string d) { return make(400, 100, "Invalid parameter", std::move(d)); }
ApiError unexpected_key(std::string d) { return make(400, 100, "Unexpected key", std::move(d)); }
ApiError missing_parameter(std::string d) {
    return make(400, 131008, "Required parameter is missing", std::move(d));
}
ApiError invalid_value(std::string d) {
    return make(400, 131009, "Parameter value is not valid", std::move(d));
}
ApiError unsupported_type(std::string d) {
    return make(400, 131051, "Unsupported message type", std::move(d));
}
ApiError template_param_count(std::string d) {
    return make(400, 132000, "Number of parameters does not match the expected number of params",
                std::move(d));
}
ApiError template_hydrated_too_long(std::string d) {
    return make(400, 132005, "Template hydrated text too long", std::move(d));
}
ApiError template_param_format(std::string d) {
    return make(400, 132012, "Parameter format does not match format in the created template",
                std::move(d));
}
ApiError unauthenticated(std::string d) {
    return make(401, 190, "Invalid OAuth access token", std::move(d));
}
ApiError forbidden(std::string d) { return make(403, 10, "Permission denied", std::move(d)); }
ApiError not_found(std::string d) { return make(404, 100, "Unknown object", std::move(d)); }
ApiError payload_too_large(std::string d) {
    return make(413, 100, "Request entity too large", std::move(d));
}
ApiError idempotency_mismatch(std::string d) {
    return make(422, 900200, "Idempotency key reused with a different body", std::move(d), true);
}
ApiError db_unavailable(std::string d) {
    ApiError e = make(503, 900300, "Database unavailable", std::move(d), true);
    e.retry_after_seconds = 1;
    return e;
}
ApiError too_many_calls(std::string d, int retry_after_seconds) {
    // Meta's application-level call limit (code 4); Meta answers it with 400, the contract with
    // 429 and a Retry-After a client can obey.
    ApiError e = make(429, 4, "Application request limit reached", std::move(d));
    e.retry_after_seconds = std::max(retry_after_seconds, 1);
    return e;
}
ApiError internal(std::string d) { return make(500, 1, "An unknown error occurred", std::move(d)); }

std::string_view rejection_reason(int code) noexcept {
    switch (code) {
        case 100: case 131008: case 131009: case 131051: case 132000: case 132005: case 132007: case 132012:
            return "invalid_payload";
        case 131047: return "window_closed";
        case 900100: return "messaging_limit";
        case 900101: return "opt_in";
        case 900102: return "identity_change";
        case 900103: return "number_restricted";
        case 132001: return "template_missing";
        case 132015: return "template_paused";
        case 132016: return "template_disabled";
        case 131056: return "pair_rate";
        case 130429: return "throughput";
        case 4: return "key_rate_limit";
        case 190: return "unauthenticated";
        case 10: return "forbidden";
        case 900200: return "idempotency_conflict";
        case 900300: return "database_unavailable";
        default: return "other";
    }
}

ApiError server_detected(int http_status, std::string_view details) {
    const std::string d(details);
    ApiError e;
    switch (http_status) {
        case 404: return not_found(d);
        case 413: return payload_too_large("body: " + d);
        case 431: e = invalid_parameter("headers: " + d); break;
        case 500: return internal(d);
        default: e = invalid_parameter(d); break;  // 405 and anything else
    }
    e.http_status = http_status;
    return e;
}
}  // namespace api_errors

std::string graph_error_body(const ApiError& e, std::string_view fbtrace_id) {
    const nlohmann::json body = {
        {"error",
         {{"message", "(#" + std::to_string(e.code) + ") " + e.title},
          {"type", e.gateway_type ? "WagateException" : "OAuthException"},
          {"code", e.code},
          {"error_data", {{"messaging_product", "whatsapp"}, {"details", e.details}}},
          {"fbtrace_id", fbtrace_id}}}};
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void throw_exception_from_error(const ApiError& e, const boost::source_location&) {
    throw std::runtime_error("(#" + std::to_string(e.code) + ") " + e.title + ": " + e.details);
}

}  // namespace wagate::domain
