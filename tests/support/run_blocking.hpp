#pragma once

#include <exception>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace wagate::test {

/// Runs `task` on a fresh io_context with `threads` threads until it completes; returns its value.
/// Rethrows an exception that escapes the task.
template <class T>
T run_blocking(boost::asio::awaitable<T> task, int threads = 1) {
    boost::asio::io_context ioc;
    std::optional<T> value;
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e) {
            value.emplace(std::move(v));
        }
    });
    std::vector<std::thread> extra;
    for (int i = 1; i < threads; ++i) {
        extra.emplace_back([&ioc] { ioc.run(); });
    }
    ioc.run();
    for (auto& t : extra) {
        t.join();
    }
    if (error) {
        std::rethrow_exception(error);
    }
    return std::move(*value);
}

/// Runs `task` on `executor`, whose io_context other threads are already running, and waits for
/// it; returns its value. Rethrows an exception that escapes the task.
template <class T, class Executor>
T run_on(const Executor& executor, boost::asio::awaitable<T> task) {
    std::promise<T> promise;
    auto future = promise.get_future();
    boost::asio::co_spawn(executor, std::move(task), [&promise](std::exception_ptr e, T value) {
        if (e) {
            promise.set_exception(e);
        } else {
            promise.set_value(std::move(value));
        }
    });
    return future.get();
}

}  // namespace wagate::test
