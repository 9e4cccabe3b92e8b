#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <wagate/core/error.hpp>

namespace wagate::http {
struct RequestRecord;
}

namespace wagate::sandbox {

/// The WABA id the sandbox writes into `entry[].id` of every webhook (docs/sandbox.md).
inline constexpr const char* kSandboxWabaId = "sandbox-waba";

/// Everything `wagate sandbox` does is set here (docs/sandbox.md); the CLI fills it from the
/// `sandbox_*` settings and the first of `meta_app_secrets`.
struct SandboxSettings {
    std::string listen = "127.0.0.1:8090";
    std::string webhook_url = "http://127.0.0.1:8080/webhooks/meta";
    std::string app_secret;  // signs every webhook (X-Hub-Signature-256)

    bool webhooks = true;  // post status webhooks for accepted messages
    std::chrono::milliseconds status_delay{300};
    bool read = true;  // end with `read`; else `delivered`
    double fail_rate = 0;
    double duplicate_rate = 0;
    double reorder_rate = 0;
    double throttle_rate = 0;
    double server_error_rate = 0;
    std::chrono::milliseconds latency{0};
    std::uint64_t seed = 0;  // 0: a random seed

    // Bounds and retry timing; not settings of the CLI, but tests shorten them.
    std::size_t max_pending_webhooks = 100'000;
    std::size_t max_recorded_messages = 1'000'000;
    std::size_t max_body_bytes = 1024 * 1024;
    std::chrono::milliseconds retry_initial{250};
    std::chrono::milliseconds retry_max{30'000};
    std::chrono::milliseconds give_up_after{std::chrono::hours(1)};
};

/// Every problem that stops a sandbox from starting (missing secret, rates outside 0..1, a
/// webhook URL that is not http(s)); empty means usable.
std::vector<std::string> check_settings(const SandboxSettings& settings);

/// A local stand-in for Meta's Cloud API (contract §5.4): answers sends like Meta, with
/// documented trigger inputs and fault injection, and posts signed status and inbound webhooks
/// to the gateway. State (the accepted sends and the counts) is in memory only. Thread-safe.
/// Destroy it only once the executor's threads have stopped (its handlers refer to it).
class Sandbox {
public:
    using RequestLog = std::function<void(const http::RequestRecord&)>;

    Sandbox(boost::asio::any_io_executor executor, SandboxSettings settings, RequestLog on_request = {});
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    /// Binds `listen` and starts answering. Errors: kInvalidArgument (bad address or settings),
    /// kInternal (bind failed).
    Result<void> start();
    /// The bound port (useful with port 0).
    unsigned short port() const noexcept;
    /// Stops accepting and lets in-flight requests finish (up to `grace`), then calls `done`.
    /// Webhooks not yet posted are abandoned once the executor stops.
    void stop(std::chrono::milliseconds grace, std::function<void()> done);

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

/// `wagate sandbox`: runs a sandbox on `threads` threads of its own until SIGINT or SIGTERM.
Result<void> run_until_signal(SandboxSettings settings, int threads, Sandbox::RequestLog on_request);

}  // namespace wagate::sandbox
