#include "api/responses.hpp"

#include <spdlog/spdlog.h>
#include <wagate/api/api.hpp>

namespace wagate::api {

http::Response json_response(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

http::Response error_response(const domain::ApiError& e, const std::string& request_id) {
    http::Response r = json_response(e.http_status, domain::graph_error_body(e, request_id));
    r.error_code = e.code;
    if (e.retry_after_seconds > 0) {
        r.headers.push_back({"Retry-After", std::to_string(e.retry_after_seconds)});
    }
    return r;
}

domain::ApiError from_internal(const Error& error, const std::string& request_id) {
    // A deadlock or serialization failure that survived the writer's retry is as transient as an
    // outage: the client may retry.
    if (error.code == Errc::kDbUnavailable || error.code == Errc::kTimeout || error.code == Errc::kRetryable) {
        spdlog::warn("database unavailable (request {}): {}", request_id, error.message);
        return domain::api_errors::db_unavailable("the database is unavailable; retry later");
    }
    spdlog::error("internal error (request {}): {}", request_id, error.message);
    return domain::api_errors::internal("internal error; see the gateway log for request " + request_id);
}

http::Response render_server_error(int status, std::string_view details, const std::string& request_id) {
    return error_response(domain::api_errors::server_detected(status, details), request_id);
}

std::string external_message_id(std::string_view id_hex) { return "wagate." + std::string(id_hex); }

std::string internal_message_id(std::string_view external) {
    constexpr std::string_view kPrefix = "wagate.";
    if (!external.starts_with(kPrefix) || external.size() != kPrefix.size() + 32) {
        return {};
    }
    const std::string_view hex = external.substr(kPrefix.size());
    for (char c : hex) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return {};
        }
    }
    return std::string(hex);
}

}  // namespace wagate::api
