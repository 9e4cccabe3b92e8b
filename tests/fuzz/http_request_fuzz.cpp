// Fuzz target: the bytes a client sends on a connection, through the server's request path
// without sockets. It repeats what http::Server's session does (src/http/server.cpp, serve()):
// a Beast request parser limited by detail::limit_request_head (src/http/request_head.hpp, the
// same function the server calls), the head read, the head turned into a Request by
// detail::request_from_head, the route match (http::Router with the gateway's route table), the
// Content-Length check against the route's body limit, the body read under that limit, and
// keep-alive pipelining (up to 4 requests per input). Errors become the server's 400/404/405/
// 413/431 answers, rendered as the Graph error envelope. On each request it also runs the pure
// helpers handlers use on it: Request::header, Request::query_param, percent_decode, and
// http::parse_url (src/http/url.cpp) on the target and on "http://" + Host + target.
//
// Invariants:
//  - no crash, no sanitizer report, no exception;
//  - the head round-trips: path + "?" + query is the request target, header names are lower-case
//    and in the parser's order;
//  - a matched route's captures obey their segment rules ({version}, {*_id}, non-empty);
//  - a body read in full is within the route's limit and, with a Content-Length, exactly that long;
//  - the outcome does not depend on how the bytes arrive: all at once, or in 7-byte reads (the
//    same requests, routes and bodies; for a read error, that there was one, in the head or body);
//  - a URL that parse_url accepts has a lower-case host, a port in 1..65535, a target starting
//    with '/', and an authority without spaces or controls (it becomes a Host header).
//
// The header limit is chosen by the input's length: odd inputs get 1024 bytes (the smallest
// WAGATE_MAX_HEADER_BYTES), even ones 16 KiB (the default). Body limits are small, so 413 is
// reachable within -max_len.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <wagate/domain/api_error.hpp>
#include <wagate/http/client.hpp>
#include <wagate/http/message.hpp>
#include <wagate/http/router.hpp>

#include "fuzz_check.hpp"
#include "http/request_head.hpp"

namespace {

namespace bhttp = boost::beast::http;
namespace http = wagate::http;
using wagate::fuzz::excerpt;

/// The gateway's routes (api/api.cpp, api/meta_webhook.cpp, api/admin_*.cpp, metrics_route.cpp),
/// by hand: a route missing here costs coverage only. Handlers are never called.
const http::Router& gateway_routes() {
    static const http::Router router = [] {
        constexpr std::size_t kSend = 4096;      // WAGATE_MAX_BODY_BYTES, scaled down
        constexpr std::size_t kWebhook = 8192;   // WAGATE_WEBHOOK_MAX_BODY_BYTES, scaled down
        constexpr std::size_t kAdmin = 2048;
        constexpr std::size_t kIgnored = 64;     // api/handlers.hpp kIgnoredBodyLimit
        http::Router r;
        auto add = [&r](const char* method, const char* pattern, std::size_t limit) {
            r.add(method, pattern, limit, nullptr);
        };
        add("POST", "/{version}/{phone_number_id}/messages", kSend);
        add("POST", "/{phone_number_id}/messages", kSend);
        add("POST", "/v1/messages", kSend);
        add("GET", "/v1/messages/{message}", 0);
        add("GET", "/healthz", 0);
        add("GET", "/readyz", 0);
        add("GET", "/webhooks/meta", 0);
        add("POST", "/webhooks/meta", kWebhook);
        add("PUT", "/admin/v1/businesses/{business_id}", kAdmin);
        add("GET", "/admin/v1/businesses/{business_id}", 0);
        add("PUT", "/admin/v1/phone-numbers/{phone_number_id}", kAdmin);
        add("GET", "/admin/v1/phone-numbers/{phone_number_id}", 0);
        add("POST", "/admin/v1/api-keys", kAdmin);
        add("GET", "/admin/v1/api-keys", 0);
        add("DELETE", "/admin/v1/api-keys/{id}", kIgnored);
        add("PUT", "/admin/v1/contacts/{phone_number_id}/{wa_id}", kAdmin);
        add("GET", "/admin/v1/contacts/{phone_number_id}/{wa_id}", 0);
        add("POST", "/admin/v1/contacts/{phone_number_id}/{wa_id}/identity-ack", kIgnored);
        add("PUT", "/admin/v1/templates/{waba_id}/{name}/{language}", kAdmin);
        add("GET", "/admin/v1/templates/{waba_id}", 0);
        add("DELETE", "/admin/v1/templates/{waba_id}/{name}/{language}", kIgnored);
        add("GET", "/admin/v1/businesses/{business_id}/limits", 0);
        add("GET", "/admin/v1/businesses/{business_id}/history", 0);
        add("GET", "/admin/v1/phone-numbers/{phone_number_id}/history", 0);
        add("GET", "/admin/v1/events", 0);
        add("GET", "/admin/v1/events/{event_id}", 0);
        add("POST", "/admin/v1/events/{event_id}/replay", kIgnored);
        add("GET", "/metrics", 0);
        return r;
    }();
    return router;
}

/// The connection's bytes, handed out as a socket would: `chunk` bytes per read (0: all at once).
class Feed {
public:
    Feed(std::string_view bytes, std::size_t chunk) : bytes_(bytes), chunk_(chunk) {}
    /// Appends the next read to `buffer`; false at end of stream.
    bool read_into(std::string& buffer) {
        if (bytes_.empty()) {
            return false;
        }
        const std::size_t n = chunk_ == 0 ? bytes_.size() : std::min(chunk_, bytes_.size());
        buffer.append(bytes_.substr(0, n));
        bytes_.remove_prefix(n);
        return true;
    }

private:
    std::string_view bytes_;
    std::size_t chunk_;
};

/// Beast's read loop (http/impl/read.hpp) over a buffer and a feed: parse what is buffered, read
/// more on need_more, put_eof at end of stream (end_of_stream when nothing came), until the head
/// (or the whole message) is done or an error occurs.
/// `used` counts the bytes the parser consumed (async_read_header's bytes_transferred).
boost::system::error_code read(http::detail::RequestParser& parser, std::string& buffer, std::size_t& offset,
                               Feed& feed, bool head_only, std::size_t& used_total) {
    boost::system::error_code ec;
    for (;;) {
        if (head_only ? parser.is_header_done() : parser.is_done()) {
            return {};
        }
        if (offset < buffer.size()) {
            const std::size_t used =
                parser.put(boost::asio::const_buffer(buffer.data() + offset, buffer.size() - offset), ec);
            FUZZ_CHECK(used <= buffer.size() - offset, "parser used more than it was given");
            offset += used;
            used_total += used;
            if (ec != bhttp::error::need_more) {
                if (ec) {
                    return ec;
                }
                continue;
            }
            ec = {};
        }
        // Compact what was consumed, as flat_buffer does, then read.
        buffer.erase(0, offset);
        offset = 0;
        if (!feed.read_into(buffer)) {
            if (parser.got_some()) {
                parser.put_eof(ec);
                if (!ec) {
                    FUZZ_CHECK(parser.is_done(), "put_eof succeeded on an unfinished message");
                }
                return ec;
            }
            return bhttp::error::end_of_stream;
        }
    }
}

bool is_lower_name(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool is_id_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
           c == '-';
}

void check_params(const http::PathParams& params, std::string_view where) {
    for (const auto& [name, value] : params) {
        FUZZ_CHECK(!value.empty(), "empty capture " + name + std::string(where));
        if (name == "version") {
            FUZZ_CHECK(value.size() >= 4 && value[0] == 'v' && value.find('.') != std::string::npos,
                       "version capture " + excerpt(value) + std::string(where));
        } else if (name.ends_with("_id") || name == "id") {
            FUZZ_CHECK(value.size() <= 128 && std::all_of(value.begin(), value.end(), is_id_char),
                       "id capture " + excerpt(value) + std::string(where));
        }
        FUZZ_CHECK(value.find('/') == std::string::npos, "capture holds a slash" + std::string(where));
    }
}

void check_url(std::string_view text) {
    auto url = http::parse_url(text);
    if (!url) {
        FUZZ_CHECK(!url.error().message.empty(), "parse_url error without message");
        return;
    }
    const std::string where = " | url: " + excerpt(text);
    FUZZ_CHECK(!url->host.empty() && is_lower_name(url->host), "host " + excerpt(url->host) + where);
    FUZZ_CHECK(url->port >= 1, "port" + where);
    FUZZ_CHECK(url->target.starts_with("/"), "target " + excerpt(url->target) + where);
    const std::string authority = url->authority();
    FUZZ_CHECK(std::all_of(authority.begin(), authority.end(),
                           [](char c) { return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f; }),
               "authority " + excerpt(authority) + where);
    FUZZ_CHECK(std::all_of(url->target.begin(), url->target.end(),
                           [](char c) { return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f; }),
               "target with a space or control" + where);
}

/// What the server would answer for a condition it detects itself (the envelope must render).
/// `read_class` names errors found while reading ("head" or "body"): which of them Beast reports
/// may depend on how the bytes arrived (see serve()), so the transcript keeps only the class.
std::string rejected(int status, std::string_view details, std::string_view read_class = {}) {
    const auto error = wagate::domain::api_errors::server_detected(status, details);
    FUZZ_CHECK(error.http_status == status, "server_detected changed the status");
    const std::string body = wagate::domain::graph_error_body(error, "fuzz");
    FUZZ_CHECK(!nlohmann::json::parse(body, nullptr, false).is_discarded(), "error envelope is not JSON");
    if (!read_class.empty()) {
        return std::string(read_class) + " read error\n";
    }
    return std::to_string(status) + " " + std::string(details) + "\n";
}

/// The session's loop over one connection's bytes; returns a transcript of the outcomes.
std::string serve(std::string_view bytes, std::size_t chunk, std::size_t header_limit) {
    const http::Router& router = gateway_routes();
    Feed feed(bytes, chunk);
    std::string buffer;
    std::size_t offset = 0;
    std::string transcript;
    for (int n = 0; n < 4; ++n) {
        if (offset == buffer.size()) {
            // Idle keep-alive: a first byte, or the connection ends quietly.
            buffer.clear();
            offset = 0;
            if (!feed.read_into(buffer)) {
                break;
            }
        }
        http::detail::RequestParser parser;
        http::detail::limit_request_head(parser, header_limit);
        std::size_t head_bytes = 0;
        auto ec = read(parser, buffer, offset, feed, /*head_only=*/true, head_bytes);
        if (!ec && http::detail::head_exceeds_limit(head_bytes, header_limit)) {
            ec = bhttp::error::header_limit;  // as the server does
        }
        if (ec) {
            // Beast checks a head's fields at once when the whole head is buffered, but while it
            // arrives in pieces it only looks for its end: a head that is both too large and
            // malformed is 400 in one read and 431 in small ones. Either closes the connection.
            if (ec == bhttp::error::body_limit) {
                transcript += rejected(413, "body larger than the limit", "head");
            } else if (ec == bhttp::error::header_limit) {
                transcript += rejected(431, "request headers larger than the limit", "head");
            } else if (ec != bhttp::error::end_of_stream) {
                transcript += rejected(400, "malformed HTTP request", "head");
            } else {
                transcript += "eof\n";
            }
            break;
        }
        const auto& head = parser.get();
        http::Request request = http::detail::request_from_head(head);
        const std::string target(head.target());
        const std::string where = " | target: " + excerpt(target);
        FUZZ_CHECK(!request.method.empty(), "empty method" + where);
        FUZZ_CHECK((request.query.empty() && target.find('?') == std::string::npos
                        ? request.path
                        : request.path + "?" + request.query) == target,
                   "path/query do not rebuild the target" + where);
        FUZZ_CHECK(request.path.find('?') == std::string::npos, "path holds '?'" + where);
        std::size_t fields = 0;
        for (const auto& field : head) {
            FUZZ_CHECK(fields < request.headers.size(), "fewer headers than fields" + where);
            const auto& h = request.headers[fields++];
            FUZZ_CHECK(is_lower_name(h.name) && h.name.size() == field.name_string().size(), "header name" + where);
            FUZZ_CHECK(h.value == field.value(), "header value" + where);
        }
        FUZZ_CHECK(fields == request.headers.size(), "more headers than fields" + where);
        // What handlers do with a request's target and headers.
        (void)request.query_param("hub.mode");
        (void)request.query_param("hub.challenge");
        if (!request.query.empty()) {
            const std::string_view first = std::string_view(request.query).substr(0, request.query.find_first_of("=&"));
            (void)request.query_param(http::percent_decode(first));
        }
        FUZZ_CHECK(http::percent_decode(request.path, false).size() <= request.path.size(), "decode grew" + where);
        check_url(target);
        if (const std::string_view host = request.header("host"); !host.empty()) {
            check_url("http://" + std::string(host) + request.path + (request.query.empty() ? "" : "?" + request.query));
        }
        const bool keep_alive = head.keep_alive();
        transcript += request.method + " " + target + " " + std::to_string(request.headers.size()) + "\n";

        auto match = router.match(request.method, request.path);
        if (!match.route) {
            transcript += rejected(match.path_known ? 405 : 404, match.path_known ? "method not allowed" : "unknown path");
            break;
        }
        check_params(match.params, where);
        const http::Route& route = *match.route;
        if (parser.content_length() && *parser.content_length() > route.body_limit) {
            transcript += rejected(413, "body larger than " + std::to_string(route.body_limit) + " bytes");
            break;
        }
        const auto declared = parser.content_length();
        parser.body_limit(route.body_limit);
        std::size_t body_bytes = 0;
        if (const auto body_ec = read(parser, buffer, offset, feed, /*head_only=*/false, body_bytes)) {
            if (body_ec == bhttp::error::body_limit) {
                transcript += rejected(413, "body larger than " + std::to_string(route.body_limit) + " bytes", "body");
            } else if (body_ec != bhttp::error::partial_message) {
                transcript += rejected(400, "malformed HTTP body", "body");
            } else {
                // Silent close. Whether a malformed chunk is seen before the end of stream can
                // also depend on the reads, so it is the same class.
                transcript += "body read error\n";
            }
            break;
        }
        const std::string& body = parser.get().body();
        FUZZ_CHECK(body.size() <= route.body_limit, "body over the route's limit" + where);
        if (declared) {
            FUZZ_CHECK(body.size() == *declared, "body length differs from Content-Length" + where);
        }
        transcript += route.pattern + " body " + std::to_string(body.size()) + " " + excerpt(body, 32) + "\n";
        if (!keep_alive) {
            break;
        }
    }
    return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const std::size_t header_limit = size % 2 == 1 ? 1024 : 16 * 1024;
    const std::string whole = serve(bytes, 0, header_limit);
    const std::string pieces = serve(bytes, 7, header_limit);
    FUZZ_CHECK(whole == pieces, "outcome depends on read sizes:\n--- all at once\n" + whole + "--- 7-byte reads\n" + pieces);
    return 0;
}
