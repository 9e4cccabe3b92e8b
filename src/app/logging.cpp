#include <wagate/app/logging.hpp>

#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <wagate/core/masking.hpp>
#include <wagate/http/server.hpp>

namespace wagate::app {
namespace {

// Messages that begin with this byte already are JSON members (built by log_request); any other
// message is escaped into a "msg" member.
constexpr char kStructured = '\x1e';
bool g_json = true;

/// The message as text, phone numbers masked to their last four digits.
class MaskedMessageFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        const std::string out = mask_phone_numbers(std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(out.data(), out.data() + out.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<MaskedMessageFlag>();
    }
};

/// The message as JSON members, phone numbers masked to their last four digits.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        const std::string masked = mask_phone_numbers(std::string_view(msg.payload.data(), msg.payload.size()));
        const std::string_view text(masked);
        std::string out;
        if (!text.empty() && text.front() == kStructured) {
            out = std::string(text.substr(1));
        } else {
            out = "\"msg\":" + nlohmann::json(std::string(text)).dump(-1, ' ', false,
                                                                        nlohmann::json::error_handler_t::replace);
        }
        dest.append(out.data(), out.data() + out.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JsonMessageFlag>();
    }
};

}  // namespace

void configure_logging(const std::string& level, const std::string& format, LogStream stream) {
    spdlog::sink_ptr sink;
    if (stream == LogStream::kStderr) {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
        sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    }
    auto logger = std::make_shared<spdlog::logger>("wagate", std::move(sink));
    g_json = format == "json";
    if (g_json) {
        auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
        formatter->add_flag<JsonMessageFlag>('*').set_pattern(
            R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%*})");
        logger->set_formatter(std::move(formatter));
    } else {
        auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
        formatter->add_flag<MaskedMessageFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %*");
        logger->set_formatter(std::move(formatter));
    }
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
}

void log_request(const http::RequestRecord& r) {
    if (!spdlog::should_log(spdlog::level::info)) {
        return;
    }
    const double ms = static_cast<double>(r.latency.count()) / 1000.0;
    if (g_json) {
        nlohmann::json fields = {{"msg", "request"},       {"request_id", r.request->request_id},
                                 {"method", r.request->method}, {"route", r.route},
                                 {"status", r.status},      {"latency_ms", ms},
                                 {"bytes", r.response_bytes}};
        std::string text = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        // Strip the braces: the pattern supplies the enclosing object.
        spdlog::info("{}{}", kStructured, std::string_view(text).substr(1, text.size() - 2));
    } else {
        spdlog::info("request id={} {} {} status={} {:.3f}ms bytes={}", r.request->request_id,
                     r.request->method, r.route, r.status, ms, r.response_bytes);
    }
}

}  // namespace wagate::app
