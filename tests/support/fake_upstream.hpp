#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <wagate/http/message.hpp>

namespace wagate::test {

/// One request the fake upstream received.
struct UpstreamRequest {
    std::chrono::steady_clock::time_point at;
    std::string path;           // e.g. /v23.0/1001/messages
    std::string authorization;  // the header as received
    std::string body;
};

/// What the fake answers: a response, optionally after holding the request for `delay` (longer
/// than the relay's timeout: a request that gets no answer).
struct UpstreamReply {
    http::Response response;
    std::chrono::milliseconds delay{0};
};

/// A scripted stand-in for Meta's Cloud API on 127.0.0.1 (plain HTTP, or HTTPS with the given
/// certificate): records every request and answers with `script(request, index)`, where index
/// counts requests with the same body (0 for the first), so "fail once, then succeed" scripts
/// are easy. The default script accepts everything with wamid "wamid.fake.<n>".
class FakeUpstream {
public:
    using Script = std::function<UpstreamReply(const UpstreamRequest&, int same_body_index)>;

    explicit FakeUpstream(Script script = {}, std::string tls_cert_file = {}, std::string tls_key_file = {});
    ~FakeUpstream();

    unsigned short port() const;
    std::string url() const;  // http(s)://127.0.0.1:port

    std::vector<UpstreamRequest> requests() const;
    std::size_t count() const;
    /// Waits until at least `n` requests arrived (false after `timeout`).
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;

    static UpstreamReply accept(const std::string& wamid);
    static UpstreamReply graph_error(int http_status, int code, const std::string& title,
                                     const std::string& details = "details");

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace wagate::test
