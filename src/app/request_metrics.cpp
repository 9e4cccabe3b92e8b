#include <wagate/app/request_metrics.hpp>

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include <wagate/domain/api_error.hpp>
#include <wagate/http/server.hpp>
#include <wagate/metrics/registry.hpp>

namespace wagate::app {

namespace {
/// Methods a client invents would each make a series: those are counted as "OTHER".
std::string_view known_method(std::string_view method) {
    for (std::string_view known : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}) {
        if (method == known) {
            return known;
        }
    }
    return "OTHER";
}
}  // namespace

struct RequestMetrics::Impl {
    metrics::Registry& registry;
    metrics::Counter& accepted;

    // The series of each (method, route, status) seen, so a request costs one small map lookup
    // under this lock rather than the registry's label rendering.
    struct Series {
        metrics::Counter* requests = nullptr;
        metrics::Histogram* latency = nullptr;
    };
    std::mutex mutex;
    std::map<std::tuple<std::string, std::string, int>, Series, std::less<>> series;

    explicit Impl(metrics::Registry& r)
        : registry(r),
          accepted(r.counter("wagate_messages_total", "Messages by status recorded by this instance",
                             {{"status", "accepted"}})) {}

    Series& series_for(std::string_view method, std::string_view route, int status) {
        std::lock_guard lock(mutex);
        auto key = std::make_tuple(std::string(method), std::string(route), status);
        auto it = series.find(key);
        if (it != series.end()) {
            return it->second;
        }
        const metrics::Labels route_labels{{"method", std::string(method)}, {"route", std::string(route)}};
        metrics::Labels labels = route_labels;
        labels.emplace_back("status", std::to_string(status));
        Series s;
        s.requests = &registry.counter("wagate_http_requests_total", "HTTP requests answered, by route and status", labels);
        s.latency = &registry.histogram("wagate_http_request_duration_seconds",
                                        "Time from the first byte of a request to its answer being written", route_labels);
        return series.emplace(std::move(key), s).first->second;
    }
};

RequestMetrics::RequestMetrics(metrics::Registry& registry) : impl_(std::make_unique<Impl>(registry)) {}
RequestMetrics::~RequestMetrics() = default;

void RequestMetrics::record(const http::RequestRecord& r) {
    const std::string_view method = known_method(r.request->method);
    Impl::Series& s = impl_->series_for(method, r.route, r.status);
    s.requests->add();
    s.latency->observe(static_cast<double>(r.latency.count()) / 1e6);
    const bool send_route = method == "POST" && r.route.ends_with("/messages");
    if (!send_route) {
        return;
    }
    if (r.status == 200) {
        impl_->accepted.add();
    } else if (r.error_code != 0) {
        impl_->registry
            .counter("wagate_send_rejections_total", "Send requests refused, by reason and Graph error code",
                     {{"reason", std::string(domain::api_errors::rejection_reason(r.error_code))},
                      {"code", std::to_string(r.error_code)}})
            .add();
    }
}

}  // namespace wagate::app
