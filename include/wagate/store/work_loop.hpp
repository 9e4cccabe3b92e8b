#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <wagate/core/error.hpp>

// What the loops that work through the store's queues (the relay, the event deliverer) share:
// waking a claim loop, and recording a result until the database takes it.
namespace wagate::store {

/// Waits on `timer` until it expires or is cancelled; never throws.
inline boost::asio::awaitable<void> wait_quietly(boost::asio::steady_timer& timer) {
    boost::system::error_code ignored;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
}

/// The idle wait of a claim loop running on one strand: notify(), from any thread, ends the
/// current idle() at once, and a notify() that comes while the loop is busy makes its next idle()
/// return at once, so work that arrives between a claim and the wait is never left for the poll.
class Wakeup {
public:
    explicit Wakeup(boost::asio::strand<boost::asio::any_io_executor> strand)
        : strand_(strand), state_(std::make_shared<State>(strand)) {}

    void notify() {
        state_->pending.store(true);
        boost::asio::post(strand_, [state = state_] { state->timer.cancel(); });
    }

    /// Until notify() or `timeout`. Call on the strand only.
    boost::asio::awaitable<void> idle(std::chrono::milliseconds timeout) {
        auto state = state_;
        if (state->pending.exchange(false)) {
            co_return;
        }
        state->timer.expires_after(timeout);
        co_await wait_quietly(state->timer);
        state->pending.store(false);
    }

private:
    struct State {
        explicit State(boost::asio::strand<boost::asio::any_io_executor> s) : timer(s) {}
        boost::asio::steady_timer timer;
        std::atomic<bool> pending{false};
    };
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    std::shared_ptr<State> state_;
};

/// Runs `record()` (an awaitable Result<void>) until it succeeds, backing off from 100 ms to 5 s,
/// for as long as `patience` allows; returns the last failure otherwise. `on_retry(error)` is
/// called before each wait. A result that is never recorded means the work is done again by
/// whoever claims it after the lease, so the patience is the lease.
template <class Record, class OnRetry>
boost::asio::awaitable<Result<void>> record_patiently(Record record, OnRetry on_retry,
                                                      std::chrono::milliseconds patience) {
    const auto give_up = std::chrono::steady_clock::now() + patience;
    std::chrono::milliseconds backoff{100};
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    for (;;) {
        auto recorded = co_await record();
        if (recorded || std::chrono::steady_clock::now() + backoff >= give_up) {
            co_return recorded;
        }
        on_retry(recorded.error());
        timer.expires_after(backoff);
        co_await wait_quietly(timer);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5'000));
    }
}

}  // namespace wagate::store
