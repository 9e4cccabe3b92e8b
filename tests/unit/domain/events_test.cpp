// The wire form of events and the catch-up cursor (contract §7, docs/events.md).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <wagate/domain/events.hpp>

namespace wagate::domain::events {
namespace {

TEST(EventBodyTest, IsCompactAndKeepsTheStoredMemberOrder) {
    // jsonb's text form: spaces after ':' and ',', members ordered by jsonb.
    EXPECT_EQ(delivery_body(R"({"entry": [{"id": "880001", "changes": []}], "object": "whatsapp_business_account"})"),
              R"({"entry":[{"id":"880001","changes":[]}],"object":"whatsapp_business_account"})");
}

TEST(EventBodyTest, WritesNonAsciiAsLowercaseEscapesWithSurrogatePairs) {
    const std::string stored = "{\"body\": \"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE0\xA4\xA8\"}";
    const auto body = delivery_body(stored);
    ASSERT_TRUE(body);
    EXPECT_EQ(*body, R"({"body":"caf\u00e9 \u20ac \ud83d\ude00 \u0928"})");
    for (unsigned char c : *body) {
        EXPECT_LT(c, 0x80) << "every byte is ASCII";
    }
    // The same text, escaped already (and in upper case), comes out identical.
    EXPECT_EQ(delivery_body(R"({"body": "caf\u00E9 \u20AC \uD83D\uDE00 \u0928"})"), *body);
}

TEST(EventBodyTest, IsAFixedPointOfReserialising) {
    const std::string stored =
        "{\"text\": {\"body\": \"\xF0\x9F\x8E\x89 line\\nbreak \\\"quoted\\\" tab\\t\"}, \"n\": 37.4847483695, "
        "\"i\": -12, \"list\": [true, false, null]}";
    const auto body = delivery_body(stored);
    ASSERT_TRUE(body);
    EXPECT_EQ(delivery_body(*body), *body);
    EXPECT_EQ(nlohmann::ordered_json::parse(*body).dump(-1, ' ', true), *body);
    EXPECT_EQ(nlohmann::json::parse(*body), nlohmann::json::parse(stored)) << "the same JSON value";
}

TEST(EventBodyTest, RefusesWhatIsNotJson) {
    EXPECT_FALSE(delivery_body(""));
    EXPECT_FALSE(delivery_body("{\"a\":"));
    EXPECT_FALSE(delivery_body("{} trailing"));
}

TEST(EventCursorTest, RoundTrips) {
    for (const Cursor c : {Cursor{0, 0}, Cursor{1, 1}, Cursor{748, 123456789},
                           Cursor{18446744073709551615ULL, 9223372036854775807LL}}) {
        EXPECT_EQ(parse_cursor(to_string(c)), c) << to_string(c);
    }
    EXPECT_EQ(to_string(Cursor{748, 12}), "748.12");
}

TEST(EventCursorTest, RefusesAnythingElse) {
    for (const char* bad : {"", ".", "1.", ".1", "1", "1.2.3", "01.2", "1.02", "-1.2", "1.-2", "+1.2", "1.+2", " 1.2",
                            "1.2 ", "a.b", "18446744073709551616.1", "1.9223372036854775808", "1,2"}) {
        EXPECT_FALSE(parse_cursor(bad)) << bad;
    }
}

TEST(EventAcknowledgementTest, OnlyA2xxAcknowledges) {
    EXPECT_TRUE(acknowledges(200));
    EXPECT_TRUE(acknowledges(204));
    EXPECT_TRUE(acknowledges(299));
    for (int status : {0, 100, 199, 301, 302, 304, 400, 401, 404, 408, 429, 500, 503}) {
        EXPECT_FALSE(acknowledges(status)) << status;
    }
}

}  // namespace
}  // namespace wagate::domain::events
