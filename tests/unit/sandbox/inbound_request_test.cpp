// POST /sandbox/v1/inbound: what a simulated user may write, and the errors naming the field.

#include <gtest/gtest.h>

#include <string>

#include "sandbox/inbound_request.hpp"

namespace wagate::sandbox {
namespace {

constexpr std::int64_t kNow = 1'750'000'000;

TEST(SandboxInboundRequest, ReadsATextMessage) {
    auto m = parse_inbound_request(
        R"({"phone_number_id":"1001","from":"16505551234","type":"text","text":{"body":"hi"}})", kNow);
    ASSERT_TRUE(m) << m.error().details;
    EXPECT_EQ(m->phone_number_id, "1001");
    EXPECT_EQ(m->from, "16505551234");
    EXPECT_EQ(m->type, "text");
    EXPECT_EQ(m->profile_name, "Sandbox User");
    EXPECT_EQ(m->timestamp, kNow);
    ASSERT_EQ(m->members.size(), 1u);
    EXPECT_EQ(m->members[0].first, "text");
    EXPECT_EQ(m->members[0].second, R"({"body":"hi"})");
}

TEST(SandboxInboundRequest, CopiesAnyTypeAndTheOptionalMembersThrough) {
    auto m = parse_inbound_request(R"({"phone_number_id":"1001","from":"1650","type":"interactive","name":"Ana",)"
                                   R"("timestamp":"1700000000","context":{"id":"wamid.b"},)"
                                   R"("interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Yes"}}})",
                                   kNow);
    ASSERT_TRUE(m) << m.error().details;
    EXPECT_EQ(m->profile_name, "Ana");
    EXPECT_EQ(m->timestamp, 1'700'000'000);
    ASSERT_EQ(m->members.size(), 2u);
    EXPECT_EQ(m->members[0].first, "interactive");
    EXPECT_EQ(m->members[1].first, "context");

    m = parse_inbound_request(R"({"phone_number_id":"1001","from":"1650","type":"contacts","timestamp":1700000001,)"
                              R"("contacts":[{"name":{"formatted_name":"Bo"}}]})",
                              kNow);
    ASSERT_TRUE(m) << m.error().details;
    EXPECT_EQ(m->timestamp, 1'700'000'001);
}

TEST(SandboxInboundRequest, ErrorsNameTheField) {
    struct Case {
        const char* body;
        int code;
        const char* details_start;
    };
    const Case cases[] = {
        {R"({"from":"1650","type":"text","text":{"body":"x"}})", 131008, "phone_number_id: required"},
        {R"({"phone_number_id":"1001","type":"text","text":{"body":"x"}})", 131008, "from: required"},
        {R"({"phone_number_id":"1001","from":"1650","text":{"body":"x"}})", 131008, "type: required"},
        {R"({"phone_number_id":"1001","from":"+1650","type":"text","text":{"body":"x"}})", 131009, "from:"},
        {R"({"phone_number_id":"1001","from":1650,"type":"text","text":{"body":"x"}})", 131009, "from:"},
        {R"({"phone_number_id":"10 01","from":"1650","type":"text","text":{"body":"x"}})", 131009,
         "phone_number_id:"},
        {R"({"phone_number_id":"1001","from":"1650","type":"text"})", 131008, "text: required"},
        {R"({"phone_number_id":"1001","from":"1650","type":"image","image":"x"})", 131009, "image: must be"},
        {R"({"phone_number_id":"1001","from":"1650","type":"text","text":{}})", 131008, "text.body: required"},
        {R"({"phone_number_id":"1001","from":"1650","type":"text","text":{"body":7}})", 131009, "text.body:"},
        {R"({"phone_number_id":"1001","from":"1650","type":"text","text":{"body":"x"},"img":{}})", 100, "img:"},
        {R"({"phone_number_id":"1001","from":"1650","type":"text","text":{"body":"x"},"timestamp":"soon"})", 131009,
         "timestamp:"},
        {R"({"phone_number_id":"1001","from":"1650","type":"text","text":{"body":"x"},"name":5})", 131009, "name:"},
        {R"({"phone_number_id":"1001","from":"1650","type":"text","text":{"body":"x"},"context":[]})", 131009,
         "context:"},
        {R"(not json)", 100, "body:"},
        {R"([1])", 100, "body:"},
    };
    for (const auto& c : cases) {
        auto m = parse_inbound_request(c.body, kNow);
        ASSERT_FALSE(m) << c.body;
        EXPECT_EQ(m.error().code, c.code) << c.body;
        EXPECT_EQ(m.error().http_status, 400) << c.body;
        EXPECT_TRUE(m.error().details.starts_with(c.details_start)) << c.body << " → " << m.error().details;
    }
}

TEST(SandboxInboundRequest, DeepNestingIsRefusedBeforeParsing) {
    const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
    auto m = parse_inbound_request(deep, kNow);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, 100);
    EXPECT_NE(m.error().details.find("nested deeper"), std::string::npos);
    // Brackets inside strings do not nest.
    const std::string text_of_brackets =
        R"({"phone_number_id":"1001","from":"15551234567","type":"text","text":{"body":")" + std::string(100, '[') + R"("}})";
    EXPECT_TRUE(parse_inbound_request(text_of_brackets, kNow));
}

}  // namespace
}  // namespace wagate::sandbox
