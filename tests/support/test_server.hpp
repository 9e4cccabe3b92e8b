#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <wagate/http/router.hpp>
#include <wagate/http/server.hpp>

namespace wagate::test {

/// An http::Server alone on 127.0.0.1:0, on its own io_context run by two threads (the gateway's
/// default), for tests of the server itself. Add routes to router() before start(). Error
/// responses are text/plain with the details as body.
class TestServer {
public:
    TestServer();
    /// Stops the server (no grace) and joins the threads.
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    http::Router& router() { return router_; }
    /// Starts with `settings` (its `listen` is replaced by 127.0.0.1:0).
    Result<void> start(http::ServerSettings settings);
    http::Server& server() { return *server_; }
    unsigned short port() const { return server_->port(); }
    boost::asio::io_context& io_context() { return ioc_; }

private:
    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::vector<std::thread> threads_;
    http::Router router_;
    std::unique_ptr<http::Server> server_;
};

}  // namespace wagate::test
