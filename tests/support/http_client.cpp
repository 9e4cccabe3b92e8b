#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace wagate::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

struct HttpClient::Impl {
    unsigned short port;
    asio::io_context ioc;
    std::unique_ptr<beast::tcp_stream> stream;
    beast::flat_buffer buffer;

    void connect() {
        stream = std::make_unique<beast::tcp_stream>(ioc);
        stream->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        buffer.clear();
    }

    static HttpResult convert(bhttp::response<bhttp::string_body>& res) {
        HttpResult out;
        out.status = static_cast<int>(res.result_int());
        for (const auto& f : res) {
            std::string name(f.name_string());
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            out.headers[name] = std::string(f.value());
        }
        out.body = res.body();
        out.closed = !res.keep_alive();
        return out;
    }
};

HttpClient::HttpClient(unsigned short port) : impl_(std::make_unique<Impl>()) { impl_->port = port; }
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;

HttpResult HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!impl_->stream) {
            impl_->connect();
        }
        bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
        req.set(bhttp::field::host, "127.0.0.1");
        for (const auto& [k, v] : headers) {
            req.set(k, v);
        }
        req.body() = body;
        if (!body.empty() || method == "POST" || method == "PUT") {
            req.prepare_payload();
        }
        beast::error_code ec;
        impl_->stream->expires_after(std::chrono::seconds(30));
        bhttp::write(*impl_->stream, req, ec);
        bhttp::response<bhttp::string_body> res;
        if (!ec) {
            bhttp::response_parser<bhttp::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            bhttp::read(*impl_->stream, impl_->buffer, parser, ec);
            if (!ec) {
                res = parser.release();
            }
        }
        if (ec) {
            // The server may have closed an idle keep-alive connection: retry once on a new one.
            impl_->stream.reset();
            if (attempt == 1) {
                throw std::runtime_error("HTTP request failed: " + ec.message());
            }
            continue;
        }
        HttpResult out = Impl::convert(res);
        if (out.closed) {
            impl_->stream.reset();
        }
        return out;
    }
    return {};
}

HttpResult HttpClient::post_json(const std::string& target, const std::string& body, const std::string& bearer,
                                 std::vector<std::pair<std::string, std::string>> headers) {
    headers.emplace_back("Content-Type", "application/json");
    if (!bearer.empty()) {
        headers.emplace_back("Authorization", "Bearer " + bearer);
    }
    return request("POST", target, body, headers);
}

HttpResult HttpClient::get(const std::string& target, const std::string& bearer) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!bearer.empty()) {
        headers.emplace_back("Authorization", "Bearer " + bearer);
    }
    return request("GET", target, {}, headers);
}

HttpResult HttpClient::raw(const std::string& raw, int chunks, std::chrono::milliseconds timeout) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), impl_->port));
    const std::size_t step = (raw.size() + static_cast<std::size_t>(chunks) - 1) / static_cast<std::size_t>(chunks);
    beast::error_code ec;
    for (std::size_t off = 0; off < raw.size() && !ec; off += step) {
        asio::write(stream.socket(), asio::buffer(raw.data() + off, std::min(step, raw.size() - off)), ec);
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    stream.expires_after(timeout);
    bhttp::read(stream, buffer, parser, ec);
    if (ec) {
        HttpResult closed;
        closed.closed = true;
        return closed;
    }
    auto res = parser.release();
    return Impl::convert(res);
}

}  // namespace wagate::test
