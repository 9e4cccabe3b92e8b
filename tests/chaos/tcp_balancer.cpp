#include "chaos/tcp_balancer.hpp"

#include <array>
#include <atomic>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace wagate::chaos {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

/// Copies `from` to `to` until `from` ends, then passes the end on (half-close).
asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        auto [read_error, n] = co_await from->async_read_some(asio::buffer(buffer), kUseTuple);
        if (read_error) {
            break;
        }
        auto [write_error, written] = co_await asio::async_write(*to, asio::buffer(buffer.data(), n), kUseTuple);
        if (write_error) {
            break;
        }
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
    from->close(ignored);
}

}  // namespace

struct TcpBalancer::Impl {
    asio::io_context io{1};
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    std::vector<unsigned short> backends;
    std::atomic<std::size_t> next{0};
    std::thread thread;

    asio::awaitable<void> relay(std::shared_ptr<tcp::socket> client) {
        auto upstream = std::make_shared<tcp::socket>(io);
        bool connected = false;
        const std::size_t first = next.fetch_add(1);
        for (std::size_t i = 0; i < backends.size() && !connected; ++i) {
            const tcp::endpoint backend(asio::ip::make_address("127.0.0.1"), backends[(first + i) % backends.size()]);
            auto [error] = co_await upstream->async_connect(backend, kUseTuple);
            if (error) {
                boost::system::error_code ignored;
                upstream->close(ignored);
                continue;
            }
            connected = true;
        }
        if (!connected) {
            boost::system::error_code ignored;
            client->close(ignored);  // every backend down: the client sees a refused request
            co_return;
        }
        asio::co_spawn(io, pump(client, upstream), asio::detached);
        asio::co_spawn(io, pump(upstream, client), asio::detached);
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [error, socket] = co_await acceptor.async_accept(kUseTuple);
            if (error) {
                if (error == asio::error::operation_aborted) {
                    co_return;
                }
                continue;
            }
            auto client = std::make_shared<tcp::socket>(std::move(socket));
            asio::co_spawn(io, relay(std::move(client)), asio::detached);
        }
    }
};

TcpBalancer::TcpBalancer(std::vector<unsigned short> backend_ports) : impl_(std::make_unique<Impl>()) {
    impl_->backends = std::move(backend_ports);
    asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
    impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

TcpBalancer::~TcpBalancer() {
    impl_->io.stop();
    impl_->thread.join();
}

unsigned short TcpBalancer::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace wagate::chaos
