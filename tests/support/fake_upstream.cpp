#include "support/fake_upstream.hpp"

#include <condition_variable>
#include <map>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <wagate/http/router.hpp>
#include <wagate/http/server.hpp>

namespace wagate::test {
namespace asio = boost::asio;

struct FakeUpstream::Impl {
    Script script;
    asio::io_context ioc;
    http::Router router;
    std::unique_ptr<http::Server> server;
    std::thread thread;
    bool tls = false;

    mutable std::mutex mutex;
    mutable std::condition_variable arrived;
    std::vector<UpstreamRequest> requests;
    std::map<std::string, int> seen_bodies;
    int accepted = 0;

    asio::awaitable<http::Response> handle(http::Request& request) {
        UpstreamRequest r{std::chrono::steady_clock::now(), request.path, std::string(request.header("authorization")),
                          request.body};
        int index = 0;
        std::string default_wamid;
        {
            std::lock_guard lock(mutex);
            index = seen_bodies[r.body]++;
            default_wamid = "wamid.fake." + std::to_string(++accepted);
            requests.push_back(r);
        }
        arrived.notify_all();
        UpstreamReply reply = script ? script(r, index) : accept(default_wamid);
        if (reply.delay.count() > 0) {
            asio::steady_timer timer(co_await asio::this_coro::executor, reply.delay);
            boost::system::error_code ignored;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        }
        co_return reply.response;
    }
};

FakeUpstream::FakeUpstream(Script script, std::string tls_cert_file, std::string tls_key_file)
    : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    s.script = std::move(script);
    s.tls = !tls_cert_file.empty();
    s.router.add("POST", "/{version}/{phone_number_id}/messages", 1 << 20,
                 [&s](http::Request& request, const http::PathParams&) { return s.handle(request); });
    http::ServerSettings settings;
    settings.listen = "127.0.0.1:0";
    settings.tls_cert_file = std::move(tls_cert_file);
    settings.tls_key_file = std::move(tls_key_file);
    s.server = std::make_unique<http::Server>(
        s.ioc.get_executor(), settings, s.router,
        [](int status, std::string_view details, const std::string&) {
            return http::Response{status, "text/plain", {}, std::string(details)};
        },
        [](const http::RequestRecord&) {});
    if (auto started = s.server->start(); !started) {
        throw std::runtime_error("fake upstream did not start: " + started.error().message);
    }
    s.thread = std::thread([&s] { s.ioc.run(); });
}

FakeUpstream::~FakeUpstream() {
    impl_->ioc.stop();
    impl_->thread.join();
}

unsigned short FakeUpstream::port() const { return impl_->server->port(); }

std::string FakeUpstream::url() const {
    return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

std::vector<UpstreamRequest> FakeUpstream::requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->requests;
}

std::size_t FakeUpstream::count() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->requests.size();
}

bool FakeUpstream::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->arrived.wait_for(lock, timeout, [&] { return impl_->requests.size() >= n; });
}

UpstreamReply FakeUpstream::accept(const std::string& wamid) {
    const nlohmann::json body = {{"messaging_product", "whatsapp"},
                                 {"contacts", nlohmann::json::array()},
                                 {"messages", nlohmann::json::array({{{"id", wamid}}})}};
    return UpstreamReply{http::Response{200, "application/json", {}, body.dump()}, {}};
}

UpstreamReply FakeUpstream::graph_error(int http_status, int code, const std::string& title, const std::string& details) {
    const nlohmann::json body = {
        {"error",
         {{"message", "(#" + std::to_string(code) + ") " + title},
          {"type", "OAuthException"},
          {"code", code},
          {"error_data", {{"messaging_product", "whatsapp"}, {"details", details}}},
          {"fbtrace_id", "AbCdEf"}}}};
    return UpstreamReply{http::Response{http_status, "application/json", {}, body.dump()}, {}};
}

}  // namespace wagate::test
