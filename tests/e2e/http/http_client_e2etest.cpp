// http::Client against http::Server (plain and TLS) and against a scripted raw peer, all on
// 127.0.0.1. No PostgreSQL. Outcomes are asserted through error codes and connection counts,
// never through elapsed time.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <wagate/http/client.hpp>
#include <wagate/http/router.hpp>
#include <wagate/http/server.hpp>

#include "support/http_client.hpp"
#include "support/run_blocking.hpp"
#include "support/test_certificates.hpp"

namespace wagate::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using test::test_certificates;

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// Polls `condition` until it holds or `limit` passes: for states that change asynchronously.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(5ms);
    }
    return condition();
}

/// A free port on 127.0.0.1 that nothing listens on (bound, then closed).
unsigned short closed_port() {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port();
}

/// A raw HTTP/1.1 peer for what http::Server never does (leave a request unanswered, answer
/// half, say Connection: close and keep the socket). Every accepted connection runs
/// `script(connection, index)` on its own thread, with blocking sockets.
class ScriptedPeer {
public:
    class Connection {
    public:
        Connection(tcp::socket socket, ScriptedPeer& peer) : socket_(std::move(socket)), peer_(peer) {}

        /// Reads one request (head and Content-Length body); false at EOF or on an error.
        bool read_request() {
            boost::system::error_code ec;
            const std::size_t head = asio::read_until(socket_, asio::dynamic_buffer(buffer_), "\r\n\r\n", ec);
            if (ec) {
                return false;
            }
            std::string lower = buffer_.substr(0, head);
            buffer_.erase(0, head);
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            std::size_t length = 0;
            if (const auto at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
                length = std::stoul(lower.substr(at + 17));
            }
            if (buffer_.size() < length) {
                asio::read(socket_, asio::dynamic_buffer(buffer_), asio::transfer_exactly(length - buffer_.size()),
                           ec);
                if (ec) {
                    return false;
                }
            }
            buffer_.erase(0, length);
            ++peer_.requests_;
            return true;
        }

        void write(std::string_view bytes) {
            boost::system::error_code ignored;
            asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ignored);
        }

        /// Reads and discards until the client closes.
        void drain() {
            char chunk[4096];
            boost::system::error_code ec;
            while (!ec) {
                socket_.read_some(asio::buffer(chunk), ec);
            }
        }

        void close() {
            std::lock_guard lock(mutex_);
            boost::system::error_code ignored;
            socket_.shutdown(tcp::socket::shutdown_both, ignored);
            socket_.close(ignored);
            closed_ = true;
        }

        /// Unblocks a read in progress on another thread (used by the destructor).
        void interrupt() {
            std::lock_guard lock(mutex_);  // not on a descriptor number close() gave back
            if (!closed_) {
                ::shutdown(socket_.native_handle(), SHUT_RDWR);
            }
        }

    private:
        std::mutex mutex_;
        bool closed_ = false;
        tcp::socket socket_;
        ScriptedPeer& peer_;
        std::string buffer_;
    };

    using Script = std::function<void(Connection&, int index)>;

    explicit ScriptedPeer(Script script)
        : script_(std::move(script)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        accept_thread_ = std::thread([this] { accept_loop(); });
    }

    ~ScriptedPeer() {
        ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes the blocked accept
        accept_thread_.join();
        {
            std::lock_guard lock(mutex_);
            for (auto& c : connections_) {
                c->interrupt();
            }
        }
        for (auto& t : threads_) {
            t.join();
        }
    }

    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    std::string url(std::string_view scheme = "http", std::string_view path = "/") const {
        return std::string(scheme) + "://127.0.0.1:" + std::to_string(port()) + std::string(path);
    }
    int accepted() const { return accepted_; }
    int requests() const { return requests_; }

private:
    void accept_loop() {
        for (int index = 0;; ++index) {
            tcp::socket socket(ioc_);
            boost::system::error_code ec;
            acceptor_.accept(socket, ec);
            if (ec) {
                return;
            }
            ++accepted_;
            auto connection = std::make_shared<Connection>(std::move(socket), *this);
            std::lock_guard lock(mutex_);
            connections_.push_back(connection);
            threads_.emplace_back([this, connection, index] { script_(*connection, index); });
        }
    }

    Script script_;
    asio::io_context ioc_;  // blocking sockets only: never run
    tcp::acceptor acceptor_;
    std::thread accept_thread_;
    std::mutex mutex_;
    std::vector<std::shared_ptr<Connection>> connections_;
    std::vector<std::thread> threads_;
    std::atomic<int> accepted_{0};
    std::atomic<int> requests_{0};
};

constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

class HttpClientTest : public ::testing::Test {
protected:
    HttpClientTest() : work_(asio::make_work_guard(ioc_)) {
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this] { ioc_.run(); });
        }
        add_routes();
    }

    ~HttpClientTest() override {
        client_.reset();
        gate_.close();  // handlers parked on the gate return, so their sessions can end
        if (server_) {
            std::promise<void> stopped;
            server_->stop(0ms, [&stopped] { stopped.set_value(); });
            stopped.get_future().wait();
            server_.reset();
        }
        work_.reset();
        ioc_.stop();
        for (auto& t : threads_) {
            t.join();
        }
    }

    void add_routes() {
        const auto echo = [](Request& request, const PathParams&) -> asio::awaitable<Response> {
            Response response;
            response.content_type = "text/plain";
            response.body = request.body;
            const auto add = [&response](std::string name, std::string_view value) {
                Header h;
                h.name = std::move(name);
                h.value = std::string(value);
                response.headers.push_back(std::move(h));
            };
            add("X-Method", request.method);
            add("X-Target", request.path + (request.query.empty() ? "" : "?" + request.query));
            for (const char* name : {"host", "user-agent", "connection", "content-length", "transfer-encoding",
                                     "x-custom"}) {
                add(std::string("X-Seen-") + name, request.header(name));
            }
            add("X-Mixed-Case", "Value");
            co_return response;
        };
        router_.add("POST", "/echo", 16 * 1024 * 1024, echo);
        router_.add("GET", "/echo", 0, echo);
        router_.add("GET", "/big/{bytes}", 0, [](Request&, const PathParams& params) -> asio::awaitable<Response> {
            Response response;
            response.content_type = "application/octet-stream";
            response.body.assign(std::stoul(params.at("bytes")), 'x');
            co_return response;
        });
        // Never answers before the fixture ends.
        router_.add("GET", "/slow", 0, [this](Request&, const PathParams&) -> asio::awaitable<Response> {
            [[maybe_unused]] auto [ec] = co_await gate_.async_receive(asio::as_tuple(asio::use_awaitable));
            Response response;
            response.status = 503;
            co_return response;
        });
        // Overlaps with its neighbours for a moment; records how many ran at once and how many
        // connections the server had open meanwhile.
        router_.add("GET", "/overlap", 0, [this](Request&, const PathParams&) -> asio::awaitable<Response> {
            const int now = ++in_flight_;
            raise(max_in_flight_, now);
            raise(max_open_, static_cast<int>(server_->open_connections()));
            auto executor = co_await asio::this_coro::executor;
            asio::steady_timer timer(executor, 2ms);
            [[maybe_unused]] auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            --in_flight_;
            Response response;
            co_return response;
        });
    }

    static void raise(std::atomic<int>& max, int value) {
        int seen = max.load();
        while (value > seen && !max.compare_exchange_weak(seen, value)) {
        }
    }

    void start_server(ServerSettings settings = {}) {
        settings.listen = "127.0.0.1:0";
        server_ = std::make_unique<Server>(
            ioc_.get_executor(), settings, router_,
            [](int status, std::string_view details, const std::string&) {
                Response r;
                r.status = status;
                r.content_type = "text/plain";
                r.body = std::string(details);
                return r;
            },
            [](const RequestRecord&) {});
        auto started = server_->start();
        ASSERT_TRUE(started) << started.error().message;
    }

    void start_tls_server(const test::CertificateFiles& files, ServerSettings settings = {}) {
        settings.tls_cert_file = files.cert_file;
        settings.tls_key_file = files.key_file;
        start_server(settings);
    }

    void make_client(ClientSettings settings) {
        client_ = std::make_unique<Client>(ioc_.get_executor(), std::move(settings));
    }
    void make_plain_client(ClientSettings settings = {}) {
        settings.allow_plain_http = true;
        make_client(std::move(settings));
    }

    std::string url(std::string_view path, std::string_view scheme = "http", std::string_view host = "127.0.0.1") {
        return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(server_->port()) +
               std::string(path);
    }

    template <class T>
    T run(asio::awaitable<T> task) {
        return test::run_on(ioc_.get_executor(), std::move(task));
    }

    Result<ClientResponse> send(ClientRequest request) { return run(client_->send(std::move(request))); }

    Result<ClientResponse> get(const std::string& target) {
        ClientRequest request;
        request.method = "GET";
        request.url = target;
        return send(std::move(request));
    }

    /// Starts `request` without waiting; the future holds its result.
    std::future<Result<ClientResponse>> start(ClientRequest request) {
        auto promise = std::make_shared<std::promise<Result<ClientResponse>>>();
        auto future = promise->get_future();
        asio::co_spawn(ioc_, client_->send(std::move(request)),
                       [promise](std::exception_ptr e, Result<ClientResponse> value) {
                           if (e) {
                               promise->set_exception(e);
                           } else {
                               promise->set_value(std::move(value));
                           }
                       });
        return future;
    }

    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::vector<std::thread> threads_;
    asio::experimental::concurrent_channel<void(boost::system::error_code)> gate_{ioc_, 0};
    std::atomic<int> in_flight_{0};
    std::atomic<int> max_in_flight_{0};
    std::atomic<int> max_open_{0};
    Router router_;
    std::unique_ptr<Server> server_;
    std::unique_ptr<Client> client_;
};

// --- plain HTTP ---------------------------------------------------------------------------------

TEST_F(HttpClientTest, RoundTripCarriesStatusHeadersAndBody) {
    start_server();
    make_plain_client();
    ClientRequest request;
    request.url = url("/echo?a=1&b=2");
    request.body = "hello";
    request.headers = {{"X-Custom", "abc"}, {"Host", "evil.example"}, {"Content-Length", "999"},
                       {"Transfer-Encoding", "chunked"}, {"Connection", "close"}};
    auto r = send(request);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello");
    EXPECT_EQ(r->header("x-method"), "POST");
    EXPECT_EQ(r->header("x-target"), "/echo?a=1&b=2");
    EXPECT_EQ(r->header("x-seen-host"), "127.0.0.1:" + std::to_string(server_->port()));
    EXPECT_EQ(r->header("x-seen-user-agent"), "wagate");
    EXPECT_EQ(r->header("x-seen-connection"), "keep-alive");
    EXPECT_EQ(r->header("x-seen-content-length"), "5");
    EXPECT_EQ(r->header("x-seen-transfer-encoding"), "");
    EXPECT_EQ(r->header("x-seen-x-custom"), "abc");
    EXPECT_EQ(r->header("content-type"), "text/plain");
    EXPECT_EQ(r->header("x-mixed-case"), "Value");
    for (const auto& h : r->headers) {
        EXPECT_TRUE(std::none_of(h.name.begin(), h.name.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }))
            << h.name;
    }

    ClientRequest plain_get;
    plain_get.method = "GET";
    plain_get.url = url("/echo");
    plain_get.headers = {{"User-Agent", "relay-test/1"}};
    r = send(plain_get);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->header("x-method"), "GET");
    EXPECT_EQ(r->header("x-seen-user-agent"), "relay-test/1");
    EXPECT_EQ(r->header("x-seen-content-length"), "");  // no body, no Content-Length on GET
    EXPECT_EQ(r->body, "");

    r = get(url("/nothing"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 404);  // a status is a response, not an error
}

TEST_F(HttpClientTest, LargeBodiesTravelBothWays) {
    start_server();
    make_plain_client();
    ClientRequest request;
    request.url = url("/echo");
    request.body.resize(3 * 1024 * 1024);
    for (std::size_t i = 0; i < request.body.size(); ++i) {
        request.body[i] = static_cast<char>('a' + i % 26);
    }
    auto r = send(request);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("x-seen-content-length"), std::to_string(request.body.size()));
    EXPECT_TRUE(r->body == request.body);

    r = get(url("/big/4000000"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body.size(), 4000000u);
}

TEST_F(HttpClientTest, SequentialRequestsReuseOneConnection) {
    start_server();
    make_plain_client();
    for (int i = 0; i < 10; ++i) {
        auto r = get(url("/echo"));
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->status, 200);
    }
    EXPECT_EQ(server_->accepted_connections(), 1u);
    EXPECT_EQ(server_->open_connections(), 1u);

    client_->close_idle();
    EXPECT_TRUE(eventually([&] { return server_->open_connections() == 0; }));
    ASSERT_TRUE(get(url("/echo")));
    EXPECT_EQ(server_->accepted_connections(), 2u);
}

TEST_F(HttpClientTest, PlainHttpIsRefusedUnlessAllowed) {
    start_server();
    make_client(ClientSettings{});
    auto r = get(url("/echo"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(contains(r.error().message, "allow_plain_http")) << r.error().message;
    EXPECT_EQ(server_->accepted_connections(), 0u);
}

TEST_F(HttpClientTest, MalformedUrlsAndHeadersAreInvalidArgument) {
    make_plain_client();
    for (const char* bad : {"", "127.0.0.1/echo", "ftp://127.0.0.1/", "http://", "http://127.0.0.1:99999/",
                            "http://host name/", "http://[::1/", "http://127.0.0.1/a\r\nX-Injected: 1"}) {
        auto r = get(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, Errc::kInvalidArgument) << bad;
    }
    ClientRequest request;
    request.url = "http://127.0.0.1:1/";
    request.headers = {{"Authorization", "Bearer SECRET\r\nX-Injected: 1"}};
    auto r = send(request);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_FALSE(contains(r.error().message, "SECRET")) << r.error().message;

    request.headers = {{"Bad Name", "x"}};
    r = send(request);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);

    request.headers.clear();
    request.method = "PO ST";
    r = send(request);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
}

TEST_F(HttpClientTest, RefusedConnectionIsNetworkErrorWithoutHeaderValues) {
    make_plain_client();
    const unsigned short port = closed_port();
    ClientRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(port) + "/v1/messages?access_token=QUERYSECRET";
    request.headers = {{"Authorization", "Bearer HEADERSECRET"}};
    auto r = send(request);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_TRUE(contains(r.error().message, "connecting to 127.0.0.1:" + std::to_string(port))) << r.error().message;
    EXPECT_FALSE(contains(r.error().message, "SECRET")) << r.error().message;
}

TEST_F(HttpClientTest, UnresolvableHostIsNetworkError) {
    ClientSettings settings;
    settings.connect_timeout = 3s;
    make_plain_client(settings);
    auto r = get("http://no-such-host.invalid/");
    ASSERT_FALSE(r);
    if (r.error().code == Errc::kTimeout) {
        GTEST_SKIP() << "this machine's DNS does not answer: " << r.error().message;
    }
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_TRUE(contains(r.error().message, "resolving no-such-host.invalid:80")) << r.error().message;
}

TEST_F(HttpClientTest, UnansweredRequestTimesOut) {
    start_server();
    ClientSettings settings;
    settings.request_timeout = 200ms;
    make_plain_client(settings);
    auto r = get(url("/slow"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kTimeout);
    EXPECT_TRUE(contains(r.error().message, "timed out")) << r.error().message;
    // The timed-out connection is not pooled: the next request opens another.
    ASSERT_TRUE(get(url("/echo")));
    EXPECT_EQ(server_->accepted_connections(), 2u);
}

TEST_F(HttpClientTest, ConnectTimeoutCoversTheTlsHandshake) {
    ScriptedPeer silent([](ScriptedPeer::Connection& c, int) { c.drain(); });  // accepts, never speaks TLS
    ClientSettings settings;
    settings.connect_timeout = 200ms;
    settings.request_timeout = 30s;
    settings.ca_file = test_certificates().ca_file;
    make_client(settings);
    auto r = get(silent.url("https"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kTimeout);
    EXPECT_TRUE(contains(r.error().message, "TLS handshake with 127.0.0.1:")) << r.error().message;
    EXPECT_EQ(silent.accepted(), 1);
}

TEST_F(HttpClientTest, ResponseOverTheLimitIsNetworkError) {
    start_server();
    ClientSettings settings;
    settings.max_response_bytes = 1000;
    make_plain_client(settings);
    auto r = get(url("/big/1000"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body.size(), 1000u);
    r = get(url("/big/1001"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_TRUE(contains(r.error().message, "larger than 1000 bytes")) << r.error().message;
    ASSERT_TRUE(get(url("/big/10")));  // the broken connection was dropped, a new one works
    EXPECT_EQ(server_->accepted_connections(), 2u);
}

TEST_F(HttpClientTest, ConnectionTheServerClosedWhileIdleIsReplaced) {
    ServerSettings settings;
    settings.idle_timeout = 100ms;
    start_server(settings);
    make_plain_client();
    ASSERT_TRUE(get(url("/echo")));
    ASSERT_TRUE(eventually([&] { return server_->open_connections() == 0; }));
    auto r = get(url("/echo"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(server_->accepted_connections(), 2u);
}

TEST_F(HttpClientTest, ConcurrentRequestsShareAtMostMaxConnections) {
    start_server();
    ClientSettings settings;
    settings.max_connections_per_host = 4;
    make_plain_client(settings);
    constexpr int kRequests = 200;
    std::vector<std::future<Result<ClientResponse>>> results;
    for (int i = 0; i < kRequests; ++i) {
        ClientRequest request;
        request.method = "GET";
        request.url = url("/overlap");
        results.push_back(start(std::move(request)));
    }
    int ok = 0;
    for (auto& f : results) {
        auto r = f.get();
        EXPECT_TRUE(r) << r.error().message;
        ok += r && r->status == 200 ? 1 : 0;
    }
    EXPECT_EQ(ok, kRequests);
    EXPECT_LE(server_->accepted_connections(), 4u);
    EXPECT_LE(max_open_.load(), 4);
    EXPECT_LE(max_in_flight_.load(), 4);
    EXPECT_GE(max_in_flight_.load(), 2);  // the limit is not one connection at a time
}

TEST_F(HttpClientTest, WaitingForAFreeConnectionIsBoundedByTheRequestTimeout) {
    ScriptedPeer silent([](ScriptedPeer::Connection& c, int) { c.drain(); });
    ClientSettings settings;
    settings.max_connections_per_host = 1;
    settings.connect_timeout = 1s;  // the first request holds the only slot this long
    settings.request_timeout = 100ms;
    settings.ca_file = test_certificates().ca_file;
    make_client(settings);
    ClientRequest first;
    first.url = silent.url("https");
    auto holder = start(first);
    ASSERT_TRUE(eventually([&] { return silent.accepted() == 1; }));
    auto r = get(silent.url("https"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kTimeout);
    EXPECT_TRUE(contains(r.error().message, "waiting for a free connection")) << r.error().message;
    EXPECT_EQ(silent.accepted(), 1);
    auto held = holder.get();
    ASSERT_FALSE(held);
    EXPECT_EQ(held.error().code, Errc::kTimeout);
}

// --- the one retry ------------------------------------------------------------------------------

TEST_F(HttpClientTest, ReusedConnectionClosedUnansweredIsRetriedOnceOnANewOne) {
    ScriptedPeer peer([](ScriptedPeer::Connection& c, int index) {
        if (index == 0) {
            c.read_request();
            c.write(kOk);
            c.read_request();  // the second request arrives on the kept connection...
            c.close();         // ...and is dropped unanswered, as a peer's idle close would
        } else {
            c.read_request();
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nretry");
            c.drain();
        }
    });
    make_plain_client();
    auto r = get(peer.url());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "ok");
    ClientRequest post;
    post.url = peer.url();
    post.body = "{}";
    r = send(post);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "retry");
    EXPECT_EQ(peer.accepted(), 2);
    EXPECT_EQ(peer.requests(), 3);
}

TEST_F(HttpClientTest, FreshConnectionClosedUnansweredIsNotRetried) {
    ScriptedPeer peer([](ScriptedPeer::Connection& c, int) {
        c.read_request();
        c.close();
    });
    make_plain_client();
    ClientRequest post;
    post.url = peer.url();
    post.body = "{}";
    auto r = send(post);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_TRUE(contains(r.error().message, "reading the response from 127.0.0.1:")) << r.error().message;
    EXPECT_EQ(peer.accepted(), 1);
    EXPECT_EQ(peer.requests(), 1);
}

TEST_F(HttpClientTest, PartlyAnsweredRequestIsNotRetried) {
    ScriptedPeer peer([](ScriptedPeer::Connection& c, int) {
        c.read_request();
        c.write(kOk);
        c.read_request();
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        c.close();
    });
    make_plain_client();
    ASSERT_TRUE(get(peer.url()));
    ClientRequest post;
    post.url = peer.url();
    post.body = "{}";
    auto r = send(post);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_EQ(peer.accepted(), 1);
    EXPECT_EQ(peer.requests(), 2);
}

TEST_F(HttpClientTest, ConnectionCloseFromThePeerIsHonoured) {
    std::atomic<int> reused{0};
    ScriptedPeer peer([&reused](ScriptedPeer::Connection& c, int index) {
        c.read_request();
        c.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
        if (index == 0 && c.read_request()) {  // the socket stays open: only the header says close
            ++reused;
            c.write(kOk);
        }
        c.drain();
    });
    make_plain_client();
    ASSERT_TRUE(get(peer.url()));
    auto r = get(peer.url());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(reused.load(), 0);
    EXPECT_EQ(peer.accepted(), 2);
}

// --- TLS ----------------------------------------------------------------------------------------

TEST_F(HttpClientTest, TlsVerifiesTheChainAndTheNameOrAddress) {
    start_tls_server(test_certificates().localhost);
    ClientSettings settings;
    settings.ca_file = test_certificates().ca_file;
    make_client(settings);
    for (const char* host : {"localhost", "127.0.0.1"}) {
        ClientRequest request;
        request.url = url("/echo", "https", host);
        request.body = "over tls";
        auto r = send(request);
        ASSERT_TRUE(r) << host << ": " << r.error().message;
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "over tls");
        EXPECT_EQ(r->header("x-seen-host"), std::string(host) + ":" + std::to_string(server_->port()));
    }
    EXPECT_EQ(server_->accepted_connections(), 2u);  // one pool per host name
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(get(url("/echo", "https", "localhost")));
    }
    EXPECT_EQ(server_->accepted_connections(), 2u);  // kept alive over TLS too
}

TEST_F(HttpClientTest, TlsRefusesACertificateForAnotherName) {
    start_tls_server(test_certificates().wrong_name);
    ClientSettings settings;
    settings.ca_file = test_certificates().ca_file;
    make_client(settings);
    auto r = get(url("/echo", "https", "localhost"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_TRUE(contains(r.error().message, "TLS handshake with localhost:")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "certificate verify failed")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "hostname mismatch")) << r.error().message;

    r = get(url("/echo", "https", "127.0.0.1"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_TRUE(contains(r.error().message, "certificate verify failed")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "IP address mismatch")) << r.error().message;
}

TEST_F(HttpClientTest, TlsRefusesAnUntrustedCertificate) {
    start_tls_server(test_certificates().untrusted);
    ClientSettings trusting_the_test_ca;
    trusting_the_test_ca.ca_file = test_certificates().ca_file;
    make_client(trusting_the_test_ca);
    auto r = get(url("/echo", "https", "localhost"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_TRUE(contains(r.error().message, "certificate verify failed")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "self-signed")) << r.error().message;

    make_client(ClientSettings{});  // the system's store: knows neither the test CA nor this one
    r = get(url("/echo", "https", "127.0.0.1"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_TRUE(contains(r.error().message, "certificate verify failed")) << r.error().message;
}

TEST_F(HttpClientTest, TlsSignedByTheTestCaIsUntrustedWithoutCaFile) {
    start_tls_server(test_certificates().localhost);
    make_client(ClientSettings{});
    auto r = get(url("/echo", "https", "localhost"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_TRUE(contains(r.error().message, "certificate verify failed")) << r.error().message;
}

TEST_F(HttpClientTest, UnreadableCaFileFailsHttpsRequests) {
    ClientSettings settings;
    settings.ca_file = test_certificates().dir + "/missing.pem";
    make_client(settings);
    auto r = get("https://127.0.0.1:1/");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(contains(r.error().message, "missing.pem")) << r.error().message;
}

TEST_F(HttpClientTest, HttpsToAPlainListenerFailsTheHandshake) {
    start_server();
    ClientSettings settings;
    settings.ca_file = test_certificates().ca_file;
    make_client(settings);
    auto r = get(url("/echo", "https"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kNetwork);
    EXPECT_TRUE(contains(r.error().message, "TLS handshake with 127.0.0.1:")) << r.error().message;
}

/// A blocking handshake with 127.0.0.1:port offering exactly `version` (OpenSSL security level 0,
/// so the client side does not refuse old protocols itself). "" on success, else OpenSSL's reason.
std::string raw_handshake(unsigned short port, int version) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_min_proto_version(ctx.get(), version);
    SSL_CTX_set_max_proto_version(ctx.get(), version);
    SSL_CTX_set_cipher_list(ctx.get(), "ALL:@SECLEVEL=0");
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
    SSL_set_fd(ssl.get(), socket.native_handle());
    ERR_clear_error();
    if (SSL_connect(ssl.get()) == 1) {
        SSL_shutdown(ssl.get());
        return "";
    }
    const unsigned long error = ERR_get_error();
    const char* reason = error ? ERR_reason_error_string(error) : nullptr;
    return reason ? reason : "handshake failed";
}

TEST_F(HttpClientTest, TlsListenerRefusesTls11) {
    start_tls_server(test_certificates().localhost);
    EXPECT_EQ(raw_handshake(server_->port(), TLS1_2_VERSION), "");  // the probe itself works
    const std::string refused = raw_handshake(server_->port(), TLS1_1_VERSION);
    // The server's protocol_version alert, not the client refusing to offer TLS 1.1.
    EXPECT_TRUE(contains(refused, "alert protocol version")) << refused;
}

TEST_F(HttpClientTest, PlainHttpToTheTlsListenerIsDroppedAndTheListenerLives) {
    start_tls_server(test_certificates().localhost);
    test::HttpClient plain(server_->port());
    auto answer = plain.raw("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 1, 5000ms);
    EXPECT_EQ(answer.status, 0);
    EXPECT_TRUE(answer.closed);
    ClientSettings settings;
    settings.ca_file = test_certificates().ca_file;
    make_client(settings);
    auto r = get(url("/echo", "https", "localhost"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(eventually([&] { return server_->open_connections() == 1; }));
}

TEST_F(HttpClientTest, TlsListenerLimitsStillApply) {
    ServerSettings settings;
    settings.idle_timeout = 100ms;
    start_tls_server(test_certificates().localhost, settings);
    ClientSettings client_settings;
    client_settings.ca_file = test_certificates().ca_file;
    make_client(client_settings);
    ASSERT_TRUE(get(url("/echo", "https", "localhost")));
    // The idle timeout closes the TLS session like a plain one; the client replaces it.
    ASSERT_TRUE(eventually([&] { return server_->open_connections() == 0; }));
    auto r = get(url("/echo", "https", "localhost"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(server_->accepted_connections(), 2u);
}

TEST_F(HttpClientTest, TlsHandshakeMustFinishWithinTheHeaderTimeout) {
    ServerSettings settings;
    settings.header_timeout = 100ms;
    settings.idle_timeout = 60s;  // so that only the header timeout can end the silent connection
    start_tls_server(test_certificates().localhost, settings);
    asio::io_context ioc;
    tcp::socket silent(ioc);
    silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    ASSERT_TRUE(eventually([&] { return server_->accepted_connections() == 1; }));
    EXPECT_TRUE(eventually([&] { return server_->open_connections() == 0; }));
    char byte = 0;
    boost::system::error_code ec;
    silent.read_some(asio::buffer(&byte, 1), ec);  // the server closed it: EOF, not a hang
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

// --- listener TLS configuration -----------------------------------------------------------------

class TlsListenerConfigTest : public HttpClientTest {
protected:
    Result<void> try_start(const std::string& cert, const std::string& key) {
        ServerSettings settings;
        settings.listen = "127.0.0.1:0";
        settings.tls_cert_file = cert;
        settings.tls_key_file = key;
        Server server(
            ioc_.get_executor(), settings, router_,
            [](int status, std::string_view, const std::string&) {
                Response r;
                r.status = status;
                return r;
            },
            [](const RequestRecord&) {});
        auto started = server.start();
        if (started) {
            std::promise<void> stopped;
            server.stop(0ms, [&stopped] { stopped.set_value(); });
            stopped.get_future().wait();
        }
        return started;
    }
};

TEST_F(TlsListenerConfigTest, RefusesMissingMismatchedOrHalfSetFiles) {
    const auto& certs = test_certificates();
    auto r = try_start(certs.localhost.cert_file, certs.localhost.key_file);
    EXPECT_TRUE(r) << r.error().message;

    r = try_start(certs.dir + "/missing.pem", certs.localhost.key_file);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(contains(r.error().message, "missing.pem")) << r.error().message;

    r = try_start(certs.localhost.cert_file, certs.dir + "/missing.key");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(contains(r.error().message, "missing.key")) << r.error().message;

    r = try_start(certs.localhost.cert_file, certs.untrusted.key_file);  // another certificate's key
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(contains(r.error().message, certs.untrusted.key_file)) << r.error().message;

    r = try_start(certs.localhost.key_file, certs.localhost.key_file);  // a key where the certificate goes
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);

    r = try_start(certs.localhost.cert_file, "");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace wagate::http
