// http::Server under hostile traffic (contract §8): silent and slow clients, the connection cap,
// and the header, body and idle timeouts. The server runs alone on 127.0.0.1:0 with two I/O
// threads, as in the gateway; attackers are raw sockets (support/slow_clients.hpp), and real
// clients are blocking HTTP/1.1 clients that never retry. No PostgreSQL.
//
// Timeouts are asserted from the client's side as a window: never before the configured time
// (Asio timers do not fire early; 50 ms of slack covers where the client takes its timestamp),
// and not much after it (the upper slack is for a loaded machine).
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <wagate/http/server.hpp>

#include "support/eventually.hpp"
#include "support/latency.hpp"
#include "support/slow_clients.hpp"
#include "support/test_server.hpp"

namespace wagate::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

/// One request as a real client saw it.
struct Outcome {
    int status = 0;  // 0: no response (refused, closed, timed out)
    std::chrono::microseconds latency{0};
    std::string error;
};

/// A well-behaved client: one keep-alive connection, or (`fresh`) a new connection with
/// `Connection: close` for every request, whose latency then includes the connect. Blocking, but
/// through Beast's async operations on a private io_context, so that the 5 s deadline of each
/// request holds (it does not for Beast's synchronous calls). Never retries: a request the server
/// drops or leaves unanswered is reported, not hidden.
class RealClient {
public:
    RealClient(unsigned short port, bool fresh) : port_(port), fresh_(fresh) {}

    Outcome get(const std::string& target) {
        bhttp::request<bhttp::string_body> request(bhttp::verb::get, target, 11);
        return send(std::move(request));
    }

    Outcome post(const std::string& target, std::string body) {
        bhttp::request<bhttp::string_body> request(bhttp::verb::post, target, 11);
        request.set(bhttp::field::content_type, "text/plain");
        request.body() = std::move(body);
        request.prepare_payload();
        return send(std::move(request));
    }

private:
    /// Runs the operation started on ioc_ to completion.
    void finish() {
        ioc_.run();
        ioc_.restart();
    }

    Outcome send(bhttp::request<bhttp::string_body> request) {
        Outcome out;
        const auto started = std::chrono::steady_clock::now();
        request.set(bhttp::field::host, "real");
        request.keep_alive(!fresh_);
        beast::error_code ec;
        const auto done = [&ec](beast::error_code e, auto&&...) { ec = e; };
        if (fresh_ || !stream_) {
            stream_.emplace(ioc_);
            buffer_.clear();
            stream_->expires_after(5s);
            stream_->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), done);
            finish();
        }
        bhttp::response<bhttp::string_body> response;
        if (!ec) {
            stream_->expires_after(5s);
            bhttp::async_write(*stream_, request, done);
            finish();
        }
        if (!ec) {
            bhttp::async_read(*stream_, buffer_, response, done);
            finish();
        }
        out.latency = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - started);
        if (ec) {
            out.error = ec.message();
            stream_.reset();
            return out;
        }
        out.status = static_cast<int>(response.result_int());
        if (fresh_ || !response.keep_alive()) {
            stream_.reset();
        }
        return out;
    }

    unsigned short port_;
    bool fresh_;
    asio::io_context ioc_;  // run by send() on the caller's thread
    std::optional<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
};

/// Makes sure this process may hold `needed` descriptors, raising the soft limit if it must.
::testing::AssertionResult fd_limit_at_least(rlim_t needed) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return ::testing::AssertionFailure() << "getrlimit failed";
    }
    if (limit.rlim_cur >= needed) {
        return ::testing::AssertionSuccess();
    }
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
        return ::testing::AssertionFailure()
               << "hard descriptor limit " << limit.rlim_max << " < " << needed;
    }
    limit.rlim_cur = needed;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return ::testing::AssertionFailure() << "setrlimit(" << needed << ") failed";
    }
    return ::testing::AssertionSuccess();
}

class ServerHostileTest : public ::testing::Test {
protected:
    ServerHostileTest() {
        server_.router().add(
            "GET", "/fast", 0,
            [this](http::Request&, const http::PathParams&) -> asio::awaitable<http::Response> {
                note_open_connections();
                http::Response response;
                response.content_type = "text/plain";
                response.body = "ok";
                co_return response;
            });
        server_.router().add("POST", "/echo", 64 * 1024,
                             [this](http::Request& request,
                                    const http::PathParams&) -> asio::awaitable<http::Response> {
                                 if (request.header("host") == "slow") {
                                     ++slow_bodies_handled_;
                                 }
                                 http::Response response;
                                 response.content_type = "text/plain";
                                 response.body = std::to_string(request.body.size());
                                 co_return response;
                             });
    }

    void start(http::ServerSettings settings) {
        auto started = server_.start(std::move(settings));
        ASSERT_TRUE(started) << started.error().message;
    }

    http::Server& server() { return server_.server(); }
    unsigned short port() { return server_.port(); }

    void note_open_connections() {
        const std::size_t now = server().open_connections();
        std::size_t seen = most_open_seen_by_handler_.load();
        while (now > seen && !most_open_seen_by_handler_.compare_exchange_weak(seen, now)) {
        }
    }

    /// The real traffic: 200 requests, half on a fresh connection each, half spread over four
    /// keep-alive connections (GET and a 1 KiB POST in turn). Sequential, each timed; stops at
    /// the first request that fails (each may take the client's 5 s timeout).
    std::vector<Outcome> real_traffic() {
        std::deque<RealClient> keep_alive;  // RealClient cannot move (its io_context)
        for (int i = 0; i < 4; ++i) {
            keep_alive.emplace_back(port(), /*fresh=*/false);
        }
        RealClient fresh(port(), /*fresh=*/true);
        std::vector<Outcome> outcomes;
        for (int i = 0; i < 200; ++i) {
            if (i % 2 == 0) {
                outcomes.push_back(fresh.get("/fast"));
            } else if (i % 4 == 1) {
                outcomes.push_back(keep_alive[static_cast<std::size_t>(i / 2) % 4].get("/fast"));
            } else {
                outcomes.push_back(keep_alive[static_cast<std::size_t>(i / 2) % 4].post(
                    "/echo", std::string(1024, 'r')));
            }
            if (outcomes.back().status != 200) {
                break;
            }
        }
        return outcomes;
    }

    static std::vector<std::chrono::microseconds> latencies(const std::vector<Outcome>& outcomes) {
        std::vector<std::chrono::microseconds> out;
        for (const auto& o : outcomes) {
            out.push_back(o.latency);
        }
        return out;
    }

    static ::testing::AssertionResult all_ok(const std::vector<Outcome>& outcomes) {
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
            if (outcomes[i].status != 200) {
                return ::testing::AssertionFailure()
                       << "request " << i << ": status " << outcomes[i].status << " "
                       << outcomes[i].error << " after " << outcomes[i].latency.count() << " us";
            }
        }
        if (outcomes.size() != 200) {
            return ::testing::AssertionFailure() << outcomes.size() << " requests made";
        }
        return ::testing::AssertionSuccess();
    }

    TestServer server_;
    std::atomic<std::size_t> most_open_seen_by_handler_{0};
    std::atomic<int> slow_bodies_handled_{0};
};

// The acceptance test of the slowloris issue: 600 hostile connections (silent, trickling a request
// head a byte at a time, trickling a body a byte at a time) do not keep 200 real requests from
// being served, each within its normal latency; and the server ends every hostile connection at
// the timeout for what it was doing, although the tricklers never stop sending.
TEST_F(ServerHostileTest, SlowlorisDoesNotStarveRealClients) {
    constexpr std::size_t kSilent = 500;
    constexpr std::size_t kSlowHeads = 50;
    constexpr std::size_t kSlowBodies = 50;
    constexpr std::size_t kHostile = kSilent + kSlowHeads + kSlowBodies;
    constexpr milliseconds kTrickle = 250ms;
    ASSERT_TRUE(fd_limit_at_least(2 * kHostile + 512));  // both ends of each connection live here
    http::ServerSettings settings;
    settings.header_timeout = 1500ms;
    settings.body_timeout = 2000ms;
    settings.idle_timeout = 3000ms;  // longer: a silent new connection must meet the header timeout
    start(settings);

    const auto baseline = real_traffic();
    ASSERT_TRUE(all_ok(baseline));
    ASSERT_TRUE(eventually([&] { return server().open_connections() == 0; }, 5s));

    SlowClients attack(port());
    const std::size_t silent = attack.open(kSilent);
    const std::size_t heads = attack.open(
        kSlowHeads, "G",
        "ET /fast HTTP/1.1\r\nHost: slow\r\nX-Pad: " + std::string(100, 'a') + "\r\n\r\n",
        kTrickle);
    const std::size_t bodies = attack.open(kSlowBodies,
                                           "POST /echo HTTP/1.1\r\nHost: slow\r\nContent-Type: "
                                           "text/plain\r\nContent-Length: 1000\r\n\r\n",
                                           std::string(1000, 'b'), kTrickle);
    // (Not an ASSERT: a server that cannot even accept them all must fail on the real traffic too.)
    EXPECT_TRUE(eventually([&] { return server().open_connections() == kHostile; }, 5s))
        << server().open_connections();

    const auto attacked = real_traffic();
    ASSERT_TRUE(all_ok(attacked));
    // All of it happened while every hostile connection was still open.
    ASSERT_EQ(attack.closed_by_server(), 0u);
    const auto base_p99 = percentile(latencies(baseline), 0.99);
    const auto base_p50 = percentile(latencies(baseline), 0.50);
    const auto attacked_p99 = percentile(latencies(attacked), 0.99);
    const auto attacked_p50 = percentile(latencies(attacked), 0.50);
    std::printf(
        "[ latency  ] 200 real requests: baseline p50 %lld us p99 %lld us; with %zu hostile "
        "connections "
        "p50 %lld us p99 %lld us; bound %lld us\n",
        static_cast<long long>(base_p50.count()), static_cast<long long>(base_p99.count()),
        kHostile, static_cast<long long>(attacked_p50.count()),
        static_cast<long long>(attacked_p99.count()),
        static_cast<long long>(attack_latency_bound(base_p99).count()));
    EXPECT_LE(attacked_p99, attack_latency_bound(base_p99));

    // Each kind of hostile connection is ended by its own timeout.
    ASSERT_TRUE(eventually([&] { return attack.closed_by_server() == kHostile; }, 10s))
        << attack.closed_by_server();
    const auto silent_closed =
        closed_within(attack.connections(silent), settings.header_timeout, 750ms);
    const auto heads_closed =
        closed_within(attack.connections(heads), settings.header_timeout, 750ms);
    const auto bodies_closed =
        closed_within(attack.connections(bodies), settings.body_timeout, 750ms);
    EXPECT_TRUE(silent_closed) << "silent";
    EXPECT_TRUE(heads_closed) << "slow heads";
    EXPECT_TRUE(bodies_closed) << "slow bodies";
    std::printf("[ closed   ] silent %s, slow heads %s, slow bodies %s\n", silent_closed.message(),
                heads_closed.message(), bodies_closed.message());
    for (const auto& c : attack.connections(heads)) {
        EXPECT_GE(c.trickled, 3u);  // kept sending to the end: the timeout is for the whole head
        EXPECT_EQ(c.received, "");
    }
    for (const auto& c : attack.connections(bodies)) {
        EXPECT_GE(c.trickled, 5u);
        EXPECT_EQ(c.received, "");
    }
    EXPECT_EQ(slow_bodies_handled_.load(), 0);
    EXPECT_TRUE(eventually([&] { return server().open_connections() == 0; }, 5s));
}

// Over max_connections, a new connection is closed at once (not held, not queued), the count of
// open connections never passes the cap, and freed slots are served again.
TEST_F(ServerHostileTest, ConnectionCapRefusesExtrasPromptlyAndServesAgainOnceSlotsFree) {
    constexpr std::size_t kCap = 20;
    constexpr std::size_t kExtra = 5;
    http::ServerSettings settings;
    settings.max_connections = kCap;
    settings.header_timeout = 10s;  // the holders stay until the test closes them
    settings.idle_timeout = 10s;
    start(settings);
    std::atomic<std::size_t> most_open{0};
    std::jthread watcher([&](std::stop_token stop) {  // joins even when an ASSERT returns early
        while (!stop.stop_requested()) {
            most_open = std::max(most_open.load(), server().open_connections());
            std::this_thread::sleep_for(1ms);
        }
    });

    SlowClients clients(port());
    const std::size_t holders = clients.open(kCap);
    ASSERT_TRUE(eventually([&] { return server().open_connections() == kCap; }, 5s));
    const std::size_t extras = clients.open(kExtra);
    ASSERT_TRUE(eventually([&] { return clients.closed_by_server(extras) == kExtra; }, 5s));
    const auto extras_closed = closed_within(clients.connections(extras), 0ms, 500ms);
    EXPECT_TRUE(extras_closed);
    for (const auto& c : clients.connections(extras)) {
        EXPECT_EQ(c.received, "");
    }
    EXPECT_EQ(server().accepted_connections(), kCap + kExtra);
    EXPECT_EQ(server().open_connections(), kCap);
    EXPECT_EQ(clients.closed_by_server(holders), 0u);
    // A real client is turned away like any other while the server is full.
    EXPECT_EQ(RealClient(port(), /*fresh=*/true).get("/fast").status, 0);

    clients.close(holders, kExtra);
    ASSERT_TRUE(eventually([&] { return server().open_connections() == kCap - kExtra; }, 5s));
    std::deque<RealClient> served;
    for (std::size_t i = 0; i < kExtra; ++i) {
        served.emplace_back(port(), /*fresh=*/false);
        const auto first = served.back().get("/fast");
        EXPECT_EQ(first.status, 200) << i << " " << first.error;
    }
    for (auto& client : served) {
        EXPECT_EQ(client.get("/fast").status, 200);  // the slot stays theirs: keep-alive
    }
    EXPECT_EQ(server().open_connections(), kCap);
    EXPECT_EQ(RealClient(port(), /*fresh=*/true).get("/fast").status, 0);  // full again

    watcher.request_stop();
    watcher.join();
    std::printf("[ cap      ] extras %s; most open connections seen %zu (handler %zu), cap %zu\n",
                extras_closed.message(), most_open.load(), most_open_seen_by_handler_.load(), kCap);
    EXPECT_LE(most_open.load(), kCap);
    EXPECT_LE(most_open_seen_by_handler_.load(), kCap);
}

// A new connection gets header_timeout, counted from its accept, to deliver its first request
// head: silence does not earn it the (longer) idle keep-alive timeout first, and a head that
// starts late does not get a fresh header timeout from its first byte.
TEST_F(ServerHostileTest, FirstRequestHeadMustArriveWithinTheHeaderTimeoutOfConnecting) {
    http::ServerSettings settings;
    settings.header_timeout = 600ms;
    settings.idle_timeout = 5s;
    settings.body_timeout = 5s;
    start(settings);
    SlowClients clients(port());
    const std::size_t silent = clients.open(3);
    // First byte after 400 ms, the next after 800 ms: past the deadline.
    const std::size_t late = clients.open(3, "", "GET /fast HTTP/1.1\r\nHost: slow\r\n\r\n", 400ms);
    ASSERT_TRUE(eventually([&] { return clients.closed_by_server() == 6; }, 8s));
    const auto silent_closed =
        closed_within(clients.connections(silent), settings.header_timeout, 300ms);
    const auto late_closed =
        closed_within(clients.connections(late), settings.header_timeout, 300ms);
    EXPECT_TRUE(silent_closed) << "silent";
    EXPECT_TRUE(late_closed) << "late";
    std::printf("[ first    ] silent %s, late head %s\n", silent_closed.message(),
                late_closed.message());
    for (const auto& c : clients.connections(late)) {
        EXPECT_GE(c.trickled, 1u);
        EXPECT_EQ(c.received, "");
    }
}

// After a response, a keep-alive connection is closed once it has been idle for idle_timeout
// (not header_timeout), and only idle time counts: a client that keeps asking stays connected.
TEST_F(ServerHostileTest, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
    http::ServerSettings settings;
    settings.header_timeout = 5s;
    settings.idle_timeout = 400ms;
    start(settings);
    SlowClients clients(port());
    const std::size_t answered = clients.open(2, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(eventually([&] { return clients.closed_by_server(answered) == 2; }, 8s));
    const auto idle_closed =
        closed_within(clients.connections(answered), settings.idle_timeout, 300ms);
    EXPECT_TRUE(idle_closed);
    for (const auto& c : clients.connections(answered)) {
        EXPECT_EQ(c.received.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << c.received;
    }

    const std::size_t accepted_before = server().accepted_connections();
    RealClient steady(port(), /*fresh=*/false);
    const auto began = std::chrono::steady_clock::now();
    for (int i = 0; i < 6; ++i) {  // 1.2 s in all, three idle timeouts, never idle for one
        const auto r = steady.get("/fast");
        ASSERT_EQ(r.status, 200) << i << " " << r.error;
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_GT(std::chrono::steady_clock::now() - began, 3 * settings.idle_timeout);
    EXPECT_EQ(server().accepted_connections(), accepted_before + 1);  // one connection throughout
    std::printf("[ idle     ] answered connections closed %s\n", idle_closed.message());
}

// A request whose body stalls is cut off body_timeout after its head was read, and never reaches
// the handler.
TEST_F(ServerHostileTest, StalledBodyIsCutOffByTheBodyTimeout) {
    http::ServerSettings settings;
    settings.header_timeout = 5s;
    settings.idle_timeout = 5s;
    settings.body_timeout = 500ms;
    start(settings);
    SlowClients clients(port());
    const std::size_t stalled = clients.open(2,
                                             "POST /echo HTTP/1.1\r\nHost: slow\r\nContent-Type: "
                                             "text/plain\r\nContent-Length: 100\r\n\r\n0123456789");
    ASSERT_TRUE(eventually([&] { return clients.closed_by_server(stalled) == 2; }, 8s));
    const auto stalled_closed =
        closed_within(clients.connections(stalled), settings.body_timeout, 300ms);
    EXPECT_TRUE(stalled_closed);
    for (const auto& c : clients.connections(stalled)) {
        EXPECT_EQ(c.received, "");
    }
    EXPECT_EQ(slow_bodies_handled_.load(), 0);
    // The same request with its whole body is served.
    EXPECT_EQ(RealClient(port(), /*fresh=*/true).post("/echo", std::string(100, 'x')).status, 200);
    std::printf("[ body     ] stalled bodies closed %s\n", stalled_closed.message());
}

}  // namespace
}  // namespace wagate::test
