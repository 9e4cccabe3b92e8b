#pragma once
// How the server turns request bytes into a Request head: the parser's limits and the conversion
// of the parsed head. Beast-facing, so included only by server.cpp and the HTTP fuzz target
// (tests/fuzz/http_request_fuzz.cpp), never by a widely included header (house style B5).

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <wagate/http/message.hpp>

namespace wagate::http::detail {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// A fresh parser's limits: `max_header_bytes` for the head, and no body limit until the route
/// is known: Beast's default (1 MiB) would otherwise fail the header read itself on a large
/// Content-Length, before the server can answer 413. The caller sets the route's limit later.
inline void limit_request_head(RequestParser& parser, std::size_t max_header_bytes) {
    parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
    parser.body_limit(boost::none);
}

/// Whether a head that parsed in `head_bytes` bytes is over the limit after all. Beast 1.81
/// applies header_limit to the start line and to the fields separately when the whole head is
/// buffered before the first parse (up to twice the limit then passes), and to the whole head
/// when it arrives in pieces; checking the parsed size makes the limit exact either way.
inline bool head_exceeds_limit(std::size_t head_bytes, std::size_t max_header_bytes) {
    return head_bytes > max_header_bytes;
}

/// The parsed head as plain values: the method, the target split at its first '?' into path and
/// query, and the headers in order with lower-case names. The body, request id and remote address
/// are the caller's to fill.
inline Request request_from_head(const RequestParser::value_type& head) {
    Request request;
    request.method = std::string(head.method_string());
    const std::string_view target = head.target();
    const std::size_t q = target.find('?');
    request.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) {
        request.query = std::string(target.substr(q + 1));
    }
    request.headers.reserve(16);
    for (const auto& field : head) {
        std::string name(field.name_string());
        for (char& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        request.headers.push_back(Header{std::move(name), std::string(field.value())});
    }
    return request;
}

}  // namespace wagate::http::detail
