#include <wagate/sandbox/sandbox.hpp>

#include <csignal>
#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

namespace wagate::sandbox {
namespace asio = boost::asio;

Result<void> run_until_signal(SandboxSettings settings, int threads, Sandbox::RequestLog on_request) {
    asio::io_context ioc(threads);
    auto work = asio::make_work_guard(ioc);
    // Registered before the threads start, so a signal that arrives early is not lost.
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    std::promise<int> received;
    signals.async_wait([&received](const boost::system::error_code& ec, int signal) {
        received.set_value(ec ? 0 : signal);
    });
    Sandbox sandbox(ioc.get_executor(), std::move(settings), std::move(on_request));
    if (auto started = sandbox.start(); !started) {
        return started.error();
    }
    std::vector<std::thread> pool;
    for (int i = 0; i < std::max(threads, 1); ++i) {
        pool.emplace_back([&ioc] { ioc.run(); });
    }
    const int signal = received.get_future().get();
    spdlog::info("signal {} received: stopping the sandbox", signal);
    std::promise<void> drained;
    sandbox.stop(std::chrono::seconds(5), [&drained] { drained.set_value(); });
    drained.get_future().wait_for(std::chrono::seconds(7));
    work.reset();
    ioc.stop();
    for (auto& t : pool) {
        t.join();
    }
    spdlog::info("sandbox stopped");
    spdlog::default_logger()->flush();  // the logger flushes by itself only from warn up
    return {};
}

}  // namespace wagate::sandbox
