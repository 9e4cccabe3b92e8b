#include <gtest/gtest.h>
#include <wagate/http/router.hpp>

namespace wagate::http {
namespace {

Handler noop() {
    return [](Request&, const PathParams&) -> boost::asio::awaitable<Response> { co_return Response{}; };
}

class RouterTest : public ::testing::Test {
protected:
    void SetUp() override {
        router_.add("POST", "/{version}/{phone_number_id}/messages", 100, noop());
        router_.add("POST", "/{phone_number_id}/messages", 100, noop());
        router_.add("POST", "/v1/messages", 100, noop());
        router_.add("GET", "/v1/messages/{id}", 0, noop());
    }
    Router router_;
};

TEST_F(RouterTest, MatchesVersionedAndUnversionedSendRoutes) {
    auto m = router_.match("POST", "/v23.0/106540352242922/messages");
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->pattern, "/{version}/{phone_number_id}/messages");
    EXPECT_EQ(m.params.at("version"), "v23.0");
    EXPECT_EQ(m.params.at("phone_number_id"), "106540352242922");

    m = router_.match("POST", "/106540352242922/messages");
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->pattern, "/{phone_number_id}/messages");
}

TEST_F(RouterTest, LiteralSegmentsWinOverCaptures) {
    auto m = router_.match("POST", "/v1/messages");
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->pattern, "/v1/messages");
}

TEST_F(RouterTest, RejectsMalformedVersionSegments) {
    for (const char* path : {"/v23/1/messages", "/23.0/1/messages", "/v23.0.1/1/messages", "/vx.0/1/messages",
                             "/v.0/1/messages", "/v23./1/messages"}) {
        EXPECT_EQ(router_.match("POST", path).route, nullptr) << path;
    }
}

TEST_F(RouterTest, ReportsKnownPathUnderAnotherMethod) {
    auto m = router_.match("GET", "/v1/messages");
    EXPECT_EQ(m.route, nullptr);
    EXPECT_TRUE(m.path_known);
    m = router_.match("GET", "/nothing/here");
    EXPECT_FALSE(m.path_known);
}

TEST_F(RouterTest, IdentifierCapturesRefuseOddCharacters) {
    EXPECT_EQ(router_.match("POST", "/v23.0/12%2034/messages").route, nullptr);
    EXPECT_EQ(router_.match("POST", "/v23.0//messages").route, nullptr);
    EXPECT_EQ(router_.match("GET", "/v1/messages/wagate.0123").route->pattern, "/v1/messages/{id}");
}

}  // namespace
}  // namespace wagate::http
