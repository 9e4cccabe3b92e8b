// domain::webhook::parse_delivery: Meta's webhook bodies (reference/webhooks.md §3–§6) read into
// statuses, inbound messages, tombstones, account updates and per-item failures. The payloads are
// written from the reference; every test pins the exact items, paths and fields produced.
#include <wagate/domain/webhook.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;
using namespace wagate::domain::webhook;

constexpr const char* kWaba = "102290129340398";
constexpr const char* kPhoneId = "106540352242922";
constexpr const char* kUser = "16505551234";
constexpr const char* kWamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=";
constexpr const char* kOutWamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";
constexpr const char* kSha256 = "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=";
constexpr const char* kContact = R"({"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"})";

/// The Cloud API envelope (§3.1) around one change.
std::string cloud_body(const std::string& value, const std::string& field = "messages") {
    return R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":)" +
           value + R"(,"field":")" + field + R"("}]}]})";
}

/// A `messages`-field value for kPhoneId with the given members (without the braces).
std::string messages_value(const std::string& members) {
    return R"({"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881",)"
           R"("phone_number_id":"106540352242922"},)" +
           members + "}";
}

/// A body carrying one inbound message item sent by kUser (with its contacts[] entry).
std::string inbound_body(const std::string& message, const std::string& contacts = std::string("[") + kContact + "]") {
    return cloud_body(messages_value(R"("contacts":)" + contacts + R"(,"messages":[)" + message + "]"));
}

/// A body carrying the given statuses[] items.
std::string statuses_body(const std::string& statuses) {
    return cloud_body(messages_value(R"("statuses":[)" + statuses + "]"));
}

json js(std::string_view text) { return json::parse(text); }

::testing::AssertionResult is_time(const MetaTime& t, std::int64_t seconds) {
    if (!t.known) {
        return ::testing::AssertionFailure() << "time unknown, expected " << seconds;
    }
    if (t.seconds != seconds) {
        return ::testing::AssertionFailure() << "time " << t.seconds << ", expected " << seconds;
    }
    return ::testing::AssertionSuccess();
}

/// A one-line view of the failures, for messages.
std::string failures_of(const ParsedDelivery& d) {
    std::string s;
    for (const auto& f : d.failures) {
        s += f.path + ": " + f.reason + " | " + f.fragment + "\n";
    }
    return s;
}

/// Asserts a body with exactly one inbound message and nothing else; returns a copy of it.
InboundMessage only_message(const ParsedDelivery& d) {
    EXPECT_TRUE(d.failures.empty()) << failures_of(d);
    EXPECT_TRUE(d.statuses.empty());
    EXPECT_TRUE(d.tombstones.empty());
    EXPECT_TRUE(d.account_updates.empty());
    EXPECT_EQ(d.messages.size(), 1u);
    return d.messages.empty() ? InboundMessage{} : d.messages.front();
}

/// Nothing of the special message effects is set.
void expect_plain(const InboundMessage& m) {
    EXPECT_EQ(m.reaction.has_value(), false);
    EXPECT_EQ(m.identity_change.has_value(), false);
    EXPECT_EQ(m.new_number.has_value(), false);
    EXPECT_EQ(m.revokes, std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Inbound messages (§6)

TEST(WebhookInbound, TextMessageWithItsSenderContact) {
    const std::string item =
        R"({"from":"16505551234","id":")" + std::string(kWamid) +
        R"(","timestamp":"1749416383","text":{"body":"Does it come in another color?"},"type":"text"})";
    const auto d = parse_delivery(inbound_body(item));
    const InboundMessage& m = only_message(d);
    EXPECT_EQ(m.path, "entry[0].changes[0].value.messages[0]");
    EXPECT_EQ(m.phone_number_id, kPhoneId);
    EXPECT_EQ(m.wamid, kWamid);
    EXPECT_EQ(m.from, kUser);
    EXPECT_EQ(m.from_user_id, std::nullopt);
    EXPECT_EQ(m.type, "text");
    EXPECT_TRUE(is_time(m.timestamp, 1749416383));
    EXPECT_EQ(js(m.raw_json), js(item));
    EXPECT_EQ(js(m.raw_json)["text"]["body"], "Does it come in another color?");
    ASSERT_TRUE(m.contact_json);
    EXPECT_EQ(js(*m.contact_json), js(kContact));
    EXPECT_EQ(m.identity_key_hash, std::nullopt);
    EXPECT_EQ(m.user_key(), kUser);
    expect_plain(m);
}

TEST(WebhookInbound, ReplyForwardAndClickToWhatsAppReferralAreKeptInTheRawItem) {
    const std::string item = R"({"context":{"from":"15550783881","id":"wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQjEyQUI="},
        "from":"16505551234","id":"wamid.in.ctwa==","timestamp":"1749416400","type":"text",
        "text":{"body":"Is this still on sale?"},
        "referral":{"source_url":"https://fb.me/3cr4Wqqkv","source_id":"120226305854810726","source_type":"ad",
          "body":"Summer sale","headline":"50% off","media_type":"image",
          "image_url":"https://scontent.xx.fbcdn.net/v/t45.1/abc.jpg","ctwa_clid":"ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a",
          "welcome_message":{"text":"Hi! How can we help?"}}})";
    const auto d = parse_delivery(inbound_body(item));
    const InboundMessage& m = only_message(d);
    EXPECT_EQ(m.wamid, "wamid.in.ctwa==");
    EXPECT_EQ(m.type, "text");
    json raw = js(m.raw_json);
    EXPECT_EQ(raw, js(item));
    EXPECT_EQ(raw["context"]["id"], "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBJBQjEyQUI=");
    EXPECT_EQ(raw["referral"]["ctwa_clid"],
              "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a");
    expect_plain(m);
}

// Media types (§6.2): id, mime_type, base64 sha256 and the type's own members survive exactly.
struct MediaCase {
    std::string type;
    std::string object;                                 // the member named `type`
    std::vector<std::pair<std::string, json>> checks;  // JSON pointer into the raw item -> value
};

void PrintTo(const MediaCase& c, std::ostream* os) { *os << c.type; }

const std::vector<MediaCase> kMedia = {
    {"image",
     R"({"caption":"Check out my new shoes","mime_type":"image/jpeg","sha256":"SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
         "id":"1003383421387256","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256&ext=1750000000&hash=ATu"})",
     {{"/image/id", "1003383421387256"},
      {"/image/mime_type", "image/jpeg"},
      {"/image/sha256", kSha256},
      {"/image/caption", "Check out my new shoes"}}},
    {"video",
     R"({"caption":"Unboxing","mime_type":"video/mp4","sha256":"n3cPp/xsB4qRtH++bZP8k2xKv5Ok8s1WqR3hF0l8o0M=","id":"1185306915838713"})",
     {{"/video/id", "1185306915838713"},
      {"/video/mime_type", "video/mp4"},
      {"/video/sha256", "n3cPp/xsB4qRtH++bZP8k2xKv5Ok8s1WqR3hF0l8o0M="},
      {"/video/caption", "Unboxing"}}},
    {"audio",
     R"({"mime_type":"audio/ogg; codecs=opus","sha256":"x+Q0kq1tQ0n5yWc1cVvYb8B3mJ0YwqzK1ObnqF9f2nM=","id":"2754859441498128","voice":true})",
     {{"/audio/id", "2754859441498128"},
      {"/audio/mime_type", "audio/ogg; codecs=opus"},
      {"/audio/sha256", "x+Q0kq1tQ0n5yWc1cVvYb8B3mJ0YwqzK1ObnqF9f2nM="},
      {"/audio/voice", true}}},
    {"document",
     R"({"caption":"Lucky Shrub Invoice","filename":"lucky-shrub-invoice.pdf","mime_type":"application/pdf",
         "sha256":"Ymr9ClAJx/rXmY+sPRcX0CvPk5Tj2h0JdUo0WIvv2dg=","id":"1056153696317284"})",
     {{"/document/id", "1056153696317284"},
      {"/document/mime_type", "application/pdf"},
      {"/document/sha256", "Ymr9ClAJx/rXmY+sPRcX0CvPk5Tj2h0JdUo0WIvv2dg="},
      {"/document/filename", "lucky-shrub-invoice.pdf"},
      {"/document/caption", "Lucky Shrub Invoice"}}},
    {"sticker",
     R"({"mime_type":"image/webp","sha256":"ZzX8T0n7k3D8QbV4hJw6y9n0l2W4u6o8q0s2u4w6y8A=","id":"1498245214396389","animated":false})",
     {{"/sticker/id", "1498245214396389"},
      {"/sticker/mime_type", "image/webp"},
      {"/sticker/sha256", "ZzX8T0n7k3D8QbV4hJw6y9n0l2W4u6o8q0s2u4w6y8A="},
      {"/sticker/animated", false}}},
};

class WebhookMedia : public ::testing::TestWithParam<MediaCase> {};

TEST_P(WebhookMedia, KeepsIdMimeTypeBase64HashAndTypeMembers) {
    const MediaCase& c = GetParam();
    const std::string item = R"({"from":"16505551234","id":"wamid.media.)" + c.type +
                             R"(","timestamp":"1750090702","type":")" + c.type + R"(",")" + c.type +
                             R"(":)" + c.object + "}";
    const auto d = parse_delivery(inbound_body(item));
    const InboundMessage& m = only_message(d);
    EXPECT_EQ(m.path, "entry[0].changes[0].value.messages[0]");
    EXPECT_EQ(m.wamid, "wamid.media." + c.type);
    EXPECT_EQ(m.type, c.type);
    EXPECT_EQ(m.from, kUser);
    EXPECT_TRUE(is_time(m.timestamp, 1750090702));
    json raw = js(m.raw_json);
    EXPECT_EQ(raw, js(item));
    for (const auto& [pointer, expected] : c.checks) {
        EXPECT_EQ(raw.at(json::json_pointer(pointer)), expected) << pointer;
    }
    expect_plain(m);
}

INSTANTIATE_TEST_SUITE_P(Webhook, WebhookMedia, ::testing::ValuesIn(kMedia),
                         [](const auto& p) { return p.param.type; });

TEST(WebhookInbound, LocationKeepsItsCoordinatesExactly) {
    const std::string item = R"({"from":"16505551234","id":"wamid.loc","timestamp":"1750090703","type":"location",
        "location":{"address":"1 Hacker Way, Menlo Park, CA 94025","latitude":37.483872693672,
                    "longitude":-122.14861045223,"name":"Meta Headquarters","url":"https://www.meta.com"}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
    EXPECT_EQ(m.type, "location");
    json raw = js(m.raw_json);
    EXPECT_EQ(raw, js(item));
    EXPECT_EQ(raw["location"]["latitude"].get<double>(), 37.483872693672);
    EXPECT_EQ(raw["location"]["longitude"].get<double>(), -122.14861045223);
    EXPECT_EQ(raw["location"]["name"], "Meta Headquarters");
}

TEST(WebhookInbound, ContactsMessageIsNotConfusedWithTheSendersContactsEntry) {
    const std::string item = R"({"from":"16505551234","id":"wamid.vcard","timestamp":"1750090704","type":"contacts",
        "contacts":[{"name":{"formatted_name":"Barbara J. Johnson","first_name":"Barbara","last_name":"Johnson",
          "middle_name":"Joana","prefix":"Dr.","suffix":"Esq."},
          "phones":[{"phone":"+1 (940) 555-1234","type":"HOME"},{"phone":"+1 (650) 555-1234","type":"WORK","wa_id":"16505551234"}],
          "emails":[{"email":"bjohnson@example.com","type":"WORK"}],"org":{"company":"Lucky Shrub","title":"Manager"},
          "birthday":"1999-01-23"}]})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
    EXPECT_EQ(m.type, "contacts");
    ASSERT_TRUE(m.contact_json);
    EXPECT_EQ(js(*m.contact_json), js(kContact));  // the sender, not the shared card
    json raw = js(m.raw_json);
    EXPECT_EQ(raw, js(item));
    EXPECT_EQ(raw["contacts"][0]["phones"][1]["wa_id"], "16505551234");
    EXPECT_EQ(raw["contacts"][0]["name"]["formatted_name"], "Barbara J. Johnson");
}

TEST(WebhookInbound, InteractiveRepliesOfEveryKind) {
    struct Case {
        std::string kind;
        std::string reply;
        std::string pointer;
        json expected;
    };
    const Case cases[] = {
        {"button_reply", R"({"id":"cancel-order","title":"Cancel"})", "/interactive/button_reply/id", "cancel-order"},
        {"list_reply", R"({"id":"priority_express","title":"Express","description":"Next day to 2 days"})",
         "/interactive/list_reply/description", "Next day to 2 days"},
        // response_json stays a string holding JSON (flow_token included), never parsed into an object.
        {"nfm_reply",
         R"({"name":"flow","body":"Sent","response_json":"{\"flow_token\":\"AQAAAAACS5FpgQ_cAAAAAD0QI3s.\",\"rating\":\"5\"}"})",
         "/interactive/nfm_reply/response_json", R"({"flow_token":"AQAAAAACS5FpgQ_cAAAAAD0QI3s.","rating":"5"})"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.kind);
        const std::string item =
            R"({"context":{"from":"15550783881","id":"wamid.HBgLMTU1NTA3ODM4ODEVAgARGBI1QUJDRA=="},"from":"16505551234",)"
            R"("id":"wamid.)" + c.kind + R"(","timestamp":"1750090705","type":"interactive",)"
            R"("interactive":{"type":")" + c.kind + R"(",")" + c.kind + R"(":)" + c.reply + "}}";
        const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
        EXPECT_EQ(m.wamid, "wamid." + c.kind);
        EXPECT_EQ(m.type, "interactive");
        json raw = js(m.raw_json);
        EXPECT_EQ(raw, js(item));
        EXPECT_EQ(raw["interactive"]["type"], c.kind);
        EXPECT_EQ(raw.at(json::json_pointer(c.pointer)), c.expected);
        EXPECT_EQ(raw["context"]["id"], "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBI1QUJDRA==");
        expect_plain(m);
    }
}

TEST(WebhookInbound, TemplateQuickReplyButton) {
    const std::string item = R"({"context":{"from":"15550783881","id":"wamid.template.promo"},
        "from":"16505551234","id":"wamid.button","timestamp":"1750090706","type":"button",
        "button":{"payload":"STOP_PROMOTIONS","text":"Stop promotions"}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
    EXPECT_EQ(m.type, "button");
    json raw = js(m.raw_json);
    EXPECT_EQ(raw["button"]["payload"], "STOP_PROMOTIONS");
    EXPECT_EQ(raw["context"]["id"], "wamid.template.promo");
    expect_plain(m);
}

TEST(WebhookInbound, ReactionCarriesTheReactedMessageAndEmoji) {
    // The emoji as Meta escapes it (\uXXXX surrogate pair) and as raw UTF-8 give the same text.
    for (const std::string& emoji : {std::string(R"(\ud83d\ude00)"), std::string("\xF0\x9F\x98\x80")}) {
        const std::string item = R"({"from":"16505551234","id":"wamid.reaction","timestamp":"1750090707",
            "type":"reaction","reaction":{"message_id":")" + std::string(kOutWamid) + R"(","emoji":")" + emoji + R"("}})";
        const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
        EXPECT_EQ(m.type, "reaction");
        ASSERT_TRUE(m.reaction);
        EXPECT_EQ(m.reaction->message_id, kOutWamid);
        EXPECT_EQ(m.reaction->emoji, std::optional<std::string>("\xF0\x9F\x98\x80"));
        EXPECT_EQ(m.identity_change.has_value(), false);
        EXPECT_EQ(m.revokes, std::nullopt);
    }
}

TEST(WebhookInbound, ReactionRemovalHasNoEmoji) {
    // §6.2: a removal arrives without `emoji`; an empty emoji means the same.
    for (const std::string& reaction : {std::string(R"({"message_id":"wamid.out.1"})"),
                                       std::string(R"({"message_id":"wamid.out.1","emoji":""})")}) {
        SCOPED_TRACE(reaction);
        const std::string item = R"({"from":"16505551234","id":"wamid.unreact","timestamp":"1750090708",
            "type":"reaction","reaction":)" + reaction + "}";
        const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
        ASSERT_TRUE(m.reaction);
        EXPECT_EQ(m.reaction->message_id, "wamid.out.1");
        EXPECT_EQ(m.reaction->emoji, std::nullopt);
    }
}

TEST(WebhookInbound, AReactionWithoutATargetOrOnAnotherTypeIsNoReaction) {
    const std::string no_target = R"({"from":"16505551234","id":"wamid.r1","timestamp":"1750090709",
        "type":"reaction","reaction":{"emoji":"\u2764"}})";
    const InboundMessage& a = only_message(parse_delivery(inbound_body(no_target)));
    EXPECT_EQ(a.type, "reaction");
    EXPECT_EQ(a.reaction.has_value(), false);

    const std::string wrong_type = R"({"from":"16505551234","id":"wamid.r2","timestamp":"1750090709",
        "type":"text","text":{"body":"hi"},"reaction":{"message_id":"wamid.out.1","emoji":"\u2764"}})";
    const InboundMessage& b = only_message(parse_delivery(inbound_body(wrong_type)));
    EXPECT_EQ(b.type, "text");
    EXPECT_EQ(b.reaction.has_value(), false);
}

TEST(WebhookInbound, OrderKeepsItsProductItems) {
    const std::string item = R"({"from":"16505551234","id":"wamid.order","timestamp":"1750090710","type":"order",
        "order":{"catalog_id":"194836987003835","text":"Please deliver before noon",
          "product_items":[{"product_retailer_id":"di9ozbzfi4","quantity":2,"item_price":30.5,"currency":"USD"},
                           {"product_retailer_id":"nqryix03ez","quantity":1,"item_price":12,"currency":"USD"}]}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
    EXPECT_EQ(m.type, "order");
    json raw = js(m.raw_json);
    EXPECT_EQ(raw, js(item));
    EXPECT_EQ(raw["order"]["catalog_id"], "194836987003835");
    EXPECT_EQ(raw["order"]["product_items"].size(), 2u);
    EXPECT_EQ(raw["order"]["product_items"][0]["item_price"].get<double>(), 30.5);
    expect_plain(m);
}

TEST(WebhookInbound, UnsupportedKeepsItsErrors) {
    const std::string item = R"({"from":"16505551234","id":"wamid.unsupported","timestamp":"1750090711",
        "type":"unsupported","errors":[{"code":131051,"title":"Message type unknown","message":"Message type unknown",
        "error_data":{"details":"Message type is currently not supported."}}],"unsupported":{"type":"edit"}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
    EXPECT_EQ(m.type, "unsupported");
    EXPECT_EQ(m.from, kUser);
    json raw = js(m.raw_json);
    EXPECT_EQ(raw, js(item));
    EXPECT_EQ(raw["errors"][0]["code"], 131051);
    EXPECT_EQ(raw["unsupported"]["type"], "edit");
    expect_plain(m);
}

TEST(WebhookInbound, RevokeNamesTheDeletedMessage) {
    const std::string item = R"({"from":"16505551234","id":"wamid.revoke","timestamp":"1750090712","type":"revoke",
        "revoke":{"original_message_id":"wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUY1RkU3QkE3MjA2Mzg1RTBCNAA="}})";
    const auto d = parse_delivery(inbound_body(item));
    const InboundMessage& m = only_message(d);
    EXPECT_EQ(m.type, "revoke");
    EXPECT_EQ(m.revokes, std::optional<std::string>("wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUY1RkU3QkE3MjA2Mzg1RTBCNAA="));
    EXPECT_TRUE(d.tombstones.empty());  // the processor turns `revokes` into the tombstone
    EXPECT_EQ(m.reaction.has_value(), false);

    const std::string empty = R"({"from":"16505551234","id":"wamid.revoke2","timestamp":"1750090712",
        "type":"revoke","revoke":{"original_message_id":""}})";
    EXPECT_EQ(only_message(parse_delivery(inbound_body(empty))).revokes, std::nullopt);
    const std::string on_text = R"({"from":"16505551234","id":"wamid.revoke3","timestamp":"1750090712",
        "type":"text","text":{"body":"x"},"revoke":{"original_message_id":"wamid.x"}})";
    EXPECT_EQ(only_message(parse_delivery(inbound_body(on_text))).revokes, std::nullopt);
}

TEST(WebhookInbound, UnknownTypesAndMembersAreKeptNotRejected) {
    const std::string item = R"({"from":"16505551234","id":"wamid.poll","timestamp":"1750090713",
        "type":"poll_vote","poll_vote":{"poll_id":"p1","options":["a","b"]},"future_member":{"x":[1,2,{"y":null}]}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
    EXPECT_EQ(m.type, "poll_vote");
    EXPECT_EQ(js(m.raw_json), js(item));
    EXPECT_EQ(js(m.raw_json)["future_member"]["x"][2]["y"], nullptr);
    expect_plain(m);

    const std::string no_type = R"({"from":"16505551234","id":"wamid.notype","timestamp":"1750090713"})";
    const InboundMessage& n = only_message(parse_delivery(inbound_body(no_type)));
    EXPECT_EQ(n.type, "");
    EXPECT_EQ(n.wamid, "wamid.notype");
}

TEST(WebhookInbound, IdentityKeyHashComesFromTheSendersContact) {
    const std::string contacts =
        R"([{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234","identity_key_hash":"DF2lS5v2W6x="}])";
    const std::string item =
        R"({"from":"16505551234","id":"wamid.ikh","timestamp":"1750090714","type":"text","text":{"body":"hi"}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item, contacts)));
    EXPECT_EQ(m.identity_key_hash, std::optional<std::string>("DF2lS5v2W6x="));
    ASSERT_TRUE(m.contact_json);
    EXPECT_EQ(js(*m.contact_json)["identity_key_hash"], "DF2lS5v2W6x=");
    EXPECT_EQ(m.identity_change.has_value(), false);
}

TEST(WebhookInbound, EachMessageGetsItsOwnSendersContact) {
    const std::string contacts = R"([{"profile":{"name":"Ann"},"wa_id":"15550000001"},
                                     {"profile":{"name":"Bob"},"wa_id":"15550000002","identity_key_hash":"Qm9i"}])";
    const std::string messages =
        R"({"from":"15550000002","id":"wamid.b","timestamp":"1750090715","type":"text","text":{"body":"from Bob"}},
           {"from":"15550000001","id":"wamid.a","timestamp":"1750090716","type":"text","text":{"body":"from Ann"}},
           {"from":"15550000003","id":"wamid.c","timestamp":"1750090717","type":"text","text":{"body":"unknown"}})";
    const auto d = parse_delivery(cloud_body(messages_value(R"("contacts":)" + contacts + R"(,"messages":[)" + messages + "]")));
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    ASSERT_EQ(d.messages.size(), 3u);
    EXPECT_EQ(d.messages[0].path, "entry[0].changes[0].value.messages[0]");
    EXPECT_EQ(d.messages[0].from, "15550000002");
    ASSERT_TRUE(d.messages[0].contact_json);
    EXPECT_EQ(js(*d.messages[0].contact_json)["profile"]["name"], "Bob");
    EXPECT_EQ(d.messages[0].identity_key_hash, std::optional<std::string>("Qm9i"));
    EXPECT_EQ(d.messages[1].path, "entry[0].changes[0].value.messages[1]");
    ASSERT_TRUE(d.messages[1].contact_json);
    EXPECT_EQ(js(*d.messages[1].contact_json)["profile"]["name"], "Ann");
    EXPECT_EQ(d.messages[1].identity_key_hash, std::nullopt);
    // Two contacts, neither theirs: no guess.
    EXPECT_EQ(d.messages[2].path, "entry[0].changes[0].value.messages[2]");
    EXPECT_EQ(d.messages[2].contact_json, std::nullopt);
    EXPECT_TRUE(is_time(d.messages[2].timestamp, 1750090717));
}

TEST(WebhookInbound, LegacyIdentityNotAcknowledgedIsAnIdentityChange) {
    const std::string unacked = R"({"from":"16505551234","id":"wamid.id1","timestamp":"1750090718","type":"text",
        "text":{"body":"hi"},"identity":{"acknowledged":false,"created_timestamp":1750090000,"hash":"Sjvjlx8G6Z0="}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(unacked)));
    ASSERT_TRUE(m.identity_change);
    EXPECT_EQ(m.identity_change->wa_id, kUser);
    EXPECT_EQ(m.identity_change->reason, IdentityChange::Reason::kIdentityChanged);
    EXPECT_EQ(m.new_number.has_value(), false);

    const std::string acked = R"({"from":"16505551234","id":"wamid.id2","timestamp":"1750090718","type":"text",
        "text":{"body":"hi"},"identity":{"acknowledged":true,"created_timestamp":1750090000,"hash":"Sjvjlx8G6Z0="}})";
    EXPECT_EQ(only_message(parse_delivery(inbound_body(acked))).identity_change.has_value(), false);
}

// ---------------------------------------------------------------------------------------------
// System messages (§6.5): no contacts[] in the value.

TEST(WebhookSystem, UserChangedNumberBlocksTheOldNumberAndNamesTheNewOne) {
    const std::string item = R"({"from":"16505551234","id":"wamid.sys1","timestamp":"1750090719","type":"system",
        "system":{"body":"User Sheena Nelson changed from 16505551234 to 16505550000","wa_id":"16505550000",
                  "type":"user_changed_number"}})";
    const auto d = parse_delivery(cloud_body(messages_value(R"("messages":[)" + item + "]")));
    const InboundMessage& m = only_message(d);
    EXPECT_EQ(m.type, "system");
    EXPECT_EQ(m.contact_json, std::nullopt);
    ASSERT_TRUE(m.identity_change);
    EXPECT_EQ(m.identity_change->wa_id, "16505551234");
    EXPECT_EQ(m.identity_change->reason, IdentityChange::Reason::kNumberChanged);
    ASSERT_TRUE(m.new_number);
    EXPECT_EQ(m.new_number->old_wa_id, "16505551234");
    EXPECT_EQ(m.new_number->new_wa_id, "16505550000");
    EXPECT_EQ(m.reaction.has_value(), false);
}

TEST(WebhookSystem, LegacyCustomerChangedNumberUsesCustomerAsTheOldId) {
    const std::string item = R"({"from":"16315551234","id":"wamid.sys2","timestamp":"1750090720","type":"system",
        "system":{"body":"+1 (631) 555-1234 changed to +1 (631) 555-4321","customer":"16315551234",
                  "new_wa_id":"16315554321","wa_id":"16315554321","type":"customer_changed_number"}})";
    const InboundMessage& m = only_message(parse_delivery(cloud_body(messages_value(R"("messages":[)" + item + "]"))));
    ASSERT_TRUE(m.identity_change);
    EXPECT_EQ(m.identity_change->wa_id, "16315551234");
    EXPECT_EQ(m.identity_change->reason, IdentityChange::Reason::kNumberChanged);
    ASSERT_TRUE(m.new_number);
    EXPECT_EQ(m.new_number->old_wa_id, "16315551234");
    EXPECT_EQ(m.new_number->new_wa_id, "16315554321");
}

TEST(WebhookSystem, ANumberChangeWithoutANewIdOrToTheSameIdHasNoNewNumber) {
    for (const std::string& system : {std::string(R"({"body":"changed","type":"user_changed_number"})"),
                                     std::string(R"({"body":"changed","wa_id":"16505551234","type":"user_changed_number"})")}) {
        SCOPED_TRACE(system);
        const std::string item = R"({"from":"16505551234","id":"wamid.sys3","timestamp":"1750090721","type":"system",
            "system":)" + system + "}";
        const InboundMessage& m = only_message(parse_delivery(cloud_body(messages_value(R"("messages":[)" + item + "]"))));
        ASSERT_TRUE(m.identity_change);
        EXPECT_EQ(m.identity_change->wa_id, "16505551234");
        EXPECT_EQ(m.identity_change->reason, IdentityChange::Reason::kNumberChanged);
        EXPECT_EQ(m.new_number.has_value(), false);
    }
}

TEST(WebhookSystem, CustomerIdentityChangedNamesTheCustomer) {
    const std::string item = R"({"from":"16315551234","id":"wamid.sys4","timestamp":"1750090722","type":"system",
        "system":{"body":"Sheena's security code changed","customer":"16315551234","identity":"Sjvjlx8G6Z0=",
                  "type":"customer_identity_changed"}})";
    const InboundMessage& m = only_message(parse_delivery(cloud_body(messages_value(R"("messages":[)" + item + "]"))));
    ASSERT_TRUE(m.identity_change);
    EXPECT_EQ(m.identity_change->wa_id, "16315551234");
    EXPECT_EQ(m.identity_change->reason, IdentityChange::Reason::kIdentityChanged);
    EXPECT_EQ(m.new_number.has_value(), false);

    // Without `customer`, the sender is the one whose identity changed.
    const std::string bare = R"({"from":"16315550000","id":"wamid.sys5","timestamp":"1750090722","type":"system",
        "system":{"body":"code changed","type":"customer_identity_changed"}})";
    const InboundMessage& b = only_message(parse_delivery(cloud_body(messages_value(R"("messages":[)" + bare + "]"))));
    ASSERT_TRUE(b.identity_change);
    EXPECT_EQ(b.identity_change->wa_id, "16315550000");
}

TEST(WebhookSystem, ASystemObjectOnAnotherTypeHasNoEffect) {
    const std::string item = R"({"from":"16505551234","id":"wamid.sys6","timestamp":"1750090723","type":"text",
        "text":{"body":"x"},"system":{"wa_id":"1","type":"user_changed_number"}})";
    expect_plain(only_message(parse_delivery(inbound_body(item))));
}

// ---------------------------------------------------------------------------------------------
// Business-scoped user ids (§4.6)

TEST(WebhookBsuid, AUsernameUserHasAnEmptyFromAndIsKeyedByTheBsuid) {
    const std::string contacts =
        R"([{"profile":{"name":"Sheena","username":"@sheena","country_code":"US"},"wa_id":"","user_id":"US.13491208655302741918"}])";
    const std::string item = R"({"from":"","from_user_id":"US.13491208655302741918","id":"wamid.bsuid1",
        "timestamp":"1750090724","type":"text","text":{"body":"hello"}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item, contacts)));
    EXPECT_EQ(m.from, "");
    EXPECT_EQ(m.from_user_id, std::optional<std::string>("US.13491208655302741918"));
    EXPECT_EQ(m.user_key(), "US.13491208655302741918");
    ASSERT_TRUE(m.contact_json);
    EXPECT_EQ(js(*m.contact_json)["profile"]["username"], "@sheena");
}

TEST(WebhookBsuid, TheBsuidIsTakenFromTheContactWhenTheMessageLacksIt) {
    // Matched by wa_id: the phone user also has a BSUID.
    const std::string by_wa_id = R"([{"profile":{"name":"Ann"},"wa_id":"15550000001","user_id":"US.1111"},
                                     {"profile":{"name":"Other"},"wa_id":"15550000009","user_id":"US.9999"}])";
    const std::string item = R"({"from":"15550000001","id":"wamid.bsuid2","timestamp":"1750090725","type":"text",
        "text":{"body":"x"}})";
    const InboundMessage& a = only_message(parse_delivery(inbound_body(item, by_wa_id)));
    EXPECT_EQ(a.from, "15550000001");
    EXPECT_EQ(a.from_user_id, std::optional<std::string>("US.1111"));
    EXPECT_EQ(a.user_key(), "15550000001");

    // No phone, no from_user_id: the only contact's user_id keys the user.
    const std::string only = R"([{"profile":{"name":"U"},"wa_id":"","user_id":"user.3f2a9c"}])";
    const std::string anon = R"({"from":"","id":"wamid.bsuid3","timestamp":"1750090726","type":"text",
        "text":{"body":"x"}})";
    const InboundMessage& b = only_message(parse_delivery(inbound_body(anon, only)));
    EXPECT_EQ(b.from_user_id, std::optional<std::string>("user.3f2a9c"));
    EXPECT_EQ(b.user_key(), "user.3f2a9c");
}

TEST(WebhookBsuid, TheSendersContactIsFoundByUserId) {
    const std::string contacts = R"([{"profile":{"name":"A"},"wa_id":"","user_id":"US.1"},
                                     {"profile":{"name":"B"},"wa_id":"","user_id":"US.2","identity_key_hash":"Ymhhc2g="}])";
    const std::string item = R"({"from":"","from_user_id":"US.2","id":"wamid.bsuid4","timestamp":"1750090727",
        "type":"text","text":{"body":"x"}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item, contacts)));
    ASSERT_TRUE(m.contact_json);
    EXPECT_EQ(js(*m.contact_json)["profile"]["name"], "B");
    EXPECT_EQ(m.identity_key_hash, std::optional<std::string>("Ymhhc2g="));
}

TEST(WebhookBsuid, StatusesToABsuidKeepRecipientUserIdInTheRawItem) {
    const std::string item = R"({"id":"wamid.out.bsuid","status":"delivered","timestamp":"1750090728",
        "recipient_id":"","recipient_user_id":"US.13491208655302741918","parent_recipient_user_id":"US.ENT.77",
        "recipient_identity_key_hash":"DF2lS5v2W6x=",
        "pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"utility"}})";
    const std::string body = cloud_body(messages_value(
        R"("contacts":[{"profile":{"name":"Sheena","username":"@sheena"},"wa_id":"","user_id":"US.13491208655302741918"}],)"
        R"("statuses":[)" + item + "]"));
    const auto d = parse_delivery(body);
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    EXPECT_TRUE(d.messages.empty());  // the contacts[] of a status value are not a message
    ASSERT_EQ(d.statuses.size(), 1u);
    const StatusUpdate& s = d.statuses[0];
    EXPECT_EQ(s.wamid, "wamid.out.bsuid");
    EXPECT_EQ(s.status, "delivered");
    EXPECT_EQ(s.participant, "");
    json raw = js(s.raw_json);
    EXPECT_EQ(raw, js(item));
    EXPECT_EQ(raw["recipient_user_id"], "US.13491208655302741918");
    EXPECT_EQ(raw["recipient_id"], "");
    EXPECT_EQ(raw["recipient_identity_key_hash"], "DF2lS5v2W6x=");
}

TEST(WebhookBsuid, AMessageWithNeitherPhoneNorBsuidFails) {
    const std::string item = R"({"from":"","id":"wamid.nobody","timestamp":"1750090729","type":"text","text":{"body":"x"}})";
    const auto d = parse_delivery(inbound_body(item, "[]"));
    EXPECT_TRUE(d.messages.empty());
    ASSERT_EQ(d.failures.size(), 1u);
    EXPECT_EQ(d.failures[0].path, "entry[0].changes[0].value.messages[0]");
    EXPECT_EQ(d.failures[0].reason, "message without from or from_user_id");
    EXPECT_EQ(js(d.failures[0].fragment), js(item));
}

// ---------------------------------------------------------------------------------------------
// Statuses (§4)

TEST(WebhookStatus, EveryCloudStatusWithPricingConversationAndErrors) {
    const std::string sent = R"({"id":"wamid.out.1","status":"sent","timestamp":"1750030073","recipient_id":"16505551234",
        "biz_opaque_callback_data":"order-7781",
        "conversation":{"id":"0ba1b2e4bbd2f7fb1e7b7b0c8bf2e1c3","expiration_timestamp":"1750116480","origin":{"type":"marketing"}},
        "pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}})";
    const std::string delivered = R"({"id":"wamid.out.1","status":"delivered","timestamp":"1750030074",
        "recipient_id":"16505551234","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}})";
    const std::string read_item = R"({"id":"wamid.out.1","status":"read","timestamp":"1750030120","recipient_id":"16505551234"})";
    const std::string played = R"({"id":"wamid.out.voice","status":"played","timestamp":"1750030200","recipient_id":"16505551234"})";
    const std::string failed_errors = R"([{"code":131049,"title":"This message was not delivered to maintain healthy ecosystem engagement.",
        "message":"This message was not delivered to maintain healthy ecosystem engagement.",
        "error_data":{"details":"In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},
        "href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}])";
    const std::string failed = R"({"id":"wamid.out.2","status":"failed","timestamp":"1750030300","recipient_id":"16505551234",
        "errors":)" + failed_errors + "}";
    const auto d = parse_delivery(statuses_body(sent + "," + delivered + "," + read_item + "," + played + "," + failed));
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    EXPECT_TRUE(d.messages.empty());
    EXPECT_TRUE(d.tombstones.empty());
    EXPECT_TRUE(d.account_updates.empty());
    ASSERT_EQ(d.statuses.size(), 5u);
    EXPECT_EQ(d.item_count(), 5u);

    struct Expected {
        const char* wamid;
        const char* status;
        std::int64_t ts;
        const std::string* raw;
    };
    const Expected expected[] = {{"wamid.out.1", "sent", 1750030073, &sent},
                                 {"wamid.out.1", "delivered", 1750030074, &delivered},
                                 {"wamid.out.1", "read", 1750030120, &read_item},
                                 {"wamid.out.voice", "played", 1750030200, &played},
                                 {"wamid.out.2", "failed", 1750030300, &failed}};
    for (std::size_t i = 0; i < 5; ++i) {
        SCOPED_TRACE(i);
        const StatusUpdate& s = d.statuses[i];
        EXPECT_EQ(s.path, "entry[0].changes[0].value.statuses[" + std::to_string(i) + "]");
        EXPECT_EQ(s.phone_number_id, kPhoneId);
        EXPECT_EQ(s.wamid, expected[i].wamid);
        EXPECT_EQ(s.status, expected[i].status);
        EXPECT_EQ(s.participant, "");
        EXPECT_TRUE(is_time(s.timestamp, expected[i].ts));
        EXPECT_EQ(js(s.raw_json), js(*expected[i].raw));
    }
    // sent: conversation, pricing and the callback data.
    ASSERT_TRUE(d.statuses[0].conversation_json);
    EXPECT_EQ(js(*d.statuses[0].conversation_json),
              js(R"({"id":"0ba1b2e4bbd2f7fb1e7b7b0c8bf2e1c3","expiration_timestamp":"1750116480","origin":{"type":"marketing"}})"));
    ASSERT_TRUE(d.statuses[0].pricing_json);
    EXPECT_EQ(js(*d.statuses[0].pricing_json),
              js(R"({"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"})"));
    EXPECT_EQ(d.statuses[0].biz_opaque_callback_data, std::optional<std::string>("order-7781"));
    EXPECT_EQ(d.statuses[0].errors_json, std::nullopt);
    // delivered: pricing only.
    EXPECT_EQ(d.statuses[1].conversation_json, std::nullopt);
    ASSERT_TRUE(d.statuses[1].pricing_json);
    EXPECT_EQ(js(*d.statuses[1].pricing_json)["category"], "marketing");
    EXPECT_EQ(d.statuses[1].biz_opaque_callback_data, std::nullopt);
    // read and played: nothing optional.
    for (std::size_t i : {2u, 3u}) {
        EXPECT_EQ(d.statuses[i].pricing_json, std::nullopt);
        EXPECT_EQ(d.statuses[i].conversation_json, std::nullopt);
        EXPECT_EQ(d.statuses[i].errors_json, std::nullopt);
    }
    // failed: the whole errors array, every member kept (it cannot be fetched again).
    ASSERT_TRUE(d.statuses[4].errors_json);
    EXPECT_EQ(js(*d.statuses[4].errors_json), js(failed_errors));
    EXPECT_EQ(js(*d.statuses[4].errors_json)[0]["error_data"]["details"],
              "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.");
    EXPECT_EQ(d.statuses[4].pricing_json, std::nullopt);
}

TEST(WebhookStatus, NullOptionalMembersAreAbsent) {
    const std::string item = R"({"id":"wamid.out.n","status":"sent","timestamp":"1750030073","recipient_id":"1",
        "errors":null,"pricing":null,"conversation":null,"biz_opaque_callback_data":null})";
    const auto d = parse_delivery(statuses_body(item));
    ASSERT_EQ(d.statuses.size(), 1u);
    EXPECT_EQ(d.statuses[0].errors_json, std::nullopt);
    EXPECT_EQ(d.statuses[0].pricing_json, std::nullopt);
    EXPECT_EQ(d.statuses[0].conversation_json, std::nullopt);
    EXPECT_EQ(d.statuses[0].biz_opaque_callback_data, std::nullopt);
}

TEST(WebhookStatus, GroupSendsCarryTheParticipant) {
    const std::string a = R"({"id":"wamid.group.1","status":"delivered","timestamp":"1750030400",
        "recipient_id":"120363025246125486","recipient_type":"group","recipient_participant_id":"16505551234"})";
    const std::string b = R"({"id":"wamid.group.1","status":"delivered","timestamp":"1750030401",
        "recipient_id":"120363025246125486","recipient_type":"group","recipient_participant_id":"16505559999"})";
    const auto d = parse_delivery(statuses_body(a + "," + b));
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    ASSERT_EQ(d.statuses.size(), 2u);
    EXPECT_EQ(d.statuses[0].wamid, "wamid.group.1");
    EXPECT_EQ(d.statuses[0].participant, "16505551234");
    EXPECT_EQ(d.statuses[1].wamid, "wamid.group.1");
    EXPECT_EQ(d.statuses[1].participant, "16505559999");
    EXPECT_EQ(js(d.statuses[1].raw_json)["recipient_type"], "group");
}

TEST(WebhookStatus, StatusNamesAreLowerCasedAndUnknownOnesKept) {
    const std::string items = R"({"id":"wamid.u1","status":"DELIVERED","timestamp":"1750030500","recipient_id":"1"},
                                 {"id":"wamid.u2","status":"pending_review","timestamp":"1750030501","recipient_id":"1"})";
    const auto d = parse_delivery(statuses_body(items));
    ASSERT_EQ(d.statuses.size(), 2u);
    EXPECT_EQ(d.statuses[0].status, "delivered");
    EXPECT_EQ(d.statuses[1].status, "pending_review");
    EXPECT_TRUE(d.failures.empty());
}

TEST(WebhookStatus, ADeletedStatusInACloudBodyIsATombstone) {
    const std::string items = R"({"id":"wamid.in.deleted","status":"Deleted","timestamp":"1750030600","recipient_id":"16505551234"})";
    const auto d = parse_delivery(statuses_body(items));
    EXPECT_TRUE(d.statuses.empty());
    ASSERT_EQ(d.tombstones.size(), 1u);
    EXPECT_EQ(d.tombstones[0].path, "entry[0].changes[0].value.statuses[0]");
    EXPECT_EQ(d.tombstones[0].phone_number_id, kPhoneId);
    EXPECT_EQ(d.tombstones[0].wamid, "wamid.in.deleted");
    EXPECT_EQ(d.tombstones[0].wa_id, "16505551234");
    EXPECT_TRUE(is_time(d.tombstones[0].timestamp, 1750030600));
}

// ---------------------------------------------------------------------------------------------
// On-Premises (§5.2): no envelope, top-level arrays, ids without the wamid. prefix.

TEST(WebhookOnPremises, StatusesIncludingDeletedAndWarning) {
    const std::string body = R"({"statuses":[
        {"id":"gBGGFlAwCWFvAgkyHMGKnRu4JeA","recipient_id":"16315555555","status":"sent","timestamp":"1518694700"},
        {"id":"gBGGFlAwCWFvAgmFyj3hR3oE2Yo","recipient_id":"16315555555","status":"deleted","timestamp":"1518694701"},
        {"id":"gBGGFlAwCWFvAglKr7Lg0Xgmrg0","recipient_id":"16315555555","status":"warning","timestamp":"1518694702",
         "errors":[{"code":2060,"title":"Product not found","details":"catalog item 7781 unavailable"}]},
        {"id":"gBGGFlAwCWFvAgkRXEvTKW2zFyU","status":"failed","timestamp":"1518694703","type":"message",
         "message":{"recipient_id":"16315555556"},
         "errors":[{"code":1026,"title":"Receiver Incapable","href":"https://developers.facebook.com/docs/whatsapp/api/errors"}]}]})";
    const auto d = parse_delivery(body);
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    EXPECT_TRUE(d.messages.empty());
    EXPECT_TRUE(d.account_updates.empty());

    ASSERT_EQ(d.statuses.size(), 3u);
    EXPECT_EQ(d.statuses[0].path, "$.statuses[0]");
    EXPECT_EQ(d.statuses[0].phone_number_id, "");
    EXPECT_EQ(d.statuses[0].wamid, "gBGGFlAwCWFvAgkyHMGKnRu4JeA");
    EXPECT_EQ(d.statuses[0].status, "sent");
    EXPECT_TRUE(is_time(d.statuses[0].timestamp, 1518694700));

    EXPECT_EQ(d.statuses[1].path, "$.statuses[2]");
    EXPECT_EQ(d.statuses[1].status, "warning");
    ASSERT_TRUE(d.statuses[1].errors_json);
    EXPECT_EQ(js(*d.statuses[1].errors_json),
              js(R"([{"code":2060,"title":"Product not found","details":"catalog item 7781 unavailable"}])"));

    EXPECT_EQ(d.statuses[2].path, "$.statuses[3]");
    EXPECT_EQ(d.statuses[2].status, "failed");
    ASSERT_TRUE(d.statuses[2].errors_json);
    EXPECT_EQ(js(*d.statuses[2].errors_json),
              js(R"([{"code":1026,"title":"Receiver Incapable","href":"https://developers.facebook.com/docs/whatsapp/api/errors"}])"));
    EXPECT_EQ(js(d.statuses[2].raw_json)["message"]["recipient_id"], "16315555556");

    ASSERT_EQ(d.tombstones.size(), 1u);
    EXPECT_EQ(d.tombstones[0].path, "$.statuses[1]");
    EXPECT_EQ(d.tombstones[0].phone_number_id, "");
    EXPECT_EQ(d.tombstones[0].wamid, "gBGGFlAwCWFvAgmFyj3hR3oE2Yo");
    EXPECT_EQ(d.tombstones[0].wa_id, "16315555555");
    EXPECT_TRUE(is_time(d.tombstones[0].timestamp, 1518694701));
}

TEST(WebhookOnPremises, TopLevelErrorsAreAnAccountUpdate) {
    const std::string body = R"({"errors":[{"code":1014,"title":"Internal error","details":"Upload failed on bad image"}]})";
    const auto d = parse_delivery(body);
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    ASSERT_EQ(d.account_updates.size(), 1u);
    EXPECT_EQ(d.account_updates[0].path, "$");
    EXPECT_EQ(d.account_updates[0].waba_id, "");
    EXPECT_EQ(d.account_updates[0].field, "errors");
    EXPECT_EQ(d.account_updates[0].entry_time, 0);
    EXPECT_EQ(js(d.account_updates[0].value_json), js(body));
    EXPECT_TRUE(d.account_updates[0].effects.empty());
}

TEST(WebhookOnPremises, InboundMessagesCannotBeRoutedWithoutAPhoneNumberId) {
    // On-Premises bodies name no phone_number_id, and an inbound message the gateway cannot route
    // is a failure (with its fragment) rather than a message for an unknown number.
    const std::string item = R"({"from":"16315551234","id":"ABGGFlA5FpafAgo6EhgyxwuMhBnhIAT7zGmV",
        "text":{"body":"Hello"},"timestamp":"1518694235","type":"text"})";
    const auto d = parse_delivery(R"({"contacts":[{"profile":{"name":"Kerry Fisher"},"wa_id":"16315551234"}],"messages":[)" +
                                  item + "]}");
    EXPECT_TRUE(d.messages.empty());
    ASSERT_EQ(d.failures.size(), 1u);
    EXPECT_EQ(d.failures[0].path, "$.messages[0]");
    EXPECT_EQ(d.failures[0].reason, "message without value.metadata.phone_number_id");
    EXPECT_EQ(js(d.failures[0].fragment), js(item));
}

// ---------------------------------------------------------------------------------------------
// The envelope (§3): several entries, changes and items; value-level errors; lenient forms.

TEST(WebhookEnvelope, SeveralEntriesChangesAndItemsInOneBody) {
    const std::string body = R"({"object":"whatsapp_business_account","entry":[
      {"id":"102290129340398","changes":[
        {"field":"messages","value":{"messaging_product":"whatsapp",
          "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
          "statuses":[{"id":"wamid.s0","status":"sent","timestamp":"1750000000","recipient_id":"1"},
                      {"id":"wamid.s1","status":"read","timestamp":"1750000001","recipient_id":"2"}]}},
        {"field":"messages","value":{"messaging_product":"whatsapp",
          "metadata":{"display_phone_number":"15550783882","phone_number_id":"106540352242999"},
          "contacts":[{"profile":{"name":"Ann"},"wa_id":"15550000001"}],
          "messages":[{"from":"15550000001","id":"wamid.m0","timestamp":"1750000002","type":"text","text":{"body":"a"}},
                      {"from":"15550000001","id":"wamid.m1","timestamp":"1750000003","type":"text","text":{"body":"b"}}],
          "statuses":[{"id":"wamid.s2","status":"delivered","timestamp":"1750000004","recipient_id":"3"}]}}]},
      {"id":"102290129340777","time":1750000010,"changes":[
        {"field":"messages","value":{"messaging_product":"whatsapp",
          "metadata":{"display_phone_number":"15550783883","phone_number_id":"106540352243000"},
          "errors":[{"code":130429,"title":"Rate limit hit","message":"Rate limit hit",
                     "error_data":{"details":"Cloud API message throughput has been reached."},
                     "href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]}},
        {"field":"message_template_quality_update","value":{"previous_quality_score":"GREEN","new_quality_score":"YELLOW",
          "message_template_id":1689556908129832,"message_template_name":"order_update","message_template_language":"en_US"}}]}]})";
    const auto d = parse_delivery(body);
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    EXPECT_EQ(d.item_count(), 7u);

    ASSERT_EQ(d.statuses.size(), 3u);
    EXPECT_EQ(d.statuses[0].path, "entry[0].changes[0].value.statuses[0]");
    EXPECT_EQ(d.statuses[0].wamid, "wamid.s0");
    EXPECT_EQ(d.statuses[0].phone_number_id, "106540352242922");
    EXPECT_EQ(d.statuses[1].path, "entry[0].changes[0].value.statuses[1]");
    EXPECT_EQ(d.statuses[1].wamid, "wamid.s1");
    EXPECT_EQ(d.statuses[1].status, "read");
    EXPECT_EQ(d.statuses[2].path, "entry[0].changes[1].value.statuses[0]");
    EXPECT_EQ(d.statuses[2].wamid, "wamid.s2");
    EXPECT_EQ(d.statuses[2].phone_number_id, "106540352242999");

    ASSERT_EQ(d.messages.size(), 2u);
    EXPECT_EQ(d.messages[0].path, "entry[0].changes[1].value.messages[0]");
    EXPECT_EQ(d.messages[0].wamid, "wamid.m0");
    EXPECT_EQ(d.messages[0].phone_number_id, "106540352242999");
    EXPECT_EQ(d.messages[1].path, "entry[0].changes[1].value.messages[1]");
    EXPECT_EQ(d.messages[1].wamid, "wamid.m1");
    ASSERT_TRUE(d.messages[1].contact_json);
    EXPECT_EQ(js(*d.messages[1].contact_json)["profile"]["name"], "Ann");

    ASSERT_EQ(d.account_updates.size(), 2u);
    const AccountUpdate& errors = d.account_updates[0];
    EXPECT_EQ(errors.path, "entry[1].changes[0].value");
    EXPECT_EQ(errors.waba_id, "102290129340777");
    EXPECT_EQ(errors.field, "errors");
    EXPECT_EQ(errors.entry_time, 1750000010);
    EXPECT_EQ(js(errors.value_json)["errors"][0]["code"], 130429);
    EXPECT_EQ(js(errors.value_json)["metadata"]["phone_number_id"], "106540352243000");
    EXPECT_TRUE(errors.effects.empty());

    const AccountUpdate& quality = d.account_updates[1];
    EXPECT_EQ(quality.path, "entry[1].changes[1]");
    EXPECT_EQ(quality.waba_id, "102290129340777");
    EXPECT_EQ(quality.field, "message_template_quality_update");
    EXPECT_EQ(quality.entry_time, 1750000010);
    EXPECT_EQ(js(quality.value_json)["message_template_id"], 1689556908129832);
    ASSERT_EQ(quality.effects.size(), 1u);
    EXPECT_EQ(quality.effects[0].kind, AccountEffect::Kind::kTemplateQuality);
    EXPECT_EQ(quality.effects[0].value, "YELLOW");
    EXPECT_EQ(quality.effects[0].template_id, "1689556908129832");
}

TEST(WebhookEnvelope, ValueLevelErrorsAreAnAccountUpdateNamedErrors) {
    const std::string value = messages_value(
        R"("errors":[{"code":130429,"title":"Rate limit hit","message":"Rate limit hit",)"
        R"("error_data":{"details":"Cloud API message throughput has been reached."},)"
        R"("href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}])");
    const auto d = parse_delivery(cloud_body(value));
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    EXPECT_TRUE(d.statuses.empty());
    EXPECT_TRUE(d.messages.empty());
    ASSERT_EQ(d.account_updates.size(), 1u);
    const AccountUpdate& u = d.account_updates[0];
    EXPECT_EQ(u.path, "entry[0].changes[0].value");
    EXPECT_EQ(u.waba_id, kWaba);
    EXPECT_EQ(u.field, "errors");
    EXPECT_EQ(u.entry_time, 0);
    EXPECT_EQ(js(u.value_json), js(value));
    EXPECT_TRUE(u.effects.empty());
}

TEST(WebhookEnvelope, AMessagesValueWithNothingKnownIsKeptUnderItsField) {
    const std::string value = messages_value(R"("contacts":[{"profile":{"name":"A"},"wa_id":"1"}],"typing":{"on":true})");
    const auto d = parse_delivery(cloud_body(value));
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    ASSERT_EQ(d.account_updates.size(), 1u);
    EXPECT_EQ(d.account_updates[0].path, "entry[0].changes[0].value");
    EXPECT_EQ(d.account_updates[0].field, "messages");
    EXPECT_EQ(js(d.account_updates[0].value_json), js(value));
    EXPECT_EQ(d.item_count(), 1u);
}

TEST(WebhookEnvelope, AccountLevelFieldsUseEntryTimeAndTheChangePath) {
    const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1739321024,
        "changes":[{"field":"phone_number_name_update","value":{"display_phone_number":"15550783881",
          "decision":"APPROVED","requested_verified_name":"Lucky Shrub","rejection_reason":"NONE"}},
                   {"field":"flows","value":{"event":"FLOW_STATUS_CHANGE","flow_id":"2151217398641386"}}]}]})";
    const auto d = parse_delivery(body);
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    ASSERT_EQ(d.account_updates.size(), 2u);
    EXPECT_EQ(d.account_updates[0].path, "entry[0].changes[0]");
    EXPECT_EQ(d.account_updates[0].waba_id, kWaba);
    EXPECT_EQ(d.account_updates[0].field, "phone_number_name_update");
    EXPECT_EQ(d.account_updates[0].entry_time, 1739321024);
    EXPECT_EQ(js(d.account_updates[0].value_json)["requested_verified_name"], "Lucky Shrub");
    EXPECT_TRUE(d.account_updates[0].effects.empty());
    EXPECT_EQ(d.account_updates[1].path, "entry[0].changes[1]");
    EXPECT_EQ(d.account_updates[1].field, "flows");  // unknown fields are stored, not rejected
    EXPECT_TRUE(d.account_updates[1].effects.empty());
}

TEST(WebhookEnvelope, AFieldInsideTheValueOrNoFieldAtAll) {
    // §3.2: Meta's own examples sometimes put `field` inside the value.
    const std::string inside = R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1731617831,
        "changes":[{"value":{"field":"account_update","event":"DISABLED_UPDATE",
                             "ban_info":{"waba_ban_state":"DISABLE","waba_ban_date":"April 17, 2025"}}}]}]})";
    const auto d = parse_delivery(inside);
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    ASSERT_EQ(d.account_updates.size(), 1u);
    EXPECT_EQ(d.account_updates[0].field, "account_update");
    ASSERT_EQ(d.account_updates[0].effects.size(), 1u);
    EXPECT_EQ(d.account_updates[0].effects[0].kind, AccountEffect::Kind::kNumberStatus);
    EXPECT_EQ(d.account_updates[0].effects[0].value, "RESTRICTED");

    const std::string none = R"({"entry":[{"id":"102290129340398","changes":[{"value":{"event":"X"}}]}]})";
    const auto n = parse_delivery(none);
    ASSERT_TRUE(n.failures.empty()) << failures_of(n);
    ASSERT_EQ(n.account_updates.size(), 1u);
    EXPECT_EQ(n.account_updates[0].field, "unknown");
    EXPECT_EQ(n.account_updates[0].entry_time, 0);
}

TEST(WebhookEnvelope, AnEmptyEntryArrayHasNoItems) {
    const auto d = parse_delivery(R"({"object":"whatsapp_business_account","entry":[]})");
    EXPECT_EQ(d.item_count(), 0u);
    const auto e = parse_delivery(R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]})");
    EXPECT_EQ(e.item_count(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Lenient reading (§3.2, §3.3)

TEST(WebhookLenient, IdsAndTimestampsAsNumbersOrStrings) {
    const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":102290129340398,"time":"1750000000",
        "changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
          "metadata":{"display_phone_number":15550783881,"phone_number_id":106540352242922},
          "contacts":[{"profile":{"name":"Ann"},"wa_id":16505551234}],
          "messages":[{"from":16505551234,"id":"wamid.num","timestamp":1750000001,"type":"text","text":{"body":"x"}}],
          "statuses":[{"id":12345678901234,"status":"sent","timestamp":1750000002,"recipient_id":16505551234}],
          "errors":[{"code":"130429"}]}}]}]})";
    const auto d = parse_delivery(body);
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0].phone_number_id, "106540352242922");
    EXPECT_EQ(d.messages[0].from, "16505551234");
    EXPECT_TRUE(is_time(d.messages[0].timestamp, 1750000001));
    ASSERT_TRUE(d.messages[0].contact_json);  // matched through the numeric wa_id
    ASSERT_EQ(d.statuses.size(), 1u);
    EXPECT_EQ(d.statuses[0].wamid, "12345678901234");
    EXPECT_TRUE(is_time(d.statuses[0].timestamp, 1750000002));
    ASSERT_EQ(d.account_updates.size(), 1u);
    EXPECT_EQ(d.account_updates[0].waba_id, "102290129340398");
    EXPECT_EQ(d.account_updates[0].entry_time, 1750000000);
}

TEST(WebhookLenient, TimestampsThatCannotBeReadAreUnknown) {
    struct Case {
        std::string timestamp;  // JSON text of the member, "" for absent
        bool known;
        std::int64_t seconds;
    };
    const Case cases[] = {
        {R"("1750030073")", true, 1750030073},
        {"1750030073", true, 1750030073},
        {R"("0")", true, 0},
        {"", false, 0},
        {R"("")", false, 0},
        {R"("17500x")", false, 0},
        {R"(" 1750030073")", false, 0},
        {R"("1750030073 ")", false, 0},
        {R"("-5")", false, 0},
        {"-5", false, 0},
        {"1750030073.5", false, 0},
        {"null", false, 0},
        {"true", false, 0},
        {R"({"s":1})", false, 0},
        {"99999999999999999999", false, 0},
        {"18446744073709551615", false, 0},
        {R"("99999999999999999999")", false, 0},
        {"1000000000001", false, 0},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.timestamp.empty() ? "<absent>" : c.timestamp);
        const std::string ts = c.timestamp.empty() ? "" : R"(,"timestamp":)" + c.timestamp;
        const auto d = parse_delivery(statuses_body(R"({"id":"wamid.t","status":"sent","recipient_id":"1")" + ts + "}"));
        ASSERT_TRUE(d.failures.empty()) << failures_of(d);
        ASSERT_EQ(d.statuses.size(), 1u);
        EXPECT_EQ(d.statuses[0].timestamp.known, c.known);
        if (c.known) {
            EXPECT_EQ(d.statuses[0].timestamp.seconds, c.seconds);
        }
    }
}

TEST(WebhookLenient, EntryTimeAsIntegerStringOrJunk) {
    const std::pair<std::string, std::int64_t> cases[] = {
        {R"("time":1739321024,)", 1739321024}, {R"("time":"1739321024",)", 1739321024}, {"", 0},
        {R"("time":"soon",)", 0},             {R"("time":1739321024.5,)", 0},          {R"("time":-1,)", 0},
    };
    for (const auto& [member, expected] : cases) {
        SCOPED_TRACE(member);
        const auto d = parse_delivery(R"({"entry":[{"id":"7",)" + member +
                                      R"("changes":[{"field":"security","value":{"event":"PIN_CHANGED"}}]}]})");
        ASSERT_EQ(d.account_updates.size(), 1u);
        EXPECT_EQ(d.account_updates[0].entry_time, expected);
        EXPECT_EQ(d.account_updates[0].waba_id, "7");
    }
}

TEST(WebhookLenient, UnknownMembersAtEveryLevelAreIgnoredAndKept) {
    const std::string status = R"({"id":"wamid.k","status":"sent","timestamp":"1750000000","recipient_id":"1",
        "new_thing":{"nested":[1,"two",{"three":3}]},"pricing":{"billable":false,"pricing_model":"PMP",
        "type":"free_customer_service","category":"service","future_flag":true}})";
    const std::string body = R"({"object":"whatsapp_business_account","extra_top":1,"entry":[{"id":"102290129340398",
        "extra_entry":"x","changes":[{"field":"messages","extra_change":[],"value":{"messaging_product":"whatsapp",
        "extra_value":{"a":1},"metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922",
        "extra_meta":null},"statuses":[)" + status + "]}}]}]}";
    const auto d = parse_delivery(body);
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    ASSERT_EQ(d.statuses.size(), 1u);
    EXPECT_EQ(js(d.statuses[0].raw_json), js(status));
    ASSERT_TRUE(d.statuses[0].pricing_json);
    EXPECT_EQ(js(*d.statuses[0].pricing_json)["future_flag"], true);
    EXPECT_EQ(d.item_count(), 1u);
}

TEST(WebhookLenient, EscapedAndRawUnicodeTextReadTheSame) {
    // "J'ai mangé des pâtes" with \u00e9/\u00e2 escapes and as raw UTF-8, plus \/ and \u0040.
    const std::string escaped = R"({"from":"16505551234","id":"wamid.u1","timestamp":"1750000000","type":"text",
        "text":{"body":"J'ai mang\u00e9 des p\u00e2tes \u00e4\u00f6\u00e5 a\/b \u0040x"}})";
    const std::string raw = "{\"from\":\"16505551234\",\"id\":\"wamid.u1\",\"timestamp\":\"1750000000\",\"type\":\"text\","
                            "\"text\":{\"body\":\"J'ai mang\xC3\xA9 des p\xC3\xA2tes \xC3\xA4\xC3\xB6\xC3\xA5 a/b @x\"}}";
    const InboundMessage& a = only_message(parse_delivery(inbound_body(escaped)));
    const std::string a_body = js(a.raw_json)["text"]["body"].get<std::string>();
    EXPECT_EQ(a_body, "J'ai mang\xC3\xA9 des p\xC3\xA2tes \xC3\xA4\xC3\xB6\xC3\xA5 a/b @x");
    const InboundMessage& b = only_message(parse_delivery(inbound_body(raw)));
    EXPECT_EQ(js(b.raw_json), js(a.raw_json));
}

TEST(WebhookLenient, BracketsAndQuotesInsideStringsAreNotNesting) {
    const std::string brackets(10000, '[');
    const std::string item = R"({"from":"16505551234","id":"wamid.br","timestamp":"1750000000","type":"text",
        "text":{"body":"\")" + brackets + R"(\\\"{{{{"}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
    EXPECT_EQ(js(m.raw_json)["text"]["body"].get<std::string>(), "\"" + brackets + "\\\"{{{{");
}

TEST(WebhookLenient, ModeratelyDeepUnknownMembersAreKept) {
    std::string deep = "1";
    for (int i = 0; i < 40; ++i) {
        deep = "[" + deep + "]";
    }
    const std::string item = R"({"from":"16505551234","id":"wamid.deep","timestamp":"1750000000","type":"text",
        "text":{"body":"x"},"future":)" + deep + "}";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item)));
    EXPECT_EQ(js(m.raw_json), js(item));
}

// ---------------------------------------------------------------------------------------------
// Hostile input: never a crash, always a failure with a path; neighbours survive.

void expect_whole_body_failure(const ParsedDelivery& d, const std::string& reason) {
    EXPECT_TRUE(d.statuses.empty());
    EXPECT_TRUE(d.messages.empty());
    EXPECT_TRUE(d.tombstones.empty());
    EXPECT_TRUE(d.account_updates.empty());
    ASSERT_EQ(d.failures.size(), 1u);
    EXPECT_EQ(d.failures[0].path, "$");
    EXPECT_EQ(d.failures[0].reason, reason);
    EXPECT_EQ(d.failures[0].fragment, "");
}

TEST(WebhookHostile, InvalidJsonAndNonObjectRoots) {
    const std::string good_statuses = statuses_body(R"({"id":"w","status":"sent","timestamp":"1","recipient_id":"1"})");
    const std::vector<std::string> bodies = {
        "",
        "   ",
        "{",
        "}",
        R"({"entry":[})",
        R"({"entry":[],})",
        R"({'entry':[]})",
        R"({"entry":[]}{"entry":[]})",
        good_statuses.substr(0, good_statuses.size() - 1),  // truncated
        std::string(R"({"entry":[]})") + '\0',
        std::string("{\"a\":\"x\0y\"}", 11),  // a raw NUL inside a string is not JSON
        R"({"a":"\ud800"})",                   // a lone surrogate escape
        "[]",
        R"([{"entry":[]}])",
        "42",
        R"("string")",
        "null",
        "true",
        "NaN",
    };
    for (const auto& body : bodies) {
        SCOPED_TRACE(json(body).dump(-1, ' ', true, json::error_handler_t::replace));
        expect_whole_body_failure(parse_delivery(body), "not a JSON object");
    }
}

TEST(WebhookHostile, InvalidUtf8) {
    const std::string prefix = R"({"entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"id":"w","text":{"body":")";
    const std::string suffix = R"("}}]}}]}]})";
    for (const std::string& bad : {std::string("\xFF"), std::string("\xC3"), std::string("\xC0\xAF"),
                                  std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80"),
                                  std::string("\xE2\x82"), std::string("\x80")}) {
        SCOPED_TRACE(json(bad).dump(-1, ' ', true, json::error_handler_t::replace));
        expect_whole_body_failure(parse_delivery(prefix + bad + suffix), "not valid UTF-8");
    }
    expect_whole_body_failure(parse_delivery("\xFE\xFF{}"), "not valid UTF-8");
}

TEST(WebhookHostile, TenThousandDeepNesting) {
    const std::string arrays = std::string(10000, '[') + std::string(10000, ']');
    expect_whole_body_failure(parse_delivery(arrays), "nested too deeply");
    std::string objects;
    for (int i = 0; i < 10000; ++i) {
        objects += R"({"a":)";
    }
    objects += "1" + std::string(10000, '}');
    expect_whole_body_failure(parse_delivery(objects), "nested too deeply");
    // Unclosed: never parsed at all.
    expect_whole_body_failure(parse_delivery(std::string(10000, '{')), "nested too deeply");
    // Inside an otherwise valid item: the body is refused before any parse.
    const std::string item = R"({"from":"16505551234","id":"wamid.deep","timestamp":"1","type":"text","x":)" + arrays + "}";
    expect_whole_body_failure(parse_delivery(inbound_body(item)), "nested too deeply");
}

TEST(WebhookHostile, ObjectWithoutEntryOrOnPremisesArrays) {
    const std::string body = R"({"object":"whatsapp_business_account"})";
    const auto d = parse_delivery(body);
    ASSERT_EQ(d.failures.size(), 1u);
    EXPECT_EQ(d.failures[0].path, "$");
    EXPECT_EQ(d.failures[0].reason, "neither entry[] nor statuses/messages/errors");
    EXPECT_EQ(js(d.failures[0].fragment), js(body));
    EXPECT_EQ(d.item_count(), 1u);

    const auto e = parse_delivery("{}");
    ASSERT_EQ(e.failures.size(), 1u);
    EXPECT_EQ(e.failures[0].path, "$");
    EXPECT_EQ(e.failures[0].fragment, "{}");
}

TEST(WebhookHostile, EntryChangeAndValueOfTheWrongKind) {
    {
        const auto d = parse_delivery(R"({"object":"whatsapp_business_account","entry":{"id":"1"}})");
        ASSERT_EQ(d.failures.size(), 1u);
        EXPECT_EQ(d.failures[0].path, "entry");
        EXPECT_EQ(d.failures[0].reason, "entry is not an array");
        EXPECT_EQ(js(d.failures[0].fragment), js(R"({"id":"1"})"));
        EXPECT_EQ(d.item_count(), 1u);
    }
    {
        // entry[0] is a number, entry[1] has changes of the wrong kind, entry[2] is good.
        const std::string body = R"({"entry":[7,{"id":"1","changes":{"field":"messages"}},{"id":"2","changes":[
            "junk",{"field":"messages","value":[1,2]},{"field":"messages"},
            {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":1,
             "message_template_name":"t","message_template_language":"en"}}]}]})";
        const auto d = parse_delivery(body);
        ASSERT_EQ(d.failures.size(), 5u) << failures_of(d);
        EXPECT_EQ(d.failures[0].path, "entry[0]");
        EXPECT_EQ(d.failures[0].reason, "entry without a changes array");
        EXPECT_EQ(d.failures[0].fragment, "7");
        EXPECT_EQ(d.failures[1].path, "entry[1]");
        EXPECT_EQ(d.failures[1].reason, "entry without a changes array");
        EXPECT_EQ(d.failures[2].path, "entry[2].changes[0]");
        EXPECT_EQ(d.failures[2].reason, "change without a value object");
        EXPECT_EQ(d.failures[2].fragment, R"("junk")");
        EXPECT_EQ(d.failures[3].path, "entry[2].changes[1]");
        EXPECT_EQ(d.failures[3].reason, "change without a value object");
        EXPECT_EQ(js(d.failures[3].fragment), js(R"({"field":"messages","value":[1,2]})"));
        EXPECT_EQ(d.failures[4].path, "entry[2].changes[2]");
        // The neighbour is still read.
        ASSERT_EQ(d.account_updates.size(), 1u);
        EXPECT_EQ(d.account_updates[0].path, "entry[2].changes[3]");
        EXPECT_EQ(d.account_updates[0].waba_id, "2");
        ASSERT_EQ(d.account_updates[0].effects.size(), 1u);
        EXPECT_EQ(d.account_updates[0].effects[0].value, "APPROVED");
        EXPECT_EQ(d.item_count(), 6u);
    }
}

TEST(WebhookHostile, StatusesNotAnArrayCostsNeitherTheMessagesNorOtherChanges) {
    const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[
        {"field":"messages","value":{"messaging_product":"whatsapp",
          "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
          "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
          "statuses":{"id":"wamid.obj","status":"sent"},
          "messages":[{"from":"16505551234","id":"wamid.ok","timestamp":"1750000000","type":"text","text":{"body":"x"}}]}},
        {"field":"messages","value":{"messaging_product":"whatsapp",
          "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
          "messages":"nope",
          "statuses":[{"id":"wamid.ok2","status":"read","timestamp":"1750000001","recipient_id":"1"}]}}]}]})";
    const auto d = parse_delivery(body);
    ASSERT_EQ(d.failures.size(), 2u) << failures_of(d);
    EXPECT_EQ(d.failures[0].path, "entry[0].changes[0].value.statuses");
    EXPECT_EQ(d.failures[0].reason, "statuses is not an array");
    EXPECT_EQ(js(d.failures[0].fragment), js(R"({"id":"wamid.obj","status":"sent"})"));
    EXPECT_EQ(d.failures[1].path, "entry[0].changes[1].value.messages");
    EXPECT_EQ(d.failures[1].reason, "messages is not an array");
    EXPECT_EQ(d.failures[1].fragment, R"("nope")");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0].wamid, "wamid.ok");
    EXPECT_EQ(d.messages[0].path, "entry[0].changes[0].value.messages[0]");
    ASSERT_EQ(d.statuses.size(), 1u);
    EXPECT_EQ(d.statuses[0].wamid, "wamid.ok2");
    EXPECT_EQ(d.statuses[0].path, "entry[0].changes[1].value.statuses[0]");
    EXPECT_TRUE(d.account_updates.empty());
}

TEST(WebhookHostile, BadStatusItemsFailAloneAndTheirNeighboursAreRead) {
    const std::string items = R"({"id":"wamid.a","status":"sent","timestamp":"1750000000","recipient_id":"1"},
        42,
        {"status":"delivered","timestamp":"1750000001","recipient_id":"1"},
        {"id":"wamid.c","timestamp":"1750000002","recipient_id":"1"},
        {"id":"","status":"read"},
        {"id":"wamid.e","status":""},
        {"id":{"x":1},"status":"read"},
        {"id":"wamid.g","status":["read"]},
        null,
        "wamid.string",
        {"id":"wamid.z","status":"read","timestamp":"1750000009","recipient_id":"1"})";
    const auto d = parse_delivery(statuses_body(items));
    ASSERT_EQ(d.statuses.size(), 2u);
    EXPECT_EQ(d.statuses[0].path, "entry[0].changes[0].value.statuses[0]");
    EXPECT_EQ(d.statuses[0].wamid, "wamid.a");
    EXPECT_EQ(d.statuses[1].path, "entry[0].changes[0].value.statuses[10]");
    EXPECT_EQ(d.statuses[1].wamid, "wamid.z");
    EXPECT_TRUE(is_time(d.statuses[1].timestamp, 1750000009));
    ASSERT_EQ(d.failures.size(), 9u) << failures_of(d);
    for (std::size_t i = 0; i < 9; ++i) {
        EXPECT_EQ(d.failures[i].path, "entry[0].changes[0].value.statuses[" + std::to_string(i + 1) + "]");
        EXPECT_EQ(d.failures[i].reason, "status without id or status");
    }
    EXPECT_EQ(d.failures[0].fragment, "42");
    EXPECT_EQ(js(d.failures[1].fragment), js(R"({"status":"delivered","timestamp":"1750000001","recipient_id":"1"})"));
    EXPECT_EQ(d.failures[7].fragment, "null");
    EXPECT_EQ(d.failures[8].fragment, R"("wamid.string")");
}

TEST(WebhookHostile, BadMessageItemsFailAloneAndTheirNeighboursAreRead) {
    const std::string items =
        R"({"from":"16505551234","id":"wamid.m0","timestamp":"1750000000","type":"text","text":{"body":"a"}},
           7,
           {"from":"16505551234","timestamp":"1750000001","type":"text","text":{"body":"no id"}},
           {"from":"16505551234","id":"","type":"text"},
           [],
           {"from":"16505551234","id":"wamid.m5","timestamp":"1750000005","type":"reaction","reaction":"thumbs"},
           {"from":"16505551234","id":"wamid.m6","timestamp":"1750000006","type":"system","system":42})";
    const auto d = parse_delivery(inbound_body(items));
    ASSERT_EQ(d.failures.size(), 4u) << failures_of(d);
    const char* paths[] = {"entry[0].changes[0].value.messages[1]", "entry[0].changes[0].value.messages[2]",
                           "entry[0].changes[0].value.messages[3]", "entry[0].changes[0].value.messages[4]"};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(d.failures[i].path, paths[i]);
        EXPECT_EQ(d.failures[i].reason, "message without id");
    }
    EXPECT_EQ(d.failures[0].fragment, "7");
    EXPECT_EQ(d.failures[3].fragment, "[]");
    ASSERT_EQ(d.messages.size(), 3u);
    EXPECT_EQ(d.messages[0].wamid, "wamid.m0");
    EXPECT_EQ(d.messages[1].wamid, "wamid.m5");
    EXPECT_EQ(d.messages[1].path, "entry[0].changes[0].value.messages[5]");
    EXPECT_EQ(d.messages[1].reaction.has_value(), false);  // a reaction that is not an object
    EXPECT_EQ(d.messages[2].wamid, "wamid.m6");
    EXPECT_EQ(d.messages[2].identity_change.has_value(), false);
}

// 1e400 is valid JSON syntax (RFC 8259 §6) but beyond a double, and nlohmann::json refuses the
// text. Meta sends no such numbers, so the gateway does not carry its own JSON parser for them:
// the body is recorded as one failure at "$" (the raw body stays in webhook_deliveries), which is
// the documented limit of per-item isolation (docs/webhooks.md).
TEST(WebhookHostile, ANumberBeyondADoubleFailsTheWholeBodyAtTheRoot) {
    const std::string items = R"({"id":"wamid.huge","status":"sent","timestamp":"1750000000","recipient_id":"1","x":1e400},
        {"id":"wamid.next","status":"delivered","timestamp":"1750000001","recipient_id":"1"})";
    const auto d = parse_delivery(statuses_body(items));
    ASSERT_EQ(d.failures.size(), 1u);
    EXPECT_EQ(d.failures[0].path, "$");
    EXPECT_EQ(d.failures[0].reason, "not a JSON object");
    EXPECT_TRUE(d.statuses.empty());
}

TEST(WebhookBsuid, AnEmptyFromUserIdIsFilledFromTheSendersContact) {
    const std::string contacts = R"([{"profile":{"name":"U"},"wa_id":"","user_id":"US.42"}])";
    const std::string item = R"({"from":"","from_user_id":"","id":"wamid.e","timestamp":"1750090726","type":"text",
        "text":{"body":"x"}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item, contacts)));
    EXPECT_EQ(m.from_user_id, std::optional<std::string>("US.42"));
    EXPECT_EQ(m.user_key(), "US.42");
}

TEST(WebhookBsuid, ALoneContactNamingSomeoneElseIsNotTheSenders) {
    const std::string contacts =
        R"([{"profile":{"name":"Other"},"wa_id":"15550000009","user_id":"US.9","identity_key_hash":"b3RoZXI="}])";
    const std::string item = R"({"from":"15550000001","id":"wamid.o","timestamp":"1750090726","type":"text",
        "text":{"body":"x"}})";
    const InboundMessage& m = only_message(parse_delivery(inbound_body(item, contacts)));
    EXPECT_FALSE(m.contact_json);
    EXPECT_FALSE(m.identity_key_hash);
    EXPECT_FALSE(m.from_user_id);
}

TEST(WebhookEnvelope, AFieldOnTheEntryIsFoundToo) {
    const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"1","time":1731617831,
        "field":"account_update","changes":[{"value":{"event":"PARTNER_APP_INSTALLED"}}]}]})";
    const auto d = parse_delivery(body);
    ASSERT_EQ(d.account_updates.size(), 1u);
    EXPECT_EQ(d.account_updates[0].field, "account_update");
}

TEST(WebhookLenient, IntegersBeyondSixtyFourBitsInUnknownMembersDoNotCostTheItem) {
    const std::string items = R"({"id":"wamid.big","status":"sent","timestamp":"1750000000","recipient_id":"1",
        "x":123456789012345678901234567890,"y":18446744073709551615})";
    const auto d = parse_delivery(statuses_body(items));
    ASSERT_TRUE(d.failures.empty()) << failures_of(d);
    ASSERT_EQ(d.statuses.size(), 1u);
    EXPECT_EQ(d.statuses[0].wamid, "wamid.big");
    EXPECT_EQ(js(d.statuses[0].raw_json)["y"].get<std::uint64_t>(), 18446744073709551615u);
}

TEST(WebhookHostile, AMessageWithoutMetadataInACloudBodyFailsAlone) {
    const std::string body = R"({"entry":[{"id":"1","changes":[
        {"field":"messages","value":{"metadata":"broken","messages":[{"from":"1","id":"wamid.x","type":"text"}]}},
        {"field":"messages","value":{"metadata":{"phone_number_id":"106540352242922"},
          "messages":[{"from":"1","id":"wamid.y","type":"text"}]}}]}]})";
    const auto d = parse_delivery(body);
    ASSERT_EQ(d.failures.size(), 1u) << failures_of(d);
    EXPECT_EQ(d.failures[0].path, "entry[0].changes[0].value.messages[0]");
    EXPECT_EQ(d.failures[0].reason, "message without value.metadata.phone_number_id");
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0].wamid, "wamid.y");
    EXPECT_EQ(d.messages[0].timestamp.known, false);
}

TEST(WebhookHostile, ContactsOfTheWrongKindAreIgnored) {
    for (const std::string& contacts : {std::string(R"("oops")"), std::string("[1,null,[]]"), std::string("{}")}) {
        SCOPED_TRACE(contacts);
        const std::string item =
            R"({"from":"16505551234","id":"wamid.c","timestamp":"1750000000","type":"text","text":{"body":"x"}})";
        const auto d = parse_delivery(inbound_body(item, contacts));
        const InboundMessage& m = only_message(d);
        EXPECT_EQ(m.contact_json, std::nullopt);
        EXPECT_EQ(m.identity_key_hash, std::nullopt);
    }
}

TEST(WebhookHostile, EveryPrefixOfARealBodyIsSafe) {
    const std::string body = inbound_body(
        R"({"from":"16505551234","id":"wamid.p","timestamp":"1750000000","type":"reaction",)"
        R"("reaction":{"message_id":"wamid.o","emoji":"\ud83d\udc4d"}})");
    for (std::size_t n = 0; n < body.size(); ++n) {
        const auto d = parse_delivery(std::string_view(body).substr(0, n));
        ASSERT_EQ(d.failures.size(), 1u) << n;
        EXPECT_EQ(d.failures[0].path, "$") << n;
        EXPECT_EQ(d.item_count(), 1u) << n;
    }
    const InboundMessage m = only_message(parse_delivery(body));
    ASSERT_TRUE(m.reaction);
    EXPECT_EQ(m.reaction->emoji, std::optional<std::string>("\xF0\x9F\x91\x8D"));
}

}  // namespace
