#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wagate::test {

/// What became of one hostile connection (times on std::chrono::steady_clock).
struct SlowConnection {
    std::chrono::steady_clock::time_point connected;
    /// When `opening` had been written (the connect time when there was none): where the timed
    /// part of the attack starts.
    std::chrono::steady_clock::time_point started;
    /// When the server closed the connection (EOF or reset seen); empty while it is open or if
    /// the test closed it itself.
    std::optional<std::chrono::steady_clock::time_point> closed;
    std::size_t trickled = 0;  // bytes of `trickle` written so far
    std::string received;      // what the server sent before closing

    /// closed - started, or nothing while open.
    std::optional<std::chrono::milliseconds> lifetime() const;
};

/// Slow and silent clients for tests of a server's timeouts and connection cap: many TCP
/// connections to 127.0.0.1:port, driven by one background thread. Each writes `opening` at once,
/// then `trickle` one byte every `interval`, and notes when the server closed it. With both
/// empty, a connection just sits there. Thread-safe.
class SlowClients {
public:
    explicit SlowClients(unsigned short port);
    /// Closes the connections still open and joins the thread.
    ~SlowClients();
    SlowClients(const SlowClients&) = delete;
    SlowClients& operator=(const SlowClients&) = delete;

    /// Connects `count` connections and writes their openings before returning (blocking); the
    /// trickle starts one `interval` later. Returns the group's number for the accessors below.
    /// Throws std::system_error if a connect fails.
    std::size_t open(std::size_t count,
                     std::string opening = {},
                     std::string trickle = {},
                     std::chrono::milliseconds interval = std::chrono::milliseconds(250));

    /// Closes, from the client side, up to `count` connections of `group` still open; returns
    /// once they are closed.
    void close(std::size_t group, std::size_t count);

    /// A snapshot of `group`'s connections, in the order they were opened.
    std::vector<SlowConnection> connections(std::size_t group) const;
    /// How many connections of `group` (of every group without one) the server has closed.
    std::size_t closed_by_server(std::size_t group) const;
    std::size_t closed_by_server() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

/// Every connection was closed by the server no sooner than `at_least - early` and no later than
/// `at_least + slack` after it started (`early`: the client's timestamps may trail the moment
/// the server started its timer; Asio timers themselves never fire early). The message gives
/// the range of lifetimes seen.
::testing::AssertionResult closed_within(
    const std::vector<SlowConnection>& connections,
    std::chrono::milliseconds at_least,
    std::chrono::milliseconds slack,
    std::chrono::milliseconds early = std::chrono::milliseconds(50));

}  // namespace wagate::test
