#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>
#include <wagate/http/message.hpp>

namespace wagate::http {

/// An absolute http(s) URL, split for a request.
struct Url {
    bool tls = true;           // https
    std::string host;          // lower-case; an IPv6 literal without its brackets
    bool ip_literal = false;   // host is an IPv4 or IPv6 address (verified against the IP SAN)
    unsigned short port = 0;   // as given, or the scheme's default
    std::string target = "/";  // path and query as given ("/" if empty); the fragment is dropped

    /// host[:port] as sent in Host: the port only when it is not the scheme's default, an IPv6
    /// literal in brackets.
    std::string authority() const;
};

/// Parses `http(s)://host[:port][/path][?query][#fragment]` (the scheme in any case, an IPv6
/// literal in brackets). Pure. kInvalidArgument for anything else: another scheme, user info, an
/// empty or malformed host, a port outside 1..65535, or a space, control or non-ASCII byte.
/// The message never repeats the path or query (they may hold tokens).
Result<Url> parse_url(std::string_view url);

struct ClientSettings {
    std::chrono::milliseconds connect_timeout{5'000};   // DNS, TCP connect and TLS handshake
    std::chrono::milliseconds request_timeout{30'000};  // writing the request and reading the response
    /// A pooled connection idle longer than this is closed instead of reused: shorter than the
    /// peers' own keep-alive timeouts, so a request rarely meets a connection the peer just closed.
    std::chrono::milliseconds max_idle{20'000};
    std::size_t max_connections_per_host = 64;  // requests beyond this wait for a connection
    std::size_t max_response_bytes = 4 * 1024 * 1024;
    /// PEM file of the certificate authorities to trust; empty: the system's default store. A file
    /// that cannot be loaded fails every https request with kInvalidArgument.
    std::string ca_file;
    /// `http://` URLs are refused unless this is set (tests, the sandbox).
    bool allow_plain_http = false;
};

struct ClientRequest {
    std::string method = "POST";
    std::string url;  // absolute: http(s)://host[:port]/path[?query]
    /// Host, Content-Length, Connection and Transfer-Encoding given here are ignored: the client
    /// sets them (a body is always sent with Content-Length, never chunked). User-Agent defaults to
    /// "wagate". A name that is not a token, or a value with CR, LF or NUL, is kInvalidArgument.
    std::vector<Header> headers;
    std::string body;
};

struct ClientResponse {
    int status = 0;
    std::vector<Header> headers;  // lower-case names
    std::string body;

    /// The first header with `lower_name`, or empty.
    std::string_view header(std::string_view lower_name) const noexcept;
};

/// An HTTP/1.1 client over Beast with OpenSSL: certificate-chain and host-name verification,
/// SNI, keep-alive connections pooled per (scheme, host, port), connect and request timeouts.
/// Thread-safe; requests may run concurrently from any thread of the executor.
///
/// A request that fails on a reused connection before any byte of a response arrived (the peer
/// closed the idle connection) is sent once more on a new connection; that is the only retry.
/// An idle connection is also checked before reuse (a peer's close already received drops it).
///
/// Per (scheme, host, port) at most `max_connections_per_host` connections exist; a request that
/// finds none free waits (asynchronously, at most `request_timeout`, then kTimeout). Idle
/// connections are reused most recent first and closed after `max_idle`, or when the peer answered
/// with `Connection: close`.
///
/// Lifetime: requests in flight keep the client's state alive, so the Client object may be
/// destroyed while they run (their connections are then closed instead of pooled). The executor's
/// execution context must outlive the client and its requests.
///
/// Errors: kInvalidArgument (malformed URL, http not allowed), kTimeout (connect or request
/// deadline), kNetwork (resolve, connect, TLS handshake or verification, reset, malformed or
/// oversized response). The message names the failing step and never holds header values.
class Client {
public:
    Client(boost::asio::any_io_executor executor, ClientSettings settings);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    boost::asio::awaitable<Result<ClientResponse>> send(ClientRequest request);

    /// Closes every pooled connection; requests in flight complete normally.
    void close_idle();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace wagate::http
