#pragma once

#include <memory>

namespace wagate::http {
struct RequestRecord;
}
namespace wagate::metrics {
class Registry;
}

namespace wagate::app {

/// Turns each answered request into metrics (contract §8): requests by route, method and
/// status, latency by route and method, and the send API's refusals by reason and code, and
/// acceptances. Labels are route patterns, never raw paths. Thread-safe.
class RequestMetrics {
public:
    explicit RequestMetrics(metrics::Registry& registry);
    ~RequestMetrics();
    RequestMetrics(const RequestMetrics&) = delete;
    RequestMetrics& operator=(const RequestMetrics&) = delete;

    void record(const http::RequestRecord& record);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace wagate::app
