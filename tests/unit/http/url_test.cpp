#include <gtest/gtest.h>
#include <wagate/http/client.hpp>

namespace wagate::http {
namespace {

TEST(ParseUrl, SplitsSchemeHostPortAndTarget) {
    struct Case {
        const char* url;
        bool tls;
        const char* host;
        unsigned short port;
        const char* target;
        const char* authority;
    };
    const Case cases[] = {
        {"https://graph.facebook.com/v23.0/123/messages", true, "graph.facebook.com", 443, "/v23.0/123/messages",
         "graph.facebook.com"},
        {"http://127.0.0.1:8080/a?b=c&d", false, "127.0.0.1", 8080, "/a?b=c&d", "127.0.0.1:8080"},
        {"HTTPS://Example.COM", true, "example.com", 443, "/", "example.com"},
        {"https://example.com?x=1", true, "example.com", 443, "/?x=1", "example.com"},
        {"https://example.com/p#fragment", true, "example.com", 443, "/p", "example.com"},
        {"https://example.com:443/", true, "example.com", 443, "/", "example.com"},
        {"http://example.com:443/", false, "example.com", 443, "/", "example.com:443"},
        {"https://[::1]:4443/x", true, "::1", 4443, "/x", "[::1]:4443"},
        {"http://[2001:DB8::1]/", false, "2001:db8::1", 80, "/", "[2001:db8::1]"},
        {"https://my_host.internal:65535/", true, "my_host.internal", 65535, "/", "my_host.internal:65535"},
    };
    for (const auto& c : cases) {
        auto url = parse_url(c.url);
        ASSERT_TRUE(url) << c.url << ": " << url.error().message;
        EXPECT_EQ(url->tls, c.tls) << c.url;
        EXPECT_EQ(url->host, c.host) << c.url;
        EXPECT_EQ(url->port, c.port) << c.url;
        EXPECT_EQ(url->target, c.target) << c.url;
        EXPECT_EQ(url->authority(), c.authority) << c.url;
    }
}

TEST(ParseUrl, TellsIpLiteralsFromNames) {
    EXPECT_TRUE(parse_url("https://127.0.0.1/")->ip_literal);
    EXPECT_TRUE(parse_url("https://[::1]/")->ip_literal);
    EXPECT_FALSE(parse_url("https://localhost/")->ip_literal);
    EXPECT_FALSE(parse_url("https://127.0.0.1.example/")->ip_literal);
}

TEST(ParseUrl, RefusesMalformedUrls) {
    for (const char* url : {"", "graph.facebook.com/v1", "ftp://host/", "https:/host/", "https//host/", "https://",
                            "https:///path", "https://:443/", "https://host:/", "https://host:0/",
                            "https://host:65536/", "https://host:-1/", "https://host:+80/", "https://host:80x/",
                            "https://user:pw@host/", "https://ho st/", "https://host/a b", "https://host/\r\nX: y",
                            "https://host/\x7f", "https://h\xc3\xa9st/", "https://[::1/", "https://[::1]x/",
                            "https://[not-v6]/", "https://host%2e/", "https://.host/", "https://-host/"}) {
        auto parsed = parse_url(url);
        ASSERT_FALSE(parsed) << url;
        EXPECT_EQ(parsed.error().code, Errc::kInvalidArgument) << url;
    }
}

TEST(ParseUrl, MessagesNeverRepeatThePathOrQuery) {
    auto parsed = parse_url("https://host:99999/v1/messages?access_token=SECRET");
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().message.find("SECRET"), std::string::npos);
    parsed = parse_url("https://host/v1?access_token=SECRET dangling");
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().message.find("SECRET"), std::string::npos);
}

}  // namespace
}  // namespace wagate::http
