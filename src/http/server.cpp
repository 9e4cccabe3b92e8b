#include "http/beast_pch.hpp"

#include <wagate/http/server.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <wagate/crypto/random.hpp>

#include "http/request_head.hpp"

namespace wagate::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// TLS 1.2: forward secrecy and AEAD only (Mozilla's "intermediate" list without DHE). TLS 1.3
// keeps OpenSSL's default suites, which are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// How long a closing TLS session waits for the peer to answer its close_notify.
constexpr std::chrono::milliseconds kTlsShutdownTimeout{1'000};

using TlsStream = beast::ssl_stream<beast::tcp_stream&>;

/// The OpenSSL reason alone ("no such file", "key values mismatch"), else the error's message.
std::string tls_reason(const beast::error_code& ec) {
    if (ec.category() == asio::error::get_ssl_category()) {
        if (const char* text = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) {
            return text;
        }
    }
    return ec.message();
}

/// The listener's TLS context, or nothing when both files are unset.
Result<std::optional<asio::ssl::context>> make_tls_context(const ServerSettings& settings) {
    std::optional<asio::ssl::context> none;
    if (settings.tls_cert_file.empty() && settings.tls_key_file.empty()) {
        return none;
    }
    if (settings.tls_cert_file.empty() || settings.tls_key_file.empty()) {
        return Error{Errc::kInvalidArgument, "TLS needs both a certificate file and a private key file"};
    }
    asio::ssl::context context(asio::ssl::context::tls_server);
    context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression |
                        asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                        asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    SSL_CTX* handle = context.native_handle();
    SSL_CTX_set_min_proto_version(handle, TLS1_2_VERSION);
    SSL_CTX_set_options(handle, SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_set_cipher_list(handle, kTls12Ciphers) != 1) {
        return Error{Errc::kInternal, "OpenSSL refused the TLS 1.2 cipher list"};
    }
    beast::error_code ec;
    context.use_certificate_chain_file(settings.tls_cert_file, ec);
    if (ec) {
        return Error{Errc::kInvalidArgument,
                     "cannot load TLS certificate " + settings.tls_cert_file + ": " + tls_reason(ec)};
    }
    context.use_private_key_file(settings.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
        return Error{Errc::kInvalidArgument,
                     "cannot load TLS private key " + settings.tls_key_file + ": " + tls_reason(ec)};
    }
    if (SSL_CTX_check_private_key(handle) != 1) {
        return Error{Errc::kInvalidArgument, "TLS private key " + settings.tls_key_file +
                                                 " does not match certificate " + settings.tls_cert_file};
    }
    std::optional<asio::ssl::context> out(std::move(context));
    return out;
}

Result<tcp::endpoint> parse_listen(const std::string& listen) {
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
        return Error{Errc::kInvalidArgument, "listen address must be host:port: " + listen};
    }
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec) {
        return Error{Errc::kInvalidArgument, "listen host must be an IP address: " + listen};
    }
    int port = -1;
    try {
        port = std::stoi(listen.substr(colon + 1));
    } catch (...) {
    }
    if (port < 0 || port > 65535) {
        return Error{Errc::kInvalidArgument, "listen port out of range: " + listen};
    }
    return tcp::endpoint(address, static_cast<unsigned short>(port));
}

/// A session's stream, shared so that stop() can cancel it from outside the session. `stream` is
/// the TCP layer (timeouts, cancel); an HTTPS session speaks through `tls`, which wraps it.
struct SessionState {
    explicit SessionState(tcp::socket&& socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    std::unique_ptr<TlsStream> tls;
    std::atomic<bool> idle{true};
    const std::chrono::steady_clock::time_point opened = std::chrono::steady_clock::now();
};

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
    asio::any_io_executor executor;
    ServerSettings settings;
    const Router& router;
    ErrorRenderer render_error;
    std::function<void(const RequestRecord&)> on_request;
    tcp::acceptor acceptor;
    std::atomic<bool> stopping{false};
    std::atomic<unsigned short> bound_port{0};
    std::atomic<std::size_t> accepted{0};
    std::optional<asio::ssl::context> tls;  // set by start() before accepting
    std::atomic<bool> acceptor_closing{false};

    /// The acceptor is only used on its strand, where the accept loop runs (and may be starting
    /// its next accept): it is closed there too, once, by stop() or ~Server.
    void close_acceptor() {
        if (acceptor_closing.exchange(true)) {
            return;
        }
        asio::post(acceptor.get_executor(), [self = shared_from_this()] {
            beast::error_code ignored;
            self->acceptor.close(ignored);
        });
    }

    std::mutex mutex;  // guards sessions, next_id, on_drained
    std::unordered_map<std::uint64_t, std::weak_ptr<SessionState>> sessions;
    std::uint64_t next_id = 0;
    std::function<void()> on_drained;

    Impl(asio::any_io_executor ex, ServerSettings s, const Router& r, ErrorRenderer e,
         std::function<void(const RequestRecord&)> log)
        : executor(ex),
          settings(std::move(s)),
          router(r),
          render_error(std::move(e)),
          on_request(std::move(log)),
          acceptor(asio::make_strand(ex)) {}

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(executor), kUseTuple);
            if (ec) {
                if (stopping || ec == asio::error::operation_aborted) {
                    co_return;
                }
                // EMFILE and friends: back off briefly instead of spinning.
                spdlog::warn("accept failed: {}", ec.message());
                asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
                co_await pause.async_wait(kUseTuple);
                continue;
            }
            ++accepted;
            {
                // Small writes go out at once: without this, Nagle holds a response behind the
                // unacknowledged TLS session tickets until the client's delayed ACK (~40 ms).
                beast::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
            }
            auto state = std::make_shared<SessionState>(std::move(socket));
            std::uint64_t id = 0;
            {
                std::lock_guard lock(mutex);
                if (sessions.size() >= settings.max_connections) {
                    beast::error_code ignored;
                    state->stream.socket().close(ignored);
                    continue;
                }
                id = next_id++;
                sessions.emplace(id, state);
            }
            if (tls) {
                state->tls = std::make_unique<TlsStream>(state->stream, *tls);
            }
            const auto session_executor = state->stream.get_executor();
            asio::co_spawn(session_executor, run_session(self, state),
                           [self, id](std::exception_ptr e) {
                               if (e) {
                                   try {
                                       std::rethrow_exception(e);
                                   } catch (const std::exception& ex) {
                                       spdlog::error("session ended by exception: {}", ex.what());
                                   }
                               }
                               self->session_ended(id);
                           });
        }
    }

    void session_ended(std::uint64_t id) {
        std::function<void()> done;
        {
            std::lock_guard lock(mutex);
            sessions.erase(id);
            if (stopping && sessions.empty() && on_drained) {
                done = std::exchange(on_drained, nullptr);
            }
        }
        if (done) {
            done();
        }
    }

    /// Cancels sessions: all of them, or only those waiting for a next request.
    void cancel_sessions(bool idle_only) {
        std::lock_guard lock(mutex);
        for (auto& [id, weak] : sessions) {
            if (auto state = weak.lock(); state && (!idle_only || state->idle)) {
                asio::post(state->stream.get_executor(), [state] { state->stream.cancel(); });
            }
        }
    }

    static void make_response(bhttp::response<bhttp::string_body>& out, Response&& response,
                              const std::string& request_id) {
        out.result(static_cast<unsigned>(response.status));
        out.set(bhttp::field::content_type, response.content_type);
        out.set("X-Request-Id", request_id);
        for (auto& h : response.headers) {
            out.set(h.name, h.value);
        }
        out.body() = std::move(response.body);
    }

    template <class Stream>
    asio::awaitable<bool> write(SessionState& s, Stream& stream, Response&& response,
                                const std::string& request_id, bool keep_alive, unsigned version) {
        bhttp::response<bhttp::string_body> out;
        out.version(version);
        make_response(out, std::move(response), request_id);
        out.keep_alive(keep_alive);
        out.prepare_payload();
        s.stream.expires_after(settings.write_timeout);
        auto [ec, n] = co_await bhttp::async_write(stream, out, kUseTuple);
        co_return !ec && keep_alive;
    }

    /// Answers a condition found before any handler ran (limits, parse errors, routing) and
    /// closes unless `keep_alive`.
    template <class Stream>
    asio::awaitable<bool> reject(SessionState& s, Stream& stream, int status, std::string_view details,
                                 const std::string& request_id, std::string_view route,
                                 std::chrono::steady_clock::time_point started, Request* request,
                                 bool keep_alive = false) {
        Response response = render_error(status, details, request_id);
        const std::size_t bytes = response.body.size();
        const int error_code = response.error_code;
        const bool kept = co_await write(s, stream, std::move(response), request_id, keep_alive, 11);
        Request placeholder;
        placeholder.request_id = request_id;
        on_request(RequestRecord{request ? request : &placeholder, route, status, bytes,
                                 std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - started),
                                 error_code});
        co_return kept;
    }

    // `holder` keeps the server state alive for as long as the session runs.
    asio::awaitable<void> run_session([[maybe_unused]] std::shared_ptr<Impl> holder,
                                      std::shared_ptr<SessionState> state) {
        SessionState& s = *state;
        if (!s.tls) {
            co_await serve(s, s.stream);
        } else {
            // The handshake counts against the header timeout, like the request head it precedes.
            s.stream.expires_after(settings.header_timeout);
            auto [hec] = co_await s.tls->async_handshake(asio::ssl::stream_base::server, kUseTuple);
            if (hec) {
                spdlog::debug("TLS handshake failed: {}", tls_reason(hec));
            } else {
                co_await serve(s, *s.tls);
                // A timeout already closed the socket; otherwise say goodbye with close_notify,
                // not waiting long for the peer's answer.
                if (s.stream.socket().is_open() && !stopping) {
                    s.stream.expires_after(std::min(settings.write_timeout, kTlsShutdownTimeout));
                    [[maybe_unused]] auto [sec] = co_await s.tls->async_shutdown(kUseTuple);
                }
            }
        }
        beast::error_code ignored;
        s.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        s.stream.socket().close(ignored);
    }

    /// Reads requests and answers them on `stream` (the TCP stream, or TLS over it) until the
    /// connection should close.
    template <class Stream>
    asio::awaitable<void> serve(SessionState& s, Stream& stream) {
        beast::flat_buffer buffer;
        std::string remote;
        {
            beast::error_code ec;
            const auto ep = s.stream.socket().remote_endpoint(ec);
            if (!ec) {
                remote = ep.address().to_string();
            }
        }
        // The first request head must be complete within header_timeout of the accept (a TLS
        // handshake included): a silent new connection is not an idle keep-alive one.
        const auto first_head_by = s.opened + settings.header_timeout;
        bool first = true;
        for (;;) {
            if (stopping) {
                break;
            }
            // Idle keep-alive: the first byte of the next request must come within idle_timeout.
            if (buffer.size() == 0) {
                s.idle = true;
                s.stream.expires_at(first ? first_head_by : std::chrono::steady_clock::now() + settings.idle_timeout);
                auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), kUseTuple);
                if (ec) {
                    break;
                }
                buffer.commit(n);
            }
            s.idle = false;
            const auto started = std::chrono::steady_clock::now();
            const std::string request_id = crypto::random_hex(8);

            detail::RequestParser parser;
            detail::limit_request_head(parser, settings.max_header_bytes);
            s.stream.expires_at(first ? first_head_by : std::chrono::steady_clock::now() + settings.header_timeout);
            auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kUseTuple);
            first = false;
            if (!hec && detail::head_exceeds_limit(hn, settings.max_header_bytes)) {
                hec = bhttp::error::header_limit;
            }
            if (hec) {
                if (hec == bhttp::error::body_limit) {
                    co_await reject(s, stream, 413, "body larger than the limit", request_id, "unmatched",
                                    started, nullptr);
                } else if (hec == bhttp::error::header_limit) {
                    co_await reject(s, stream, 431, "request headers larger than the limit", request_id,
                                    "unmatched", started, nullptr);
                } else if (hec != beast::error::timeout && hec != bhttp::error::end_of_stream &&
                           hec != asio::error::operation_aborted && hec != asio::error::eof &&
                           hec != asio::error::connection_reset && hec != asio::ssl::error::stream_truncated) {
                    co_await reject(s, stream, 400, "malformed HTTP request", request_id, "unmatched",
                                    started, nullptr);
                }
                break;
            }

            auto& head = parser.get();
            Request request = detail::request_from_head(head);
            request.request_id = request_id;
            request.remote_address = remote;
            const bool keep_alive = head.keep_alive();
            const unsigned version = head.version();

            auto match = router.match(request.method, request.path);
            if (!match.route) {
                // The body is not read: answer and close, so no unread bytes linger.
                const int status = match.path_known ? 405 : 404;
                co_await reject(s, stream, status, match.path_known ? "method not allowed" : "unknown path",
                                request_id, "unmatched", started, &request);
                break;
            }
            const Route& route = *match.route;
            if (parser.content_length() && *parser.content_length() > route.body_limit) {
                co_await reject(s, stream, 413, "body larger than " + std::to_string(route.body_limit) + " bytes",
                                request_id, route.pattern, started, &request);
                break;
            }
            parser.body_limit(route.body_limit);
            if (!parser.is_done()) {
                if (beast::iequals(head[bhttp::field::expect], "100-continue")) {
                    bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
                    s.stream.expires_after(settings.write_timeout);
                    auto [cec, cn] = co_await bhttp::async_write(stream, cont, kUseTuple);
                    if (cec) {
                        break;
                    }
                }
                s.stream.expires_after(settings.body_timeout);
                auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kUseTuple);
                if (bec) {
                    if (bec == bhttp::error::body_limit) {
                        co_await reject(s, stream, 413, "body larger than " + std::to_string(route.body_limit) + " bytes",
                                        request_id, route.pattern, started, &request);
                    } else if (bec != beast::error::timeout && bec != asio::error::operation_aborted &&
                               bec != asio::error::eof && bec != bhttp::error::partial_message &&
                               bec != asio::error::connection_reset &&
                               bec != asio::ssl::error::stream_truncated) {
                        co_await reject(s, stream, 400, "malformed HTTP body", request_id, route.pattern,
                                        started, &request);
                    }
                    break;
                }
            }
            request.body = std::move(parser.get().body());

            Response response;
            try {
                response = co_await route.handler(request, match.params);
            } catch (const std::exception& e) {
                spdlog::error("handler {} threw: {} (request {})", route.pattern, e.what(), request_id);
                response = render_error(500, "internal error", request_id);
            }
            const int status = response.status;
            const int error_code = response.error_code;
            const std::size_t bytes = response.body.size();
            const bool again = co_await write(s, stream, std::move(response), request_id,
                                              keep_alive && !stopping, version);
            on_request(RequestRecord{&request, route.pattern, status, bytes,
                                     std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - started),
                                     error_code});
            if (!again) {
                break;
            }
        }
    }
};

Server::Server(asio::any_io_executor executor, ServerSettings settings, const Router& router,
               ErrorRenderer render_error, std::function<void(const RequestRecord&)> on_request)
    : impl_(std::make_shared<Impl>(executor, std::move(settings), router, std::move(render_error),
                                   std::move(on_request))) {}

Server::~Server() { impl_->close_acceptor(); }

Result<void> Server::start() {
    auto endpoint = parse_listen(impl_->settings.listen);
    if (!endpoint) {
        return endpoint.error();
    }
    auto tls = make_tls_context(impl_->settings);
    if (!tls) {
        return tls.error();
    }
    impl_->tls = std::move(*tls);
    beast::error_code ec;
    auto& acceptor = impl_->acceptor;
    acceptor.open(endpoint->protocol(), ec);
    if (!ec) {
        acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(*endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return Error{Errc::kInternal, "cannot listen on " + impl_->settings.listen + ": " + ec.message()};
    }
    impl_->bound_port = acceptor.local_endpoint().port();
    asio::co_spawn(acceptor.get_executor(), impl_->accept_loop(), asio::detached);
    return {};
}

unsigned short Server::port() const noexcept { return impl_->bound_port; }

std::size_t Server::open_connections() const noexcept {
    std::lock_guard lock(impl_->mutex);
    return impl_->sessions.size();
}

std::size_t Server::accepted_connections() const noexcept { return impl_->accepted; }

void Server::stop(std::chrono::milliseconds grace, std::function<void()> done) {
    auto impl = impl_;
    impl->stopping = true;
    impl->close_acceptor();
    {
        std::unique_lock lock(impl->mutex);
        if (impl->sessions.empty()) {
            lock.unlock();
            done();
            return;
        }
        impl->on_drained = std::move(done);
    }
    impl->cancel_sessions(/*idle_only=*/true);
    auto timer = std::make_shared<asio::steady_timer>(impl->executor, grace);
    timer->async_wait([impl, timer](beast::error_code) { impl->cancel_sessions(false); });
}

}  // namespace wagate::http
