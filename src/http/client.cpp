#include "http/beast_pch.hpp"

#include <wagate/http/client.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

namespace wagate::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Coroutine bodies below follow GCC 12's rules: each co_await is its own statement, no lambda
// or braced temporaries inside a co_await expression (helpers that take lambdas are plain
// functions), and values are named before they are passed on.

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kMaxResponseHeaderBytes = 64 * 1024;
constexpr std::string_view kUserAgent = "wagate";

using Clock = std::chrono::steady_clock;
using Message = bhttp::request<bhttp::string_body>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Endpoints = tcp::resolver::results_type;
// One token per connection a host may have: receiving is taking a slot, sending returns it.
using PermitChannel = asio::experimental::concurrent_channel<void(error_code)>;
using ResolveChannel = asio::experimental::channel<void(error_code, Endpoints)>;

Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

/// A failed socket step: kTimeout when the stream's deadline passed, kNetwork otherwise.
Error io_error(const error_code& ec, std::string_view step, const std::string& where) {
    if (ec == beast::error::timeout) {
        return make_error(Errc::kTimeout, std::string(step) + " " + where + " timed out");
    }
    return make_error(Errc::kNetwork, std::string(step) + " " + where + ": " + ec.message());
}

/// The peer closed or reset the connection (TLS: with or without close_notify).
bool closed_by_peer(const error_code& ec) noexcept {
    return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted || ec == asio::error::not_connected ||
           ec == ssl::error::stream_truncated;
}

/// RFC 9110 token: method and header names.
bool is_token(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        if (!ok) {
            return false;
        }
    }
    return true;
}

/// "host:port" for messages and pool keys (never the path or query: they may hold tokens).
std::string host_port(const Url& url) {
    const bool v6 = url.host.find(':') != std::string::npos;
    return (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

Result<Message> build_request(ClientRequest& request, const Url& url) {
    if (!is_token(request.method)) {
        return make_error(Errc::kInvalidArgument, "request method must be an HTTP token");
    }
    Message message;
    message.version(11);
    const bhttp::verb verb = bhttp::string_to_verb(request.method);
    if (verb == bhttp::verb::unknown) {
        message.method_string(request.method);
    } else {
        message.method(verb);
    }
    message.target(url.target);
    message.set(bhttp::field::host, url.authority());
    bool has_user_agent = false;
    for (const Header& h : request.headers) {
        if (!is_token(h.name)) {
            return make_error(Errc::kInvalidArgument, "request header name is not an HTTP token");
        }
        // The value is never quoted back: it may be a token.
        if (h.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
            return make_error(Errc::kInvalidArgument, "request header " + h.name + " holds CR, LF or NUL");
        }
        if (beast::iequals(h.name, "host") || beast::iequals(h.name, "content-length") ||
            beast::iequals(h.name, "connection") || beast::iequals(h.name, "transfer-encoding")) {
            continue;
        }
        has_user_agent = has_user_agent || beast::iequals(h.name, "user-agent");
        message.insert(h.name, h.value);
    }
    if (!has_user_agent) {
        message.set(bhttp::field::user_agent, kUserAgent);
    }
    message.set(bhttp::field::connection, "keep-alive");
    if (!request.body.empty() || (verb != bhttp::verb::get && verb != bhttp::verb::head)) {
        message.content_length(request.body.size());
    }
    message.body() = std::move(request.body);
    return message;
}

/// One pooled connection: plain or TLS, on its own strand (all its I/O runs there).
struct Connection {
    Connection(const asio::any_io_executor& strand, ssl::context* tls_context) {
        if (tls_context) {
            tls = std::make_unique<TlsStream>(strand, *tls_context);
        } else {
            plain = std::make_unique<beast::tcp_stream>(strand);
        }
    }

    std::unique_ptr<beast::tcp_stream> plain;  // exactly one of plain and tls is set
    std::unique_ptr<TlsStream> tls;
    beast::flat_buffer buffer;
    Clock::time_point idle_since{};

    beast::tcp_stream& tcp() noexcept { return tls ? beast::get_lowest_layer(*tls) : *plain; }

    /// Before reuse, without blocking: an idle connection has nothing to read. A close (EOF), a
    /// reset, or any byte (a TLS close_notify included) means the peer is done with it.
    bool idle_and_open() {
        auto& socket = tcp().socket();
        if (buffer.size() != 0 || !socket.is_open()) {
            return false;
        }
        char byte = 0;
        const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
};

/// The connections of one (scheme, host, port).
struct HostPool {
    HostPool(const asio::any_io_executor& executor, std::size_t max_connections)
        : permits(executor, max_connections) {
        for (std::size_t i = 0; i < max_connections; ++i) {
            permits.try_send(error_code{});
        }
    }

    PermitChannel permits;
    // Guarded by Client::Impl::mutex.
    std::vector<std::unique_ptr<Connection>> idle;  // oldest first; reuse takes the back (LIFO)
    std::size_t users = 0;                          // requests holding this pool
};

/// What one request/response exchange on one connection gave.
struct Exchange {
    Result<ClientResponse> response;
    bool stale = false;     // failed before any byte of a response: the peer had closed it
    bool reusable = false;  // the connection may carry another request
};

/// The resolver and the deadline race; whichever finishes first answers through `done`.
struct ResolveRace {
    explicit ResolveRace(const asio::any_io_executor& executor)
        : resolver(executor), timer(executor), done(executor, 1) {}
    tcp::resolver resolver;
    asio::steady_timer timer;
    ResolveChannel done;
    bool finished = false;  // only touched on the strand
};

/// Starts both halves of the race. Runs on the strand that owns `race` (its handlers too).
/// getaddrinfo cannot be interrupted: when the deadline wins the lookup is abandoned, not
/// awaited, and its late result is dropped.
void start_resolve(const std::shared_ptr<ResolveRace>& race, const std::string& host, const std::string& port,
                   Clock::time_point deadline) {
    race->timer.expires_at(deadline);
    race->timer.async_wait([race](error_code ec) {
        if (ec || race->finished) {
            return;
        }
        race->finished = true;
        race->resolver.cancel();
        const error_code timeout = beast::error::timeout;
        race->done.try_send(timeout, Endpoints{});
    });
    race->resolver.async_resolve(host, port, [race](error_code ec, Endpoints endpoints) {
        if (race->finished) {
            return;
        }
        race->finished = true;
        race->timer.cancel();
        race->done.try_send(ec, std::move(endpoints));
    });
}

/// Emits a terminal cancellation on `signal` when `timer` expires (not when it is cancelled).
void cancel_at_expiry(asio::steady_timer& timer, std::shared_ptr<asio::cancellation_signal> signal) {
    timer.async_wait([signal = std::move(signal)](error_code ec) {
        if (!ec) {
            signal->emit(asio::cancellation_type::terminal);
        }
    });
}

bool try_take_permit(HostPool& pool) {
    return pool.permits.try_receive([](error_code) {});
}

/// SNI and the name the certificate must carry: an IP literal is checked against the IP
/// addresses of the subjectAltName (and sends no SNI: RFC 6066 allows names only), any other
/// host against the DNS names. OpenSSL checks them during chain verification, so a mismatch
/// fails the handshake with X509_V_ERR_HOSTNAME_MISMATCH / X509_V_ERR_IP_ADDRESS_MISMATCH.
Result<void> prepare_tls(TlsStream& stream, const Url& url) {
    SSL* handle = stream.native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    if (url.ip_literal) {
        if (X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str()) != 1) {
            return make_error(Errc::kInvalidArgument, "cannot verify against IP address " + url.host);
        }
        return {};
    }
    if (SSL_set_tlsext_host_name(handle, url.host.c_str()) != 1) {
        return make_error(Errc::kInvalidArgument, "cannot send SNI for host " + url.host);
    }
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size()) != 1) {
        return make_error(Errc::kInvalidArgument, "cannot verify against host name " + url.host);
    }
    return {};
}

/// "TLS handshake with host:port: <OpenSSL reason>[: <verification failure>]".
Error handshake_error(const error_code& ec, TlsStream& stream, const std::string& where) {
    if (ec == beast::error::timeout) {
        return make_error(Errc::kTimeout, "TLS handshake with " + where + " timed out");
    }
    std::string reason;
    if (ec.category() == asio::error::get_ssl_category()) {
        if (const char* text = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) {
            reason = text;
        }
    }
    if (reason.empty()) {
        reason = ec.message();
    }
    std::string message = "TLS handshake with " + where + ": " + reason;
    const long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) {
        message += ": ";
        message += X509_verify_cert_error_string(verify);
    }
    return make_error(Errc::kNetwork, std::move(message));
}

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
    asio::any_io_executor executor;
    ClientSettings settings;
    std::optional<ssl::context> tls_context;
    std::string tls_error;  // why tls_context is missing

    std::mutex mutex;  // guards pools, closed, last_sweep, and each HostPool's idle and users
    std::unordered_map<std::string, std::shared_ptr<HostPool>> pools;
    bool closed = false;
    Clock::time_point last_sweep = Clock::now();

    Impl(asio::any_io_executor ex, ClientSettings s) : executor(std::move(ex)), settings(std::move(s)) {
        settings.max_connections_per_host = std::max<std::size_t>(1, settings.max_connections_per_host);
        init_tls();
    }

    void init_tls() {
        ssl::context context(ssl::context::tls_client);
        context.set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                            ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1);
        SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
        context.set_verify_mode(ssl::verify_peer);
        error_code ec;
        if (settings.ca_file.empty()) {
            context.set_default_verify_paths(ec);
        } else {
            context.load_verify_file(settings.ca_file, ec);
        }
        if (ec) {
            tls_error = settings.ca_file.empty()
                            ? "cannot load the system's certificate authorities: " + ec.message()
                            : "cannot load ca_file " + settings.ca_file + ": " + ec.message();
            spdlog::error("http client: {}", tls_error);
            return;
        }
        tls_context.emplace(std::move(context));
    }

    /// Moves the connections idle longer than max_idle (the oldest, at the front) to `out`.
    void drop_expired(HostPool& pool, Clock::time_point now, std::vector<std::unique_ptr<Connection>>& out) {
        auto it = pool.idle.begin();
        while (it != pool.idle.end() && now - (*it)->idle_since >= settings.max_idle) {
            out.push_back(std::move(*it));
            ++it;
        }
        pool.idle.erase(pool.idle.begin(), it);
    }

    std::shared_ptr<HostPool> join_pool(const std::string& key) {
        std::vector<std::unique_ptr<Connection>> expired;  // closed after the lock is released
        std::lock_guard lock(mutex);
        auto& slot = pools[key];
        if (!slot) {
            slot = std::make_shared<HostPool>(executor, settings.max_connections_per_host);
        }
        ++slot->users;
        auto pool = slot;
        // Now and then, close what other hosts left idle and forget hosts nobody uses.
        const auto now = Clock::now();
        if (now - last_sweep >= std::chrono::seconds(1)) {
            last_sweep = now;
            for (auto it = pools.begin(); it != pools.end();) {
                drop_expired(*it->second, now, expired);
                if (it->second->users == 0 && it->second->idle.empty()) {
                    it = pools.erase(it);
                } else {
                    ++it;
                }
            }
        }
        return pool;
    }

    void leave_pool(HostPool& pool) {
        std::lock_guard lock(mutex);
        --pool.users;
    }

    /// The most recently used idle connection that is still open, or null.
    std::unique_ptr<Connection> take_idle(HostPool& pool) {
        for (;;) {
            std::unique_ptr<Connection> candidate;
            std::vector<std::unique_ptr<Connection>> expired;
            {
                std::lock_guard lock(mutex);
                drop_expired(pool, Clock::now(), expired);
                if (pool.idle.empty()) {
                    return nullptr;
                }
                candidate = std::move(pool.idle.back());
                pool.idle.pop_back();
            }
            if (candidate->idle_and_open()) {
                return candidate;
            }
        }
    }

    void give_back(HostPool& pool, std::unique_ptr<Connection> connection) {
        std::vector<std::unique_ptr<Connection>> expired;
        const auto now = Clock::now();
        connection->idle_since = now;
        std::lock_guard lock(mutex);
        drop_expired(pool, now, expired);
        if (closed) {
            expired.push_back(std::move(connection));
            return;
        }
        pool.idle.push_back(std::move(connection));
    }

    std::vector<std::unique_ptr<Connection>> take_all_idle() {
        std::vector<std::unique_ptr<Connection>> all;
        std::lock_guard lock(mutex);
        for (auto& [key, pool] : pools) {
            for (auto& c : pool->idle) {
                all.push_back(std::move(c));
            }
            pool->idle.clear();
        }
        return all;
    }

    /// Waits (on the request's strand) for one of the host's connection slots until `deadline`.
    asio::awaitable<bool> acquire_permit(HostPool& pool, Clock::time_point deadline) {
        if (try_take_permit(pool)) {
            co_return true;
        }
        auto strand = co_await asio::this_coro::executor;
        auto signal = std::make_shared<asio::cancellation_signal>();
        asio::steady_timer timer(strand, deadline);
        cancel_at_expiry(timer, signal);
        auto token = asio::bind_cancellation_slot(signal->slot(), kUseTuple);
        auto [ec] = co_await pool.permits.async_receive(std::move(token));
        timer.cancel();
        co_return !ec;
    }

    asio::awaitable<std::pair<error_code, Endpoints>> resolve(std::string host, std::string port,
                                                             Clock::time_point deadline) {
        auto strand = co_await asio::this_coro::executor;
        auto race = std::make_shared<ResolveRace>(strand);
        start_resolve(race, host, port, deadline);
        auto [ec, endpoints] = co_await race->done.async_receive(kUseTuple);
        co_return std::make_pair(ec, std::move(endpoints));
    }

    /// Resolve, connect and (https) handshake under one deadline. Runs on the new connection's
    /// strand.
    asio::awaitable<Result<std::unique_ptr<Connection>>> connect(Url url, std::string where) {
        auto self = shared_from_this();
        const auto deadline = Clock::now() + settings.connect_timeout;
        auto strand = co_await asio::this_coro::executor;
        auto resolved = co_await resolve(url.host, std::to_string(url.port), deadline);
        if (resolved.first) {
            co_return io_error(resolved.first, "resolving", where);
        }
        auto connection = std::make_unique<Connection>(strand, url.tls ? &*tls_context : nullptr);
        beast::tcp_stream& stream = connection->tcp();
        stream.expires_at(deadline);
        auto [cec, endpoint] = co_await stream.async_connect(resolved.second, kUseTuple);
        if (cec) {
            co_return io_error(cec, "connecting to", where);
        }
        error_code ignored;
        stream.socket().set_option(tcp::no_delay(true), ignored);
        if (connection->tls) {
            auto prepared = prepare_tls(*connection->tls, url);
            if (!prepared) {
                co_return prepared.error();
            }
            auto [hec] = co_await connection->tls->async_handshake(ssl::stream_base::client, kUseTuple);
            if (hec) {
                co_return handshake_error(hec, *connection->tls, where);
            }
        }
        stream.expires_never();
        co_return std::move(connection);
    }

    template <class Stream>
    asio::awaitable<Exchange> exchange_on(Stream& stream, Connection& connection, const Message& message,
                                          const std::string& where) {
        Exchange out;
        connection.tcp().expires_after(settings.request_timeout);
        auto [wec, written] = co_await bhttp::async_write(stream, message, kUseTuple);
        if (wec) {
            out.response = io_error(wec, "sending the request to", where);
            out.stale = wec != beast::error::timeout;  // nothing was answered: the request never arrived whole
            co_return out;
        }
        bool received = false;
        for (;;) {
            bhttp::response_parser<bhttp::string_body> parser;
            parser.header_limit(kMaxResponseHeaderBytes);
            parser.body_limit(settings.max_response_bytes);
            if (message.method() == bhttp::verb::head) {
                parser.skip(true);
            }
            auto [rec, read] = co_await bhttp::async_read(stream, connection.buffer, parser, kUseTuple);
            received = received || parser.got_some();
            if (rec) {
                if (rec == bhttp::error::body_limit) {
                    out.response = make_error(Errc::kNetwork, "response from " + where + " larger than " +
                                                                  std::to_string(settings.max_response_bytes) +
                                                                  " bytes");
                } else if (rec == bhttp::error::header_limit) {
                    out.response = make_error(Errc::kNetwork, "response headers from " + where +
                                                                  " larger than the limit");
                } else {
                    out.response = io_error(rec, "reading the response from", where);
                }
                out.stale = !received && closed_by_peer(rec);
                co_return out;
            }
            auto& head = parser.get();
            const unsigned status = head.result_int();
            if (status >= 100 && status < 200 && status != 101) {
                continue;  // interim response: the final one follows
            }
            ClientResponse response;
            response.status = static_cast<int>(status);
            for (const auto& field : head) {
                std::string name(field.name_string());
                for (char& c : name) {
                    c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
                }
                Header header;
                header.name = std::move(name);
                header.value = std::string(field.value());
                response.headers.push_back(std::move(header));
            }
            response.body = std::move(head.body());
            out.reusable = head.keep_alive() && !parser.need_eof() && status != 101 &&
                           connection.buffer.size() == 0;
            out.response = std::move(response);
            co_return out;
        }
    }

    /// One request and its response on `connection`. Runs on the connection's strand.
    asio::awaitable<Exchange> exchange(Connection& connection, const Message& message, std::string where) {
        if (connection.tls) {
            auto out = co_await exchange_on(*connection.tls, connection, message, where);
            co_return std::move(out);
        }
        auto out = co_await exchange_on(*connection.plain, connection, message, where);
        co_return std::move(out);
    }

    /// Releases a host slot at scope exit (after the connection went back to the pool).
    struct PermitHold {
        explicit PermitHold(std::shared_ptr<HostPool> p) : pool(std::move(p)) {}
        PermitHold(const PermitHold&) = delete;
        PermitHold& operator=(const PermitHold&) = delete;
        ~PermitHold() { pool->permits.try_send(error_code{}); }
        std::shared_ptr<HostPool> pool;
    };

    /// Counts a request as a user of its pool for as long as it runs.
    struct PoolUse {
        PoolUse(Impl& i, std::shared_ptr<HostPool> p) : impl(i), pool(std::move(p)) {}
        PoolUse(const PoolUse&) = delete;
        PoolUse& operator=(const PoolUse&) = delete;
        ~PoolUse() { impl.leave_pool(*pool); }
        Impl& impl;
        std::shared_ptr<HostPool> pool;
    };

    /// The whole request, on its own strand.
    asio::awaitable<Result<ClientResponse>> run(ClientRequest request) {
        auto self = shared_from_this();
        auto url = parse_url(request.url);
        if (!url) {
            co_return url.error();
        }
        if (!url->tls && !settings.allow_plain_http) {
            co_return make_error(Errc::kInvalidArgument,
                                 "plain http is not allowed (allow_plain_http): " + host_port(*url));
        }
        if (url->tls && !tls_context) {
            co_return make_error(Errc::kInvalidArgument, tls_error);
        }
        auto message = build_request(request, *url);
        if (!message) {
            co_return message.error();
        }
        const std::string where = host_port(*url);
        const std::string key = (url->tls ? "https://" : "http://") + where;
        PoolUse use(*this, join_pool(key));
        HostPool& pool = *use.pool;

        const bool permitted = co_await acquire_permit(pool, Clock::now() + settings.request_timeout);
        if (!permitted) {
            co_return make_error(Errc::kTimeout, "waiting for a free connection to " + where + " timed out");
        }
        PermitHold permit(use.pool);

        // At most two attempts: the second only when a reused connection turned out closed by
        // the peer before it answered anything, and then on a new connection.
        for (int attempt = 0;; ++attempt) {
            std::unique_ptr<Connection> connection;
            if (attempt == 0) {
                connection = take_idle(pool);
            }
            const bool reused = connection != nullptr;
            if (!connection) {
                auto strand = asio::make_strand(executor);
                auto task = connect(*url, where);
                auto connected = co_await asio::co_spawn(strand, std::move(task), asio::use_awaitable);
                if (!connected) {
                    co_return connected.error();
                }
                connection = std::move(*connected);
            }
            auto connection_strand = connection->tcp().get_executor();
            auto task = exchange(*connection, *message, where);
            Exchange result = co_await asio::co_spawn(connection_strand, std::move(task), asio::use_awaitable);
            if (result.response) {
                if (result.reusable) {
                    give_back(pool, std::move(connection));
                }
                co_return std::move(result.response);
            }
            if (!reused || !result.stale || attempt > 0) {
                co_return std::move(result.response);
            }
            spdlog::debug("http client: pooled connection to {} was closed by the peer ({}); sending again "
                          "on a new connection",
                          where, result.response.error().message);
        }
    }
};

std::string_view ClientResponse::header(std::string_view lower_name) const noexcept {
    for (const auto& h : headers) {
        if (h.name == lower_name) {
            return h.value;
        }
    }
    return {};
}

Client::Client(asio::any_io_executor executor, ClientSettings settings)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(settings))) {}

Client::~Client() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->closed = true;
    }
    close_idle();
}

void Client::close_idle() {
    auto idle = impl_->take_all_idle();  // closed here, outside the lock
}

asio::awaitable<Result<ClientResponse>> Client::send(ClientRequest request) {
    auto impl = impl_;  // requests keep the state alive, even past ~Client
    auto strand = asio::make_strand(impl->executor);
    auto task = impl->run(std::move(request));
    auto result = co_await asio::co_spawn(strand, std::move(task), asio::use_awaitable);
    co_return std::move(result);
}

}  // namespace wagate::http
