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

struct Pool::Impl {
    asio::any_io_executor executor;
    PoolSettings settings;
    SlotChannel slots;
    std::atomic<std::size_t> in_use{0};

    Impl(asio::any_io_executor ex, PoolSettings s)
        : executor(ex), settings(std::move(s)), slots(ex, settings.size) {
        for (std::size_t i = 0; i < settings.size; ++i) {
            slots.try_send(boost::system::error_code{}, nullptr);
        }
    }
};

Pool::Pool(asio::any_io_executor executor, PoolSettings settings)
    : impl_(std::make_unique<Impl>(executor, std::move(settings))) {}

Pool::~Pool() = default;

const PoolSettings& Pool::settings() const noexcept { return impl_->settings; }

PoolStats Pool::stats() const noexcept { return PoolStats{impl_->settings.size, impl_->in_use.load()}; }

void Pool::give_back(std::unique_ptr<Connection> connection) noexcept {
    // Never reuse a connection whose state is unknown: a broken one, or one a caller left inside
    // a transaction (it would leak that transaction into the next lease).
    if (connection && (connection->broken() || connection->in_transaction())) {
        connection.reset();
    }
    impl_->in_use.fetch_sub(1);
    impl_->slots.try_send(boost::system::error_code{}, std::move(connection));
}

asio::awaitable<Result<Lease>> Pool::acquire() {
    auto [ec, connection] = co_await impl_->slots.async_receive(asio::as_tuple(asio::use_awaitable));
    if (ec) {
        co_return Error{Errc::kDbUnavailable, "connection pool closed"};
    }
    impl_->in_use.fetch_add(1);
    if (!connection) {
        auto connected = co_await Connection::connect(impl_->settings.connection);
        if (!connected) {
            give_back(nullptr);
            co_return connected.error();
        }
        connection = std::move(*connected);
    }
    co_return Lease(this, std::move(connection));
}

asio::awaitable<Result<Rows>> Pool::execute(const Statement& statement, const Params& params) {
    auto lease = co_await acquire();
    if (!lease) {
        co_return lease.error();
    }
    co_return co_await (*lease)->execute(statement, params);
}

Lease::Lease(Pool* pool, std::unique_ptr<Connection> connection) noexcept
    : pool_(pool), connection_(std::move(connection)) {}

Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        if (pool_) {
            pool_->give_back(std::move(connection_));
        }
        pool_ = std::exchange(other.pool_, nullptr);
        connection_ = std::move(other.connection_);
    }
    return *this;
}

Lease::~Lease() {
    if (pool_) {
        pool_->give_back(std::move(connection_));
    }
}

}  // namespace wagate::pg
