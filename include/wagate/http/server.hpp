#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <wagate/core/error.hpp>
#include <wagate/http/message.hpp>
#include <wagate/http/router.hpp>

namespace wagate::http {

struct ServerSettings {
    std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free port
    std::size_t max_header_bytes = 16 * 1024;
    /// A request head must be complete this long after its first byte; a new connection's first
    /// head (TLS handshake included) this long after the accept.
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds idle_timeout{30'000};
    std::chrono::milliseconds write_timeout{30'000};
    std::size_t max_connections = 10'000;
    /// PEM files of the certificate (chain, leaf first) and its private key. Both set: the
    /// listener speaks HTTPS only (TLS 1.2 and 1.3, ECDHE with AES-GCM or ChaCha20-Poly1305 on
    /// 1.2, no compression or renegotiation; the handshake must finish within header_timeout).
    /// Both empty: plain HTTP.
    std::string tls_cert_file;
    std::string tls_key_file;
};

/// What the server reports about every answered request (for the access log and metrics).
struct RequestRecord {
    const Request* request = nullptr;
    std::string_view route;  // the matched pattern, or "unmatched"
    int status = 0;
    std::size_t response_bytes = 0;
    std::chrono::microseconds latency{0};
    int error_code = 0;  // Response::error_code
};

/// Builds the body of an error response for conditions the server detects itself (404, 405,
/// 413, 431, ...), so that it uses the same envelope as the handlers.
using ErrorRenderer = std::function<Response(int status, std::string_view details,
                                             const std::string& request_id)>;

/// HTTP/1.1 listener and sessions, plain or over TLS: keep-alive, chunked bodies, header and body
/// limits, header, body, idle and write timeouts, a connection cap, request ids (X-Request-Id on
/// every response). Thread-safe start/stop.
class Server {
public:
    Server(boost::asio::any_io_executor executor, ServerSettings settings, const Router& router,
           ErrorRenderer render_error, std::function<void(const RequestRecord&)> on_request);
    /// Closes the listening socket on the executor (stop() first for a graceful end): sessions
    /// still running finish on their own.
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and starts accepting. Errors: kInvalidArgument (bad address; a TLS certificate or key
    /// that cannot be loaded, or that do not match), kInternal (bind failed).
    Result<void> start();
    /// The bound port (useful with port 0).
    unsigned short port() const noexcept;
    /// Stops accepting, lets in-flight requests finish, and closes idle connections. Calls `done`
    /// once every session has ended or `grace` has passed (remaining sessions are then closed).
    void stop(std::chrono::milliseconds grace, std::function<void()> done);

    std::size_t open_connections() const noexcept;
    /// Connections accepted since start (refused ones over max_connections included).
    std::size_t accepted_connections() const noexcept;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace wagate::http
