#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wagate::http {

/// One header; `name` is lower-case for requests.
struct Header {
    std::string name;
    std::string value;
};

/// A fully read request, as plain values: handlers never see Beast types.
struct Request {
    std::string method;  // upper-case, e.g. "POST"
    std::string path;    // percent-decoding is not applied; routes match raw segments
    std::string query;   // after '?', raw
    std::vector<Header> headers;
    std::string body;
    std::string request_id;
    std::string remote_address;

    /// The first header with `lower_name`, or empty.
    std::string_view header(std::string_view lower_name) const noexcept;
    /// The value of `name` in the query string (percent-decoded), or empty.
    std::string query_param(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<Header> headers;
    std::string body;
    /// The error envelope's code when the body is one (for metrics; never sent as such).
    int error_code = 0;
};

/// Percent-decodes `text`; '+' is a space in query strings (the default) and itself in paths.
/// Malformed escapes are kept as is.
std::string percent_decode(std::string_view text, bool plus_is_space = true);

}  // namespace wagate::http
