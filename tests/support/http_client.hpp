#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace wagate::test {

struct HttpResult {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    bool closed = false;  // the server closed the connection after answering
};

/// A blocking HTTP/1.1 client on one keep-alive connection to 127.0.0.1:port, for tests.
/// Reconnects transparently when the server closed the previous connection.
class HttpClient {
public:
    explicit HttpClient(unsigned short port);
    ~HttpClient();
    HttpClient(HttpClient&&) noexcept;

    HttpResult request(const std::string& method, const std::string& target, const std::string& body = {},
                       const std::vector<std::pair<std::string, std::string>>& headers = {});
    /// POST with Content-Type: application/json and, when given, a Bearer token.
    HttpResult post_json(const std::string& target, const std::string& body, const std::string& bearer = {},
                         std::vector<std::pair<std::string, std::string>> headers = {});
    HttpResult get(const std::string& target, const std::string& bearer = {});

    /// Sends `raw` bytes on a fresh connection and reads one response (or until close/timeout).
    /// `chunks` > 1 splits the bytes into that many writes.
    HttpResult raw(const std::string& raw, int chunks = 1,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace wagate::test
