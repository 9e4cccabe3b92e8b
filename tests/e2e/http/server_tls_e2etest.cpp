// The HTTPS listener under hostile traffic: http::Server with the run-time test certificates on
// 127.0.0.1:0 (two I/O threads), and once the whole gateway configured with tls_cert/tls_key.
//
// The basics live in http_client_e2etest.cpp and are not repeated here: an HTTPS round trip with
// the test CA trusted (HttpClientTest.TlsVerifiesTheChainAndTheNameOrAddress), TLS 1.1 refused
// (TlsListenerRefusesTls11), plain HTTP to the TLS port dropped
// (PlainHttpToTheTlsListenerIsDroppedAndTheListenerLives), a silent TCP connection closed after
// header_timeout (TlsHandshakeMustFinishWithinTheHeaderTimeout) and missing, mismatched or half-set
// certificate files failing start() with kInvalidArgument
// (TlsListenerConfigTest.RefusesMissingMismatchedOrHalfSetFiles).
#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <wagate/http/client.hpp>
#include <wagate/http/server.hpp>

#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/latency.hpp"
#include "support/run_blocking.hpp"
#include "support/slow_clients.hpp"
#include "support/test_certificates.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"
#include "support/test_server.hpp"

namespace wagate::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kEarly = 50ms;  // client timestamps may trail the server's timer start

using SslCtxHandle = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using SslHandle = std::unique_ptr<SSL, decltype(&SSL_free)>;

/// The ClientHello a default OpenSSL client sends for "localhost": a valid start of a handshake,
/// so the server waits for the rest instead of failing at once on garbage.
std::string client_hello() {
    SslCtxHandle ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
    SslHandle ssl(SSL_new(ctx.get()), &SSL_free);
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl.get(), in, out);  // the SSL owns both
    SSL_set_tlsext_host_name(ssl.get(), "localhost");
    SSL_connect(ssl.get());  // writes the ClientHello, then wants the server's answer
    char* data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

/// A TLS client on a blocking TCP socket for what http::Client never does: handshake, then
/// trickle a request, watching for the server to close. The handshake's settings are parameters.
class RawTlsClient {
public:
    RawTlsClient(int min_version, int max_version, const char* tls12_ciphers)
        : ctx_(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free),
          ssl_(nullptr, &SSL_free),
          socket_(ioc_) {
        SSL_CTX_set_security_level(ctx_.get(), 0);  // offer what we are told; the server decides
        SSL_CTX_set_min_proto_version(ctx_.get(), min_version);
        SSL_CTX_set_max_proto_version(ctx_.get(), max_version);
        SSL_CTX_set_cipher_list(ctx_.get(), tls12_ciphers);
        SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_NONE, nullptr);
    }

    /// Connects and handshakes; "" on success, else OpenSSL's reason.
    std::string connect(unsigned short port) {
        socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        ssl_.reset(SSL_new(ctx_.get()));
        SSL_set_fd(ssl_.get(), socket_.native_handle());
        SSL_set_tlsext_host_name(ssl_.get(), "localhost");
        ERR_clear_error();
        if (SSL_connect(ssl_.get()) == 1) {
            socket_.native_non_blocking(true);  // from here on, reads must not wait
            return "";
        }
        const unsigned long error = ERR_get_error();
        const char* reason = error ? ERR_reason_error_string(error) : nullptr;
        return reason ? reason : "handshake failed";
    }

    void write(std::string_view bytes) {
        SSL_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size()));
    }

    /// Waits until `deadline` for the server to close the connection; true if it did. What
    /// arrives meanwhile (TLS 1.3 session tickets, a response) is consumed.
    bool server_closed_before(Clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
            if (left <= 0ms) {
                return false;
            }
            pollfd readable{socket_.native_handle(), POLLIN, 0};
            if (::poll(&readable, 1, static_cast<int>(left.count()) + 1) == 0) {
                return false;
            }
            char chunk[512];
            const int n = SSL_read(ssl_.get(), chunk, sizeof chunk);
            if (n > 0) {
                received_.append(chunk, static_cast<std::size_t>(n));
                continue;
            }
            const int error = SSL_get_error(ssl_.get(), n);
            if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
                return true;  // EOF, reset or close_notify
            }
        }
    }

    const std::string& received() const { return received_; }

private:
    SslCtxHandle ctx_;
    SslHandle ssl_;
    asio::io_context ioc_;  // blocking socket only
    tcp::socket socket_;
    std::string received_;
};

struct Outcome {
    int status = 0;
    std::chrono::microseconds latency{0};
    std::string error;
};

void record(std::vector<Outcome>& outcomes,
            const Result<http::ClientResponse>& response,
            Clock::time_point started) {
    Outcome o;
    o.latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    if (response) {
        o.status = response->status;
    } else {
        o.error = response.error().message;
    }
    outcomes.push_back(std::move(o));
}

/// `count` sequential timed HTTPS GETs of `url`: even ones on a new Client (so a new connection
/// and a full handshake), odd ones on `reused` (a kept-alive connection); all on new Clients
/// without `reused`.
asio::awaitable<std::vector<Outcome>> https_traffic(http::Client* reused,
                                                    http::ClientSettings settings,
                                                    std::string url,
                                                    int count) {
    std::vector<Outcome> outcomes;
    auto executor = co_await asio::this_coro::executor;
    for (int i = 0; i < count; ++i) {
        http::ClientRequest request;
        request.method = "GET";
        request.url = url;
        const auto started = Clock::now();
        if (i % 2 == 0 || reused == nullptr) {
            http::Client fresh(executor, settings);
            auto response = co_await fresh.send(std::move(request));
            record(outcomes, response, started);
        } else {
            auto response = co_await reused->send(std::move(request));
            record(outcomes, response, started);
        }
    }
    co_return outcomes;
}

std::vector<std::chrono::microseconds> latencies(const std::vector<Outcome>& outcomes) {
    std::vector<std::chrono::microseconds> out;
    for (const auto& o : outcomes) {
        out.push_back(o.latency);
    }
    return out;
}

::testing::AssertionResult all_ok(const std::vector<Outcome>& outcomes) {
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        if (outcomes[i].status != 200) {
            return ::testing::AssertionFailure() << "request " << i << ": status "
                                                 << outcomes[i].status << " " << outcomes[i].error;
        }
    }
    return ::testing::AssertionSuccess();
}

/// Runs HTTPS clients on their own io_context thread, apart from the server's.
class ClientThread {
public:
    ClientThread() : work_(ioc_.get_executor()), thread_([this] { ioc_.run(); }) {}
    ~ClientThread() {
        work_.reset();
        ioc_.stop();  // a closed client's connections may still be winding down
        thread_.join();
    }

    asio::any_io_executor executor() { return ioc_.get_executor(); }

    template <class T>
    T run(asio::awaitable<T> task) {
        return run_on(ioc_.get_executor(), std::move(task));
    }

private:
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
};

http::ClientSettings trusting_the_test_ca() {
    http::ClientSettings settings;
    settings.ca_file = test_certificates().ca_file;
    settings.request_timeout = 5s;
    return settings;
}

class ServerTlsTest : public ::testing::Test {
protected:
    ServerTlsTest() {
        std::signal(SIGPIPE,
                    SIG_IGN);  // RawTlsClient writes with write(2), maybe after the server closed
        server_.router().add(
            "GET", "/fast", 0,
            [](http::Request&, const http::PathParams&) -> asio::awaitable<http::Response> {
                http::Response response;
                response.content_type = "text/plain";
                response.body = "ok";
                co_return response;
            });
    }

    void start(http::ServerSettings settings) {
        settings.tls_cert_file = test_certificates().localhost.cert_file;
        settings.tls_key_file = test_certificates().localhost.key_file;
        auto started = server_.start(std::move(settings));
        ASSERT_TRUE(started) << started.error().message;
    }

    http::Server& server() { return server_.server(); }
    unsigned short port() { return server_.port(); }
    std::string url(const std::string& path) {
        return "https://localhost:" + std::to_string(port()) + path;
    }

    TestServer server_;
};

// A ClientHello sent a byte at a time does not hold the connection past header_timeout: the
// deadline is for the whole handshake, not for each read.
TEST_F(ServerTlsTest, ByteAtATimeHandshakeIsCutOffByTheHeaderTimeout) {
    http::ServerSettings settings;
    settings.header_timeout = 600ms;
    settings.idle_timeout = 10s;
    start(settings);
    const std::string hello = client_hello();
    ASSERT_GT(hello.size(), 100u);
    SlowClients clients(port());
    const std::size_t tricklers = clients.open(3, hello.substr(0, 1), hello.substr(1), 50ms);
    ASSERT_TRUE(eventually([&] { return clients.closed_by_server(tricklers) == 3; }, 8s));
    const auto closed =
        closed_within(clients.connections(tricklers), settings.header_timeout, 400ms);
    EXPECT_TRUE(closed);
    for (const auto& c : clients.connections(tricklers)) {
        EXPECT_GE(c.trickled, 5u);  // still sending when cut off
        EXPECT_LT(c.trickled, hello.size() - 1);
    }
    std::printf("[ tls      ] byte-at-a-time ClientHellos closed %s\n", closed.message());
}

// After the handshake, the first request head must still be complete within header_timeout of the
// accept: a client that handshakes, waits, then trickles its head is cut off at that deadline, not
// header_timeout after its first byte.
TEST_F(ServerTlsTest, HandshakeAndFirstRequestHeadShareTheHeaderTimeout) {
    http::ServerSettings settings;
    settings.header_timeout = 800ms;
    settings.idle_timeout = 10s;
    start(settings);
    RawTlsClient client(TLS1_2_VERSION, TLS1_3_VERSION, "DEFAULT");
    const auto began = Clock::now();
    ASSERT_EQ(client.connect(port()), "");
    ASSERT_FALSE(client.server_closed_before(began + 500ms));
    const std::string head =
        "GET /fast HTTP/1.1\r\nHost: slow\r\nX-Pad: " + std::string(50, 'a') + "\r\n\r\n";
    std::size_t sent = 0;
    bool closed = false;
    while (sent < head.size() && !closed) {
        client.write(head.substr(sent, 1));
        ++sent;
        closed = client.server_closed_before(Clock::now() + 100ms);
    }
    const auto lifetime = std::chrono::duration_cast<milliseconds>(Clock::now() - began);
    ASSERT_TRUE(closed) << "the whole head went through";
    EXPECT_GE(lifetime, settings.header_timeout - kEarly);
    EXPECT_LE(lifetime, settings.header_timeout + 300ms);
    EXPECT_GE(sent, 2u);
    EXPECT_EQ(client.received(), "");
    std::printf(
        "[ tls      ] head trickled after the handshake closed after %lld ms (%zu bytes sent)\n",
        static_cast<long long>(lifetime.count()), sent);
}

// Silent TCP connections and stalled handshakes on the TLS port do not keep HTTPS clients from
// being served within their normal latency (support/latency.hpp argues the bound), and each is
// closed at header_timeout.
TEST_F(ServerTlsTest, StalledHandshakesDoNotStarveHttpsClients) {
    constexpr std::size_t kSilent = 200;
    constexpr std::size_t kSlowHellos = 20;
    http::ServerSettings settings;
    settings.header_timeout = 1000ms;
    settings.idle_timeout = 5s;
    start(settings);
    ClientThread clients;
    const auto client_settings = trusting_the_test_ca();

    auto reused = std::make_unique<http::Client>(clients.executor(), client_settings);
    const auto baseline =
        clients.run(https_traffic(reused.get(), client_settings, url("/fast"), 40));
    ASSERT_TRUE(all_ok(baseline));
    reused.reset();
    ASSERT_TRUE(eventually([&] { return server().open_connections() == 0; }, 5s));

    reused = std::make_unique<http::Client>(clients.executor(), client_settings);
    SlowClients attack(port());
    const std::size_t silent = attack.open(kSilent);
    const std::string hello = client_hello();
    const std::size_t hellos = attack.open(kSlowHellos, hello.substr(0, 1), hello.substr(1), 100ms);
    ASSERT_TRUE(
        eventually([&] { return server().open_connections() == kSilent + kSlowHellos; }, 5s));
    const auto attacked =
        clients.run(https_traffic(reused.get(), client_settings, url("/fast"), 40));
    ASSERT_EQ(attack.closed_by_server(), 0u);  // all of it while every hostile connection was open
    EXPECT_TRUE(all_ok(attacked));
    const auto base_p99 = percentile(latencies(baseline), 0.99);
    const auto attacked_p99 = percentile(latencies(attacked), 0.99);
    std::printf(
        "[ latency  ] 40 HTTPS requests (half with a handshake): baseline p50 %lld us p99 %lld us; "
        "with %zu "
        "hostile connections p50 %lld us p99 %lld us; bound %lld us\n",
        static_cast<long long>(percentile(latencies(baseline), 0.5).count()),
        static_cast<long long>(base_p99.count()), kSilent + kSlowHellos,
        static_cast<long long>(percentile(latencies(attacked), 0.5).count()),
        static_cast<long long>(attacked_p99.count()),
        static_cast<long long>(attack_latency_bound(base_p99).count()));
    EXPECT_LE(attacked_p99, attack_latency_bound(base_p99));

    ASSERT_TRUE(
        eventually([&] { return attack.closed_by_server() == kSilent + kSlowHellos; }, 10s));
    const auto silent_closed =
        closed_within(attack.connections(silent), settings.header_timeout, 750ms);
    const auto hellos_closed =
        closed_within(attack.connections(hellos), settings.header_timeout, 750ms);
    EXPECT_TRUE(silent_closed) << "silent";
    EXPECT_TRUE(hellos_closed) << "slow ClientHellos";
    std::printf("[ closed   ] silent %s, slow ClientHellos %s\n", silent_closed.message(),
                hellos_closed.message());
    reused.reset();
}

// The first response on a new HTTPS connection goes out at once. Without TCP_NODELAY on the
// accepted socket, Nagle's algorithm held it behind the not-yet-acknowledged TLS 1.3 session
// tickets until the client's delayed ACK, 40 ms later (in 9 of 20 and 21 of 30 new connections
// in two runs without it); a loopback handshake and request
// otherwise take 1-3 ms, 10-30 ms on a loaded machine, so up to 6 of 30 slow ones are let pass.
TEST_F(ServerTlsTest, FirstResponseOnANewConnectionIsNotHeldBackByNagle) {
    start(http::ServerSettings{});
    ClientThread clients;
    const auto outcomes =
        clients.run(https_traffic(nullptr, trusting_the_test_ca(), url("/fast"), 30));
    ASSERT_TRUE(all_ok(outcomes));
    const auto held = std::count_if(outcomes.begin(), outcomes.end(),
                                    [](const Outcome& o) { return o.latency >= 40ms; });
    std::printf(
        "[ nagle    ] 30 new HTTPS connections: p50 %lld us, max %lld us, %lld took 40 ms or "
        "more\n",
        static_cast<long long>(percentile(latencies(outcomes), 0.5).count()),
        static_cast<long long>(percentile(latencies(outcomes), 1.0).count()),
        static_cast<long long>(held));
    EXPECT_LE(held, 6);
}

// TLS 1.2 is offered only with ECDHE and an AEAD cipher (GCM or ChaCha20-Poly1305); TLS 1.3 works.
TEST_F(ServerTlsTest, Tls12AcceptsOnlyForwardSecretAeadSuites) {
    start(http::ServerSettings{});
    struct Case {
        int version;
        const char* ciphers;
        bool accepted;
    };
    const Case cases[] = {
        {TLS1_3_VERSION, "DEFAULT", true},
        {TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", true},
        {TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", true},
        {TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", true},
        {TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA", false},     // CBC
        {TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA384", false},  // CBC
        {TLS1_2_VERSION, "ECDHE-ECDSA-AES128-CCM", false},     // AEAD, but not on the list
    };
    for (const auto& c : cases) {
        RawTlsClient client(c.version, c.version, c.ciphers);
        const std::string reason = client.connect(port());
        if (c.accepted) {
            EXPECT_EQ(reason, "") << c.ciphers;
        } else {
            EXPECT_NE(reason.find("handshake failure"), std::string::npos)
                << c.ciphers << ": " << reason;
        }
    }
}

// The whole gateway with tls_cert and tls_key set serves HTTPS, and only HTTPS, on its port.
TEST(ServerTlsGatewayTest, GatewayServesHealthzOverHttpsOnly) {
    WAGATE_REQUIRE_DATABASE();
    app::Config config = TestGateway::base_config();
    config.tls_cert = test_certificates().localhost.cert_file;
    config.tls_key = test_certificates().localhost.key_file;
    TestGateway gateway(config);

    ClientThread clients;
    http::Client client(clients.executor(), trusting_the_test_ca());
    http::ClientRequest request;
    request.method = "GET";
    request.url = "https://localhost:" + std::to_string(gateway.port()) + "/healthz";
    auto response = clients.run(client.send(request));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, R"({"status":"ok"})");

    auto plain = gateway.client().raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1, 5000ms);
    EXPECT_EQ(plain.status, 0);
    EXPECT_TRUE(plain.closed);

    // Another certificate's key: the gateway refuses to start rather than serve plain HTTP.
    app::Config mismatched = TestGateway::base_config();
    mismatched.tls_cert = test_certificates().localhost.cert_file;
    mismatched.tls_key = test_certificates().untrusted.key_file;
    try {
        TestGateway refused(mismatched);
        ADD_FAILURE() << "a gateway with a mismatched key started on port " << refused.port();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(mismatched.tls_key), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace wagate::test
