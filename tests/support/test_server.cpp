#include "support/test_server.hpp"

#include <future>

namespace wagate::test {

TestServer::TestServer() : work_(ioc_.get_executor()) {
    for (int i = 0; i < 2; ++i) {
        threads_.emplace_back([this] { ioc_.run(); });
    }
}

TestServer::~TestServer() {
    if (server_) {
        std::promise<void> stopped;
        server_->stop(std::chrono::milliseconds(0), [&stopped] { stopped.set_value(); });
        stopped.get_future().wait();
        server_.reset();
    }
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) {
        t.join();
    }
}

Result<void> TestServer::start(http::ServerSettings settings) {
    settings.listen = "127.0.0.1:0";
    server_ = std::make_unique<http::Server>(
        ioc_.get_executor(), std::move(settings), router_,
        [](int status, std::string_view details, const std::string&) {
            http::Response r;
            r.status = status;
            r.content_type = "text/plain";
            r.body = std::string(details);
            return r;
        },
        [](const http::RequestRecord&) {});
    return server_->start();
}

}  // namespace wagate::test
