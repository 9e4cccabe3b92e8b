#include "http/beast_pch.hpp"

#include <wagate/http/server.hpp>

#include <atomic>
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <wagate/crypto/random.hpp>

namespace wagate::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

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

/// A session's stream, shared so that stop() can cancel it from outside the session.
struct SessionState {
    explicit SessionState(tcp::socket&& socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    std::atomic<bool> idle{true};
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

    asio::awaitable<bool> write(SessionState& s, Response&& response, const std::string& request_id,
                                bool keep_alive, unsigned version) {
        bhttp::response<bhttp::string_body> out;
        out.version(version);
        make_response(out, std::move(response), request_id);
        out.keep_alive(keep_alive);
        out.prepare_payload();
        s.stream.expires_after(settings.write_timeout);
        auto [ec, n] = co_await bhttp::async_write(s.stream, out, kUseTuple);
        co_return !ec && keep_alive;
    }

    /// Answers a condition found before any handler ran (limits, parse errors, routing) and
    /// closes unless `keep_alive`.
    asio::awaitable<bool> reject(SessionState& s, int status, std::string_view details,
                                 const std::string& request_id, std::string_view route,
                                 std::chrono::steady_clock::time_point started, Request* request,
                                 bool keep_alive = false) {
        Response response = render_error(status, details, request_id);
        const std::size_t bytes = response.body.size();
        const bool kept = co_await write(s, std::move(response), request_id, keep_alive, 11);
        Request placeholder;
        placeholder.request_id = request_id;
        on_request(RequestRecord{request ? request : &placeholder, route, status, bytes,
                                 std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - started)});
        co_return kept;
    }

    // `holder` keeps the server state alive for as long as the session runs.
    asio::awaitable<void> run_session([[maybe_unused]] std::shared_ptr<Impl> holder,
                                      std::shared_ptr<SessionState> state) {
        SessionState& s = *state;
        beast::flat_buffer buffer;
        std::string remote;
        {
            beast::error_code ec;
            const auto ep = s.stream.socket().remote_endpoint(ec);
            if (!ec) {
                remote = ep.address().to_string();
            }
        }
        for (;;) {
            if (stopping) {
                break;
            }
            // Idle keep-alive: the first byte of the next request must come within idle_timeout.
            if (buffer.size() == 0) {
                s.idle = true;
                s.stream.expires_after(settings.idle_timeout);
                auto [ec, n] = co_await s.stream.async_read_some(buffer.prepare(8192), kUseTuple);
                if (ec) {
                    break;
                }
                buffer.commit(n);
            }
            s.idle = false;
            const auto started = std::chrono::steady_clock::now();
            const std::string request_id = crypto::random_hex(8);

            bhttp::request_parser<bhttp::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
            // No body limit until the route is known: Beast's default (1 MiB) would otherwise
            // fail the header read itself on a large Content-Length, before we can answer 413.
            parser.body_limit(boost::none);
            s.stream.expires_after(settings.header_timeout);
            auto [hec, hn] = co_await bhttp::async_read_header(s.stream, buffer, parser, kUseTuple);
            if (hec) {
                if (hec == bhttp::error::body_limit) {
                    co_await reject(s, 413, "body larger than the limit", request_id, "unmatched",
                                    started, nullptr);
                } else if (hec == bhttp::error::header_limit) {
                    co_await reject(s, 431, "request headers larger than the limit", request_id,
                                    "unmatched", started, nullptr);
                } else if (hec != beast::error::timeout && hec != bhttp::error::end_of_stream &&
                           hec != asio::error::operation_aborted && hec != asio::error::eof &&
                           hec != asio::error::connection_reset) {
                    co_await reject(s, 400, "malformed HTTP request", request_id, "unmatched",
                                    started, nullptr);
                }
                break;
            }

            auto& head = parser.get();
            Request request;
            request.request_id = request_id;
            request.remote_address = remote;
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
            const bool keep_alive = head.keep_alive();
            const unsigned version = head.version();

            auto match = router.match(request.method, request.path);
            if (!match.route) {
                // The body is not read: answer and close, so no unread bytes linger.
                const int status = match.path_known ? 405 : 404;
                co_await reject(s, status, match.path_known ? "method not allowed" : "unknown path",
                                request_id, "unmatched", started, &request);
                break;
            }
            const Route& route = *match.route;
            if (parser.content_length() && *parser.content_length() > route.body_limit) {
                co_await reject(s, 413, "body larger than " + std::to_string(route.body_limit) + " bytes",
                                request_id, route.pattern, started, &request);
                break;
            }
            parser.body_limit(route.body_limit);
            if (!parser.is_done()) {
                if (beast::iequals(head[bhttp::field::expect], "100-continue")) {
                    bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
                    s.stream.expires_after(settings.write_timeout);
                    auto [cec, cn] = co_await bhttp::async_write(s.stream, cont, kUseTuple);
                    if (cec) {
                        break;
                    }
                }
                s.stream.expires_after(settings.body_timeout);
                auto [bec, bn] = co_await bhttp::async_read(s.stream, buffer, parser, kUseTuple);
                if (bec) {
                    if (bec == bhttp::error::body_limit) {
                        co_await reject(s, 413, "body larger than " + std::to_string(route.body_limit) + " bytes",
                                        request_id, route.pattern, started, &request);
                    } else if (bec != beast::error::timeout && bec != asio::error::operation_aborted &&
                               bec != asio::error::eof && bec != bhttp::error::partial_message &&
                               bec != asio::error::connection_reset) {
                        co_await reject(s, 400, "malformed HTTP body", request_id, route.pattern,
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
            const std::size_t bytes = response.body.size();
            const bool again = co_await write(s, std::move(response), request_id,
                                              keep_alive && !stopping, version);
            on_request(RequestRecord{&request, route.pattern, status, bytes,
                                     std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - started)});
            if (!again) {
                break;
            }
        }
        beast::error_code ignored;
        s.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        s.stream.socket().close(ignored);
    }
};

Server::Server(asio::any_io_executor executor, ServerSettings settings, const Router& router,
               ErrorRenderer render_error, std::function<void(const RequestRecord&)> on_request)
    : impl_(std::make_shared<Impl>(executor, std::move(settings), router, std::move(render_error),
                                   std::move(on_request))) {}

Server::~Server() {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
}

Result<void> Server::start() {
    auto endpoint = parse_listen(impl_->settings.listen);
    if (!endpoint) {
        return endpoint.error();
    }
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

void Server::stop(std::chrono::milliseconds grace, std::function<void()> done) {
    auto impl = impl_;
    impl->stopping = true;
    asio::post(impl->acceptor.get_executor(), [impl] {
        beast::error_code ignored;
        impl->acceptor.close(ignored);
    });
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
