#pragma once

#include <string>

namespace wagate::http {
struct RequestRecord;
}

namespace wagate::app {

enum class LogStream { kStdout, kStderr };

/// Configures the default spdlog logger: `format` "json" (one JSON object per line, UTC) or
/// "text"; `level` as spdlog names it. Commands whose stdout is their answer log to stderr.
void configure_logging(const std::string& level, const std::string& format, LogStream stream = LogStream::kStdout);

/// One access-log line: request id, method, route pattern (never the raw path, which may hold a
/// user's number), status, latency and response size. Never the body or any header value.
void log_request(const http::RequestRecord& record);

}  // namespace wagate::app
