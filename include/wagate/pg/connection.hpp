#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>
#include <wagate/pg/statement.hpp>

namespace wagate::pg {

struct ConnectionSettings {
    std::string conninfo;  // libpq URI or key=value string
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds statement_timeout{5000};
    std::string application_name = "wagate";
};

/// One non-blocking libpq connection driven by Asio: the socket is waited on, never blocked on.
/// One statement in flight at a time; not thread-safe (a Pool lease gives exclusive use).
/// After connecting: search_path = wagate, statement_timeout and
/// idle_in_transaction_session_timeout set, notices routed to the log.
class Connection {
public:
    /// Socket waits run on the calling coroutine's executor.
    /// Errors: kDbUnavailable (refused, auth failure, timeout).
    static boost::asio::awaitable<Result<std::unique_ptr<Connection>>> connect(
        const ConnectionSettings& settings);

    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs a prepared statement. Errors: classify_sqlstate() of the server's error, kTimeout when
    /// the client-side deadline passes (the connection is then broken), kDbUnavailable when the
    /// connection is lost.
    boost::asio::awaitable<Result<Rows>> execute(const Statement& statement, const Params& params);

    /// Runs SQL text through the simple-query protocol (BEGIN, COMMIT, several statements).
    /// Returns the last statement's rows.
    boost::asio::awaitable<Result<Rows>> execute_simple(std::string_view sql,
                                                        std::chrono::milliseconds timeout);

    /// True once the connection must not be reused (lost, timed out, or failed mid-protocol).
    bool broken() const noexcept;
    /// True when a transaction is open (or failed) on this connection.
    bool in_transaction() const noexcept;

private:
    struct Impl;
    explicit Connection(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace wagate::pg
