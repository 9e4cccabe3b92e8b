#include <wagate/domain/policy.hpp>

#include <chrono>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using namespace wagate::domain::policy;
using wagate::domain::RequestKind;

const TimePoint kT0 = std::chrono::sys_days{std::chrono::year{2025} / 3 / 10} + 12h;
constexpr auto kMsg = RequestKind::kMessage;
constexpr auto kRead = RequestKind::kMarkRead;
constexpr auto kTpl = MessageClass::kTemplate;
constexpr auto kFree = MessageClass::kFreeForm;

TEST(FormatUtc, RendersRfc3339Utc) {
    EXPECT_EQ(format_utc(kT0), "2025-03-10T12:00:00Z");
    EXPECT_EQ(format_utc(kT0 + 678ms), "2025-03-10T12:00:00.678Z");
    EXPECT_EQ(format_utc(kT0 + 1ms + 999us), "2025-03-10T12:00:00.001Z");
    EXPECT_EQ(format_utc(TimePoint{}), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_utc(kT0 - 12h - 1s), "2025-03-09T23:59:59Z");
}

TEST(Window, OpenStrictlyBefore24Hours) {
    struct Case {
        Duration since_inbound;
        bool open;
    };
    const Case cases[] = {{0ms, true},  {1h, true},         {24h - 1ms, true},
                          {24h, false}, {24h + 1ms, false}, {-1h, true}};
    for (const auto& c : cases) {
        EXPECT_EQ(window_open(kT0, kT0 + c.since_inbound), c.open) << c.since_inbound.count();
    }
    EXPECT_FALSE(window_open(std::nullopt, kT0));
    EXPECT_EQ(window_closes_at(kT0), kT0 + 24h);
}

TEST(Window, LateOlderInboundNeverShortens) {
    EXPECT_EQ(renewed_last_inbound(std::nullopt, kT0), kT0);
    EXPECT_EQ(renewed_last_inbound(kT0, kT0 + 5h), kT0 + 5h);
    const TimePoint anchor = renewed_last_inbound(kT0 + 5h, kT0);  // arrives late, is older
    EXPECT_EQ(anchor, kT0 + 5h);
    EXPECT_TRUE(window_open(anchor, kT0 + 24h + 1h));
}

TEST(Window, InboundKindFromMetaType) {
    const std::pair<const char*, InboundKind> cases[] = {
        {"text", InboundKind::kText},
        {"image", InboundKind::kMedia},
        {"audio", InboundKind::kMedia},
        {"video", InboundKind::kMedia},
        {"document", InboundKind::kMedia},
        {"sticker", InboundKind::kMedia},
        {"location", InboundKind::kLocation},
        {"contacts", InboundKind::kContacts},
        {"interactive", InboundKind::kInteractiveReply},
        {"button", InboundKind::kButtonReply},
        {"order", InboundKind::kOrder},
        {"reaction", InboundKind::kReaction},
        {"system", InboundKind::kSystem},
        {"unsupported", InboundKind::kUnsupported},
        {"unknown", InboundKind::kUnsupported},
        {"revoke", InboundKind::kOther},
        {"", InboundKind::kOther},
        {"TEXT", InboundKind::kOther},
    };
    for (const auto& [type, kind] : cases) {
        EXPECT_EQ(inbound_kind_from_type(type), kind) << type;
    }
}

TEST(Window, RenewalPerKindAndSetting) {
    const WindowRenewalSettings none{};
    const WindowRenewalSettings reactions{true, false, false};
    const WindowRenewalSettings system{false, true, false};
    const WindowRenewalSettings unsupported{false, false, true};
    struct Case {
        InboundKind kind;
        bool by_default, with_reactions, with_system, with_unsupported;
    };
    const Case cases[] = {
        {InboundKind::kText, true, true, true, true},
        {InboundKind::kMedia, true, true, true, true},
        {InboundKind::kLocation, true, true, true, true},
        {InboundKind::kContacts, true, true, true, true},
        {InboundKind::kInteractiveReply, true, true, true, true},
        {InboundKind::kButtonReply, true, true, true, true},
        {InboundKind::kOrder, true, true, true, true},
        {InboundKind::kReaction, false, true, false, false},
        {InboundKind::kSystem, false, false, true, false},
        {InboundKind::kUnsupported, false, false, false, true},
        {InboundKind::kOther, false, false, false, true},
    };
    for (const auto& c : cases) {
        const int k = static_cast<int>(c.kind);
        EXPECT_EQ(renews_window(c.kind, none), c.by_default) << k;
        EXPECT_EQ(renews_window(c.kind, reactions), c.with_reactions) << k;
        EXPECT_EQ(renews_window(c.kind, system), c.with_system) << k;
        EXPECT_EQ(renews_window(c.kind, unsupported), c.with_unsupported) << k;
    }
}

TEST(Classify, MessageClassOfType) {
    EXPECT_EQ(message_class_of("template"), kTpl);
    EXPECT_EQ(message_class_of("reaction"), kFree);
    EXPECT_EQ(message_class_of("text"), kFree);
    EXPECT_EQ(message_class_of("pin"), kFree);
    EXPECT_EQ(message_class_of(""), kFree);
}

TEST(Classify, WindowRuleTable) {
    const std::optional<TimePoint> open = kT0 - 1h;
    const std::optional<TimePoint> closed = kT0 - 24h;  // closed exactly at kT0
    const std::optional<TimePoint> never;
    struct Case {
        RequestKind kind;
        MessageClass cls;
        std::optional<TimePoint> last;
        int code;  // 0 = allowed
        bool business_initiated;
        bool window_open;
    };
    const Case cases[] = {
        {kMsg, kTpl, open, 0, false, true},          {kMsg, kTpl, closed, 0, true, false},
        {kMsg, kTpl, never, 0, true, false},         {kMsg, kFree, open, 0, false, true},
        {kMsg, kFree, closed, 131047, false, false}, {kMsg, kFree, never, 131047, false, false},
        {kRead, kFree, open, 0, false, true},        {kRead, kFree, closed, 0, false, false},
        {kRead, kFree, never, 0, false, false},
    };
    for (std::size_t i = 0; i < std::size(cases); ++i) {
        const auto& c = cases[i];
        const auto r = classify_send(c.kind, c.cls, c.last, kT0);
        if (c.code != 0) {
            ASSERT_FALSE(r) << i;
            EXPECT_EQ(r.error().code, c.code) << i;
            continue;
        }
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->business_initiated, c.business_initiated) << i;
        EXPECT_EQ(r->window_open, c.window_open) << i;
    }
}

TEST(Classify, ReEngagementErrorSaysWhenTheWindowClosed) {
    const auto closed = classify_send(kMsg, kFree, kT0 - 30h, kT0);
    ASSERT_FALSE(closed);
    EXPECT_EQ(closed.error().http_status, 400);
    EXPECT_EQ(closed.error().title, "Re-engagement message");
    EXPECT_FALSE(closed.error().gateway_type);
    EXPECT_EQ(closed.error().details,
              "to: the customer service window closed at 2025-03-10T06:00:00Z");
    const auto never = classify_send(kMsg, kFree, std::nullopt, kT0);
    ASSERT_FALSE(never);
    EXPECT_EQ(never.error().details,
              "to: no message from this user has opened a customer service window");
}

TEST(ContactRules, IdentityMatrix) {
    const ContactState changed{true, false, true};
    const ContactState fine{true, false, false};
    EXPECT_TRUE(check_identity(kMsg, fine));
    EXPECT_TRUE(check_identity(kRead, fine));
    EXPECT_TRUE(check_identity(kRead, changed));
    const auto r = check_identity(kMsg, changed);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, 900102);
    EXPECT_EQ(r.error().http_status, 400);
    EXPECT_TRUE(r.error().gateway_type);
    EXPECT_EQ(r.error().details,
              "to: the recipient's identity changed; acknowledge it through the admin API first");
}

TEST(ContactRules, OptInMatrix) {
    struct Case {
        RequestKind kind;
        MessageClass cls;
        bool opted_in, opted_out, require;
        const char* details;  // nullptr = allowed
    };
    const char* kNotIn = "to: the recipient has not opted in to template messages";
    const char* kOut = "to: the recipient opted out of template messages";
    const Case cases[] = {
        {kMsg, kTpl, true, false, true, nullptr},   {kMsg, kTpl, false, false, true, kNotIn},
        {kMsg, kTpl, true, true, true, kOut},       {kMsg, kTpl, false, true, true, kOut},
        {kMsg, kTpl, false, false, false, nullptr}, {kMsg, kTpl, true, true, false, nullptr},
        {kMsg, kFree, false, true, true, nullptr},  {kMsg, kFree, false, false, true, nullptr},
        {kRead, kFree, false, true, true, nullptr},
    };
    for (std::size_t i = 0; i < std::size(cases); ++i) {
        const auto& c = cases[i];
        const auto r =
            check_opt_in(c.kind, c.cls, ContactState{c.opted_in, c.opted_out, false}, c.require);
        if (c.details == nullptr) {
            EXPECT_TRUE(r) << i;
            continue;
        }
        ASSERT_FALSE(r) << i;
        EXPECT_EQ(r.error().code, 900101) << i;
        EXPECT_EQ(r.error().http_status, 400) << i;
        EXPECT_TRUE(r.error().gateway_type) << i;
        EXPECT_EQ(r.error().details, c.details) << i;
    }
}

TEST(NumberStatus, ParseAndFormat) {
    for (const auto s :
         {NumberStatus::kConnected, NumberStatus::kFlagged, NumberStatus::kRestricted}) {
        EXPECT_EQ(parse_number_status(to_string(s)), s);
    }
    EXPECT_EQ(to_string(NumberStatus::kRestricted), "RESTRICTED");
    for (const auto q : {Quality::kGreen, Quality::kYellow, Quality::kRed, Quality::kUnknown}) {
        EXPECT_EQ(parse_quality(to_string(q)), q);
    }
    EXPECT_EQ(to_string(Quality::kYellow), "YELLOW");
    EXPECT_EQ(parse_quality("NA"), Quality::kUnknown);
    EXPECT_EQ(parse_quality("green"), std::nullopt);
    EXPECT_EQ(parse_quality(""), std::nullopt);
    EXPECT_EQ(parse_number_status("BANNED"), std::nullopt);
    EXPECT_EQ(parse_number_status("connected"), std::nullopt);
}

TEST(NumberStatus, RestrictedRejectsOnlyBusinessInitiated) {
    struct Case {
        NumberStatus status;
        bool business_initiated;
        bool allowed;
    };
    const Case cases[] = {
        {NumberStatus::kConnected, true, true},   {NumberStatus::kConnected, false, true},
        {NumberStatus::kFlagged, true, true},     {NumberStatus::kFlagged, false, true},
        {NumberStatus::kRestricted, true, false}, {NumberStatus::kRestricted, false, true},
    };
    for (const auto& c : cases) {
        const auto r = check_number_status(c.status, c.business_initiated);
        EXPECT_EQ(static_cast<bool>(r), c.allowed) << to_string(c.status) << c.business_initiated;
        if (!r) {
            EXPECT_EQ(r.error().code, 900103);
            EXPECT_EQ(r.error().http_status, 400);
            EXPECT_TRUE(r.error().gateway_type);
        }
    }
}

TEST(CheckSend, FirstFailingRuleWins) {
    SendFacts ok;
    ok.message_class = kTpl;
    ok.contact = ContactState{true, false, false};
    ok.last_inbound = kT0 - 1h;

    struct Case {
        const char* name;
        SendFacts facts;
        int code;
        bool business_initiated;
    };
    std::vector<Case> cases;
    cases.push_back({"template in window", ok, 0, false});
    auto f = ok;
    f.last_inbound.reset();
    cases.push_back({"template outside window", f, 0, true});
    f.number_status = NumberStatus::kRestricted;
    cases.push_back({"restricted, business-initiated", f, 900103, false});
    f.contact.opted_in = false;
    cases.push_back({"opt-in before status", f, 900101, false});
    f.message_class = kFree;
    cases.push_back({"window before opt-in", f, 131047, false});
    f.contact.identity_ack_required = true;
    cases.push_back({"identity first", f, 900102, false});
    f.kind = kRead;
    f.queued_to_user = 100;
    f.pair_queue_cap = 1;
    cases.push_back({"mark-as-read skips everything", f, 0, false});
    f = ok;
    f.number_status = NumberStatus::kRestricted;
    f.message_class = kFree;
    cases.push_back({"restricted reply in window", f, 0, false});
    f.queued_to_user = 5;
    f.pair_queue_cap = 5;
    cases.push_back({"pair backlog", f, 131056, false});
    f.pair_queue_cap = 0;
    cases.push_back({"pair cap off", f, 0, false});

    for (const auto& c : cases) {
        const auto r = check_send(c.facts, kT0);
        if (c.code != 0) {
            ASSERT_FALSE(r) << c.name;
            EXPECT_EQ(r.error().code, c.code) << c.name;
            continue;
        }
        ASSERT_TRUE(r) << c.name;
        EXPECT_EQ(r->business_initiated, c.business_initiated) << c.name;
    }
}

}  // namespace
