#pragma once

#include <cstddef>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>
#include <wagate/pg/connection.hpp>

namespace wagate::pg {

struct PoolSettings {
    ConnectionSettings connection;
    std::size_t size = 8;
};

class Pool;
struct PoolState;

/// Exclusive use of one connection; returns it to the pool when destroyed. A broken connection,
/// or one left inside a transaction, is discarded instead and its slot reconnects on next use.
/// A lease may outlive its Pool (a coroutine destroyed at shutdown): the connection is then closed.
class Lease {
public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();

    Connection& operator*() const noexcept { return *connection_; }
    Connection* operator->() const noexcept { return connection_.get(); }

private:
    friend class Pool;
    Lease(std::shared_ptr<PoolState> pool, std::unique_ptr<Connection> connection) noexcept;
    void release() noexcept;
    std::shared_ptr<PoolState> pool_;
    std::unique_ptr<Connection> connection_;
};

struct PoolStats {
    std::size_t size = 0;
    std::size_t in_use = 0;
};

/// A fixed number of connection slots, connected lazily and reconnected after failures.
/// acquire() waits while every slot is leased; waits are bounded by the statement timeouts of the
/// leases being held. Thread-safe.
class Pool {
public:
    Pool(boost::asio::any_io_executor executor, PoolSettings settings);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Errors: kDbUnavailable when the slot cannot (re)connect.
    boost::asio::awaitable<Result<Lease>> acquire();

    /// acquire() + execute() for a single statement.
    boost::asio::awaitable<Result<Rows>> execute(const Statement& statement, const Params& params);

    PoolStats stats() const noexcept;
    const PoolSettings& settings() const noexcept;

private:
    std::shared_ptr<PoolState> state_;
};

}  // namespace wagate::pg
