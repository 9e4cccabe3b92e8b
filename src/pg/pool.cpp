#include <wagate/pg/pool.hpp>

#include <atomic>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace wagate::pg {
namespace asio = boost::asio;

namespace {
// The free list is a channel buffered to the pool size: a receive is an acquire, a send a release.
// An empty slot travels as nullptr and is connected by whoever receives it.
using SlotChannel = asio::experimental::concurrent_channel<void(boost::system::error_code,
                                                                std::unique_ptr<Connection>)>;
}  // namespace

/// Shared by the Pool and its leases, so that a lease can always be given back.
struct PoolState {
    asio::any_io_executor executor;
    PoolSettings settings;
    SlotChannel slots;
    std::atomic<std::size_t> in_use{0};
    std::atomic<bool> closed{false};

    PoolState(asio::any_io_executor ex, PoolSettings s)
        : executor(ex), settings(std::move(s)), slots(ex, settings.size) {
        for (std::size_t i = 0; i < settings.size; ++i) {
            slots.try_send(boost::system::error_code{}, nullptr);
        }
    }

    void give_back(std::unique_ptr<Connection> connection) noexcept {
        in_use.fetch_sub(1);
        // Never reuse a connection whose state is unknown: a broken one, or one a caller left
        // inside a transaction (it would leak that transaction into the next lease).
        if (closed || (connection && (connection->broken() || connection->in_transaction()))) {
            connection.reset();
        }
        if (!closed) {
            slots.try_send(boost::system::error_code{}, std::move(connection));
        }
    }
};

Pool::Pool(asio::any_io_executor executor, PoolSettings settings)
    : state_(std::make_shared<PoolState>(executor, std::move(settings))) {}

Pool::~Pool() { state_->closed = true; }

const PoolSettings& Pool::settings() const noexcept { return state_->settings; }

PoolStats Pool::stats() const noexcept { return PoolStats{state_->settings.size, state_->in_use.load()}; }

asio::awaitable<Result<Lease>> Pool::acquire() {
    auto state = state_;
    auto [ec, connection] = co_await state->slots.async_receive(asio::as_tuple(asio::use_awaitable));
    if (ec) {
        co_return Error{Errc::kDbUnavailable, "connection pool closed"};
    }
    state->in_use.fetch_add(1);
    if (!connection) {
        auto connected = co_await Connection::connect(state->settings.connection);
        if (!connected) {
            state->give_back(nullptr);
            co_return connected.error();
        }
        connection = std::move(*connected);
    }
    co_return Lease(std::move(state), std::move(connection));
}

asio::awaitable<Result<Rows>> Pool::execute(const Statement& statement, const Params& params) {
    auto lease = co_await acquire();
    if (!lease) {
        co_return lease.error();
    }
    co_return co_await (*lease)->execute(statement, params);
}

Lease::Lease(std::shared_ptr<PoolState> pool, std::unique_ptr<Connection> connection) noexcept
    : pool_(std::move(pool)), connection_(std::move(connection)) {}

Lease::Lease(Lease&& other) noexcept = default;

Lease& Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        pool_ = std::move(other.pool_);
        connection_ = std::move(other.connection_);
    }
    return *this;
}

Lease::~Lease() { release(); }

void Lease::release() noexcept {
    if (pool_) {
        std::exchange(pool_, nullptr)->give_back(std::move(connection_));
    }
}

}  // namespace wagate::pg
