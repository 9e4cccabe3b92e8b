#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <wagate/core/error.hpp>

#include "sandbox/status_plan.hpp"

namespace wagate::sandbox {

struct PosterState;  // webhook_poster.cpp

struct PosterSettings {
    std::string url;
    std::string secret;
    std::size_t max_pending = 100'000;
    std::chrono::milliseconds retry_initial{250};
    std::chrono::milliseconds retry_max{30'000};
    std::chrono::milliseconds give_up_after{std::chrono::hours(1)};
};

struct PosterCounts {
    std::uint64_t posted = 0;           // POSTs the gateway answered 2xx (each copy counts)
    std::uint64_t pending = 0;          // webhooks (copies) queued and not yet acknowledged or given up
    std::uint64_t failed_attempts = 0;  // POSTs that failed or got a non-2xx answer
    std::uint64_t dropped = 0;          // webhooks refused because the queue was full
    std::uint64_t given_up = 0;         // webhooks abandoned after give_up_after
};

/// Posts signed webhooks to the gateway. Each message's statuses go out in their planned order,
/// each one retried until the gateway answers 2xx (backoff from retry_initial, doubling, up to
/// retry_max; abandoned after give_up_after), so a gateway that is down delays webhooks but never
/// the sandbox's answers. At most max_pending webhooks wait in memory. Thread-safe.
class WebhookPoster {
public:
    WebhookPoster(boost::asio::any_io_executor executor, PosterSettings settings);
    ~WebhookPoster();
    WebhookPoster(const WebhookPoster&) = delete;
    WebhookPoster& operator=(const WebhookPoster&) = delete;

    /// Queues one message's statuses, to be posted `post_after` from now; false (and counted as
    /// dropped) when they would not fit in the queue.
    bool enqueue(const std::string& phone_number_id, const std::vector<PlannedStatus>& plan);

    /// Posts `body` once, signed, and returns the gateway's answer status.
    /// Errors: kNetwork, kTimeout (the gateway could not be reached).
    boost::asio::awaitable<Result<int>> post_once(std::string body);

    PosterCounts counts() const noexcept;

    /// Pending webhooks stop at their next wake-up instead of posting.
    void stop() noexcept;

private:
    std::shared_ptr<PosterState> state_;
};

}  // namespace wagate::sandbox
