#include "support/slow_clients.hpp"

#include <algorithm>
#include <future>
#include <mutex>
#include <system_error>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace wagate::test {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
}  // namespace

std::optional<std::chrono::milliseconds> SlowConnection::lifetime() const {
    if (!closed) {
        return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(*closed - started);
}

// Every socket and timer is used on the one I/O thread only (after open() handed it over), so
// no strand is needed; `mutex` guards the recorded outcomes, which the test thread reads.
struct SlowClients::Impl {
    struct Connection {
        Connection(asio::io_context& ioc, std::size_t g) : socket(ioc), timer(ioc), group(g) {}
        tcp::socket socket;
        asio::steady_timer timer;
        std::size_t group;
        std::string trickle;
        std::chrono::milliseconds interval{0};
        bool closed_by_us = false;  // I/O thread only
        SlowConnection outcome;     // under `mutex`
    };

    unsigned short port = 0;
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    std::thread thread;
    mutable std::mutex mutex;
    std::vector<std::vector<std::shared_ptr<Connection>>> groups;

    void start(std::shared_ptr<Connection> c) {
        asio::co_spawn(ioc, watch(c), asio::detached);
        if (!c->trickle.empty()) {
            asio::co_spawn(ioc, trickle(c), asio::detached);
        }
    }

    /// Notes whatever the server sends, and when it closes.
    asio::awaitable<void> watch(std::shared_ptr<Connection> c) {
        char chunk[4096];
        for (;;) {
            auto [ec, n] = co_await c->socket.async_read_some(asio::buffer(chunk), kUseTuple);
            std::lock_guard lock(mutex);
            c->outcome.received.append(chunk, n);
            if (ec) {
                if (!c->closed_by_us) {
                    c->outcome.closed = Clock::now();
                }
                c->timer.cancel();
                co_return;
            }
        }
    }

    asio::awaitable<void> trickle(std::shared_ptr<Connection> c) {
        for (std::size_t i = 0; i < c->trickle.size(); ++i) {
            c->timer.expires_after(c->interval);
            auto [tec] = co_await c->timer.async_wait(kUseTuple);
            if (tec || !c->socket.is_open()) {
                co_return;
            }
            auto [wec, n] =
                co_await asio::async_write(c->socket, asio::buffer(&c->trickle[i], 1), kUseTuple);
            if (wec) {
                co_return;
            }
            std::lock_guard lock(mutex);
            ++c->outcome.trickled;
        }
    }

    static void close_now(Connection& c) {
        c.closed_by_us = true;
        boost::system::error_code ignored;
        c.socket.shutdown(tcp::socket::shutdown_both, ignored);
        c.socket.close(ignored);
        c.timer.cancel();
    }
};

SlowClients::SlowClients(unsigned short port) : impl_(std::make_shared<Impl>()) {
    impl_->port = port;
    impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

SlowClients::~SlowClients() {
    asio::post(impl_->ioc, [impl = impl_.get()] {
        for (auto& group : impl->groups) {
            for (auto& c : group) {
                Impl::close_now(*c);
            }
        }
    });
    impl_->work.reset();
    impl_->thread.join();
}

std::size_t SlowClients::open(std::size_t count,
                              std::string opening,
                              std::string trickle,
                              std::chrono::milliseconds interval) {
    std::size_t group = 0;
    {
        std::lock_guard lock(impl_->mutex);
        group = impl_->groups.size();
        impl_->groups.emplace_back();
    }
    const tcp::endpoint server(asio::ip::make_address("127.0.0.1"), impl_->port);
    std::vector<std::shared_ptr<Impl::Connection>> opened;
    opened.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        // Blocking connect and write here, before the I/O thread ever sees the socket.
        auto c = std::make_shared<Impl::Connection>(impl_->ioc, group);
        c->trickle = trickle;
        c->interval = interval;
        c->socket.connect(server);
        c->outcome.connected = Clock::now();
        c->socket.set_option(tcp::no_delay(true));
        if (!opening.empty()) {
            asio::write(c->socket, asio::buffer(opening));
        }
        c->outcome.started = Clock::now();
        opened.push_back(std::move(c));
    }
    std::lock_guard lock(impl_->mutex);
    for (auto& c : opened) {
        impl_->groups[group].push_back(c);
        asio::post(impl_->ioc, [impl = impl_.get(), c] { impl->start(c); });
    }
    return group;
}

void SlowClients::close(std::size_t group, std::size_t count) {
    std::promise<void> done;
    asio::post(impl_->ioc, [impl = impl_.get(), group, count, &done] {
        std::size_t left = count;
        std::vector<std::shared_ptr<Impl::Connection>> members;
        {
            std::lock_guard lock(impl->mutex);
            members = impl->groups.at(group);
        }
        for (auto& c : members) {
            if (left == 0) {
                break;
            }
            bool open = false;
            {
                std::lock_guard lock(impl->mutex);
                open = !c->outcome.closed;
            }
            if (open && !c->closed_by_us) {
                Impl::close_now(*c);
                --left;
            }
        }
        done.set_value();
    });
    done.get_future().wait();
}

std::vector<SlowConnection> SlowClients::connections(std::size_t group) const {
    std::lock_guard lock(impl_->mutex);
    std::vector<SlowConnection> out;
    for (const auto& c : impl_->groups.at(group)) {
        out.push_back(c->outcome);
    }
    return out;
}

std::size_t SlowClients::closed_by_server(std::size_t group) const {
    std::lock_guard lock(impl_->mutex);
    std::size_t n = 0;
    for (const auto& c : impl_->groups.at(group)) {
        n += c->outcome.closed ? 1 : 0;
    }
    return n;
}

std::size_t SlowClients::closed_by_server() const {
    std::size_t n = 0;
    std::size_t groups = 0;
    {
        std::lock_guard lock(impl_->mutex);
        groups = impl_->groups.size();
    }
    for (std::size_t g = 0; g < groups; ++g) {
        n += closed_by_server(g);
    }
    return n;
}

::testing::AssertionResult closed_within(const std::vector<SlowConnection>& connections,
                                         std::chrono::milliseconds at_least,
                                         std::chrono::milliseconds slack,
                                         std::chrono::milliseconds early) {
    using std::chrono::milliseconds;
    milliseconds shortest = milliseconds::max();
    milliseconds longest{0};
    for (std::size_t i = 0; i < connections.size(); ++i) {
        const auto lifetime = connections[i].lifetime();
        if (!lifetime) {
            return ::testing::AssertionFailure() << "connection " << i << " is still open";
        }
        shortest = std::min(shortest, *lifetime);
        longest = std::max(longest, *lifetime);
    }
    if (shortest < at_least - early || longest > at_least + slack) {
        return ::testing::AssertionFailure()
               << "closed after " << shortest.count() << ".." << longest.count() << " ms, expected "
               << at_least.count() << " ms (+" << slack.count() << ")";
    }
    return ::testing::AssertionSuccess() << shortest.count() << ".." << longest.count() << " ms";
}

}  // namespace wagate::test
