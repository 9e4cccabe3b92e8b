// Account-level webhook fields (reference/webhooks.md §7): the effects each field's value has on
// numbers, tiers and templates (account_effects), Meta's messaging-limit forms (tier_from_meta) and
// template status transitions (template_status_after).
#include <wagate/domain/webhook.hpp>

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
using Kind = AccountEffect::Kind;

std::string_view kind_name(Kind k) {
    switch (k) {
        case Kind::kBusinessTier: return "BusinessTier";
        case Kind::kNumberStatus: return "NumberStatus";
        case Kind::kNumberQuality: return "NumberQuality";
        case Kind::kTemplateStatus: return "TemplateStatus";
        case Kind::kTemplateQuality: return "TemplateQuality";
        case Kind::kTemplateCategory: return "TemplateCategory";
    }
    return "?";
}

/// Every field of every effect, in order: "Kind:value", then "@display" when a number is named
/// and "#name/language/id" when any template field is set. An omitted part is empty.
std::string describe(const std::vector<AccountEffect>& effects) {
    std::string s;
    for (const auto& e : effects) {
        s += s.empty() ? "" : "; ";
        s += std::string(kind_name(e.kind)) + ":" + e.value;
        if (!e.display_phone_number.empty()) {
            s += "@" + e.display_phone_number;
        }
        if (!e.template_name.empty() || !e.template_language.empty() || !e.template_id.empty()) {
            s += "#" + e.template_name + "/" + e.template_language + "/" + e.template_id;
        }
    }
    return s;
}

struct EffectCase {
    std::string label;
    std::string field;
    std::string value;     // the change's value, as Meta sends it
    std::string expected;  // describe()
};

void PrintTo(const EffectCase& c, std::ostream* os) { *os << c.label; }

class WebhookAccountEffects : public ::testing::TestWithParam<EffectCase> {};

TEST_P(WebhookAccountEffects, AreExactlyThese) {
    const EffectCase& c = GetParam();
    EXPECT_EQ(describe(account_effects(c.field, c.value)), c.expected);
    // The same value inside the §3.2 envelope gives the same effects on its AccountUpdate.
    const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1739321024,)"
                             R"("changes":[{"value":)" + c.value + R"(,"field":")" + c.field + R"("}]}]})";
    const ParsedDelivery d = parse_delivery(body);
    ASSERT_TRUE(d.failures.empty());
    ASSERT_EQ(d.account_updates.size(), 1u);
    const AccountUpdate& u = d.account_updates[0];
    EXPECT_EQ(u.path, "entry[0].changes[0]");
    EXPECT_EQ(u.waba_id, "102290129340398");
    EXPECT_EQ(u.field, c.field);
    EXPECT_EQ(u.entry_time, 1739321024);
    EXPECT_EQ(json::parse(u.value_json), json::parse(c.value));
    EXPECT_EQ(describe(u.effects), c.expected);
}

// §7.2 phone_number_quality_update: legacy and current events, every limit form.
const std::vector<EffectCase> kPhoneQuality = {
    {"flagged", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"FLAGGED","current_limit":"TIER_10K"})",
     "NumberStatus:FLAGGED@15550783881; BusinessTier:TIER_10K@15550783881"},
    {"unflagged", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"UNFLAGGED","current_limit":"TIER_10K"})",
     "NumberStatus:CONNECTED@15550783881; BusinessTier:TIER_10K@15550783881"},
    {"upgrade", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"UPGRADE","current_limit":"TIER_100K","old_limit":"TIER_10K"})",
     "BusinessTier:TIER_100K@15550783881"},
    {"downgrade_legacy_1k", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"DOWNGRADE","current_limit":"TIER_1K","old_limit":"TIER_10K"})",
     "BusinessTier:TIER_1K@15550783881"},
    {"onboarding", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"ONBOARDING","current_limit":"TIER_250",
         "max_daily_conversations_per_business":"TIER_250"})",
     "BusinessTier:TIER_250@15550783881"},
    {"throughput_upgrade", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"THROUGHPUT_UPGRADE","current_limit":"TIER_UNLIMITED"})",
     "BusinessTier:TIER_UNLIMITED@15550783881"},
    {"current_limit_tier_50", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"ONBOARDING","current_limit":"TIER_50"})",
     "BusinessTier:TIER_50@15550783881"},
    {"current_limit_tier_2k", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"UPGRADE","current_limit":"TIER_2K","old_limit":"TIER_250"})",
     "BusinessTier:TIER_2K@15550783881"},
    {"per_business_as_string_2000", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"ONBOARDING","max_daily_conversations_per_business":"2000"})",
     "BusinessTier:TIER_2K@15550783881"},
    {"per_business_as_integer_2000", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"ONBOARDING","max_daily_conversations_per_business":2000})",
     "BusinessTier:TIER_2K@15550783881"},
    {"per_business_preferred_over_current_limit", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"UPGRADE","current_limit":"TIER_2K",
         "max_daily_conversations_per_business":"TIER_10K"})",
     "BusinessTier:TIER_10K@15550783881"},
    {"tier_not_set", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"ONBOARDING","current_limit":"TIER_NOT_SET",
         "max_daily_conversations_per_business":"TIER_NOT_SET"})",
     ""},
    {"flagged_without_limit", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"FLAGGED"})", "NumberStatus:FLAGGED@15550783881"},
    {"unknown_event_no_limit", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"SOMETHING_NEW"})", ""},
    {"limit_of_unknown_size", "phone_number_quality_update",
     R"({"display_phone_number":"15550783881","event":"UPGRADE","current_limit":"TIER_5K"})", ""},
};

// §7.7 business_capability_update: the deprecated per-phone integer and the v24 per-business tier.
const std::vector<EffectCase> kCapability = {
    {"per_phone_250", "business_capability_update",
     R"({"max_daily_conversation_per_phone":250,"max_phone_numbers_per_business":2})", "BusinessTier:TIER_250"},
    {"per_phone_2000", "business_capability_update",
     R"({"max_daily_conversation_per_phone":2000,"max_phone_numbers_per_waba":25})", "BusinessTier:TIER_2K"},
    {"per_phone_10000", "business_capability_update",
     R"({"max_daily_conversation_per_phone":10000,"max_phone_numbers_per_waba":25})", "BusinessTier:TIER_10K"},
    {"per_phone_100000", "business_capability_update",
     R"({"max_daily_conversation_per_phone":100000,"max_phone_numbers_per_waba":25})", "BusinessTier:TIER_100K"},
    {"per_phone_unlimited", "business_capability_update",
     R"({"max_daily_conversation_per_phone":-1,"max_phone_numbers_per_waba":25})", "BusinessTier:TIER_UNLIMITED"},
    {"per_business_tier_250", "business_capability_update",
     R"({"max_daily_conversations_per_business":"TIER_250","max_phone_numbers_per_business":2})",
     "BusinessTier:TIER_250"},
    {"per_business_tier_2k", "business_capability_update", R"({"max_daily_conversations_per_business":"TIER_2K"})",
     "BusinessTier:TIER_2K"},
    {"per_business_tier_10k", "business_capability_update", R"({"max_daily_conversations_per_business":"TIER_10K"})",
     "BusinessTier:TIER_10K"},
    {"per_business_tier_100k", "business_capability_update",
     R"({"max_daily_conversations_per_business":"TIER_100K"})", "BusinessTier:TIER_100K"},
    {"per_business_tier_unlimited", "business_capability_update",
     R"({"max_daily_conversations_per_business":"TIER_UNLIMITED"})", "BusinessTier:TIER_UNLIMITED"},
    // Meta's own example sends the integer.
    {"per_business_integer_2000", "business_capability_update",
     R"({"max_daily_conversations_per_business":2000,"max_phone_numbers_per_waba":25})", "BusinessTier:TIER_2K"},
    {"per_business_integer_100000", "business_capability_update",
     R"({"max_daily_conversations_per_business":100000})", "BusinessTier:TIER_100K"},
    {"per_business_unlimited_integer", "business_capability_update",
     R"({"max_daily_conversations_per_business":-1})", "BusinessTier:TIER_UNLIMITED"},
    {"per_business_preferred", "business_capability_update",
     R"({"max_daily_conversation_per_phone":250,"max_daily_conversations_per_business":"TIER_10K"})",
     "BusinessTier:TIER_10K"},
    {"tier_not_set", "business_capability_update", R"({"max_daily_conversations_per_business":"TIER_NOT_SET"})",
     ""},
    {"only_number_counts", "business_capability_update", R"({"max_phone_numbers_per_waba":25})", ""},
    {"per_phone_of_unknown_size", "business_capability_update", R"({"max_daily_conversation_per_phone":500})", ""},
    {"per_phone_as_float", "business_capability_update", R"({"max_daily_conversation_per_phone":250.0})", ""},
};

INSTANTIATE_TEST_SUITE_P(PhoneNumberQuality, WebhookAccountEffects, ::testing::ValuesIn(kPhoneQuality),
                         [](const auto& p) { return p.param.label; });
INSTANTIATE_TEST_SUITE_P(BusinessCapability, WebhookAccountEffects, ::testing::ValuesIn(kCapability),
                         [](const auto& p) { return p.param.label; });

// §7.5, §7.6, §7.1 and the fields that are only stored.
const std::vector<EffectCase> kOther = {
    {"template_quality_green", "message_template_quality_update",
     R"({"previous_quality_score":"YELLOW","new_quality_score":"GREEN","message_template_id":1689556908129832,
         "message_template_name":"order_update","message_template_language":"en_US"})",
     "TemplateQuality:GREEN#order_update/en_US/1689556908129832"},
    {"template_quality_yellow", "message_template_quality_update",
     R"({"previous_quality_score":"GREEN","new_quality_score":"YELLOW","message_template_id":1689556908129832,
         "message_template_name":"order_update","message_template_language":"en_US"})",
     "TemplateQuality:YELLOW#order_update/en_US/1689556908129832"},
    {"template_quality_red", "message_template_quality_update",
     R"({"previous_quality_score":"YELLOW","new_quality_score":"RED","message_template_id":"806312974732579",
         "message_template_name":"summer_sale","message_template_language":"pt_BR"})",
     "TemplateQuality:RED#summer_sale/pt_BR/806312974732579"},
    {"template_quality_unknown", "message_template_quality_update",
     R"({"previous_quality_score":"GREEN","new_quality_score":"UNKNOWN","message_template_id":1,
         "message_template_name":"t","message_template_language":"en"})",
     "TemplateQuality:UNKNOWN#t/en/1"},
    {"template_quality_not_a_score", "message_template_quality_update",
     R"({"previous_quality_score":"GREEN","new_quality_score":"PURPLE","message_template_id":1,
         "message_template_name":"t","message_template_language":"en"})",
     ""},
    {"template_category_completed", "template_category_update",
     R"({"message_template_id":1689556908129832,"message_template_name":"order_update",
         "message_template_language":"en_US","previous_category":"MARKETING","new_category":"UTILITY"})",
     "TemplateCategory:UTILITY#order_update/en_US/1689556908129832"},
    {"template_category_completed_to_marketing", "template_category_update",
     R"({"message_template_id":1689556908129832,"message_template_name":"order_update",
         "message_template_language":"en_US","previous_category":"UTILITY","new_category":"MARKETING"})",
     "TemplateCategory:MARKETING#order_update/en_US/1689556908129832"},
    {"template_category_impending", "template_category_update",
     R"({"message_template_id":1689556908129832,"message_template_name":"order_update",
         "message_template_language":"en_US","correct_category":"MARKETING","new_category":"UTILITY",
         "category_update_timestamp":1750118400})",
     ""},
    {"ban_disable", "account_update",
     R"({"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"DISABLE","waba_ban_date":"April 17, 2025"}})",
     "NumberStatus:RESTRICTED"},
    {"ban_reinstate", "account_update",
     R"({"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"REINSTATE","waba_ban_date":"April 20, 2025"}})",
     "NumberStatus:CONNECTED"},
    {"ban_schedule_for_disable", "account_update",
     R"({"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":"SCHEDULE_FOR_DISABLE","waba_ban_date":"May 1, 2025"}})",
     ""},
    {"account_violation", "account_update",
     R"({"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"ADULT"}})", ""},
    {"partner_app_installed", "account_update",
     R"({"event":"PARTNER_APP_INSTALLED","waba_info":{"waba_id":"102290129340398","owner_business_id":"2729063490586005",
         "partner_app_id":"1035883031449981"}})",
     ""},
    {"security_pin_changed", "security",
     R"({"display_phone_number":"15550783881","event":"PIN_CHANGED","requester":"2729063490586005"})", ""},
    {"security_pin_reset_request", "security",
     R"({"display_phone_number":"15550783881","event":"PIN_RESET_REQUEST","requester":"2729063490586005"})", ""},
    {"account_alerts", "account_alerts",
     R"({"entity_type":"PHONE_NUMBER","entity_id":"106540352242922","alert_info":{"alert_severity":"WARNING",
         "alert_status":"ACTIVE","alert_type":"INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED",
         "alert_description":"Your eligibility for increased messaging limits was deferred."}})",
     ""},
    {"phone_number_name_update", "phone_number_name_update",
     R"({"display_phone_number":"15550783881","decision":"APPROVED","requested_verified_name":"Lucky Shrub",
         "rejection_reason":"NONE"})",
     ""},
    {"account_review_update", "account_review_update", R"({"decision":"APPROVED"})", ""},
    {"unknown_field", "some_future_field",
     R"({"event":"FLAGGED","current_limit":"TIER_10K","ban_info":{"waba_ban_state":"DISABLE"},"new_quality_score":"RED"})",
     ""},
};

INSTANTIATE_TEST_SUITE_P(Other, WebhookAccountEffects, ::testing::ValuesIn(kOther),
                         [](const auto& p) { return p.param.label; });

// §7.4 message_template_status_update: every event of the reference.
TEST(WebhookTemplateStatus, EveryEventIsATemplateStatusEffectAndItsNextStatus) {
    struct Case {
        std::string event;
        std::string after;  // template_status_after(event, "PAUSED")
    };
    const Case cases[] = {
        {"APPROVED", "APPROVED"},
        {"ARCHIVED", "ARCHIVED"},
        {"UNARCHIVED", "PAUSED"},  // restores the status before the archive
        {"DELETED", "DELETED"},
        {"DISABLED", "DISABLED"},
        {"FLAGGED", "FLAGGED"},
        {"IN_APPEAL", "IN_APPEAL"},
        {"LIMIT_EXCEEDED", "LIMIT_EXCEEDED"},
        {"LOCKED", "LOCKED"},
        {"PAUSED", "PAUSED"},
        {"PENDING", "PENDING"},
        {"REINSTATED", "APPROVED"},
        {"PENDING_DELETION", "PENDING_DELETION"},
        {"REJECTED", "REJECTED"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.event);
        const std::string value = R"({"event":")" + c.event +
                                  R"(","message_template_id":1689556908129832,"message_template_name":"order_update",)"
                                  R"("message_template_language":"en-US","reason":"NONE","message_template_category":"UTILITY"})";
        EXPECT_EQ(describe(account_effects("message_template_status_update", value)),
                  "TemplateStatus:" + c.event + "#order_update/en-US/1689556908129832");
        EXPECT_EQ(template_status_after(c.event, "PAUSED"), std::optional<std::string>(c.after));
    }
}

TEST(WebhookTemplateStatus, PayloadsWithEveryOptionalPart) {
    const std::string rejected = R"({"event":"REJECTED","message_template_id":806312974732579,
        "message_template_name":"summer_sale","message_template_language":"en_US","reason":"INVALID_FORMAT",
        "message_template_category":"MARKETING",
        "rejection_info":{"reason":"The template has a variable at the start.","recommendation":"Move the variable."}})";
    EXPECT_EQ(describe(account_effects("message_template_status_update", rejected)),
              "TemplateStatus:REJECTED#summer_sale/en_US/806312974732579");
    const std::string paused = R"({"event":"PAUSED","message_template_id":806312974732579,
        "message_template_name":"summer_sale","message_template_language":"en_US","reason":"NONE",
        "other_info":{"title":"FIRST_PAUSE","description":"Paused for 3 hours due to low quality."}})";
    EXPECT_EQ(describe(account_effects("message_template_status_update", paused)),
              "TemplateStatus:PAUSED#summer_sale/en_US/806312974732579");
    const std::string disabled = R"({"event":"DISABLED","message_template_id":806312974732579,
        "message_template_name":"summer_sale","message_template_language":"en_US","reason":"NONE",
        "disable_info":{"disable_date":"DATE"}})";
    EXPECT_EQ(describe(account_effects("message_template_status_update", disabled)),
              "TemplateStatus:DISABLED#summer_sale/en_US/806312974732579");
    // `reason` is JSON null when the template is scheduled for deletion.
    const std::string pending_deletion = R"({"event":"PENDING_DELETION","message_template_id":806312974732579,
        "message_template_name":"summer_sale","message_template_language":"en_US","reason":null})";
    EXPECT_EQ(describe(account_effects("message_template_status_update", pending_deletion)),
              "TemplateStatus:PENDING_DELETION#summer_sale/en_US/806312974732579");
    // The id as a string, and an id beyond 2^53 that a double would round.
    const std::string string_id = R"({"event":"APPROVED","message_template_id":"9007199254740993",
        "message_template_name":"t","message_template_language":"en"})";
    EXPECT_EQ(describe(account_effects("message_template_status_update", string_id)),
              "TemplateStatus:APPROVED#t/en/9007199254740993");
    const std::string big_id = R"({"event":"APPROVED","message_template_id":9007199254740993,
        "message_template_name":"t","message_template_language":"en"})";
    EXPECT_EQ(describe(account_effects("message_template_status_update", big_id)),
              "TemplateStatus:APPROVED#t/en/9007199254740993");
}

TEST(WebhookTemplateStatus, AnEventlessValueHasNoEffect) {
    for (const char* value : {R"({"message_template_id":1,"message_template_name":"t","message_template_language":"en"})",
                              R"({"event":"","message_template_id":1})", R"({"event":null,"message_template_id":1})"}) {
        SCOPED_TRACE(value);
        EXPECT_EQ(describe(account_effects("message_template_status_update", value)), "");
    }
}

TEST(WebhookTemplateStatus, UnarchivedRestoresThePreArchiveStatus) {
    EXPECT_EQ(template_status_after("UNARCHIVED", "APPROVED"), std::optional<std::string>("APPROVED"));
    EXPECT_EQ(template_status_after("UNARCHIVED", "PAUSED"), std::optional<std::string>("PAUSED"));
    EXPECT_EQ(template_status_after("UNARCHIVED", "REJECTED"), std::optional<std::string>("REJECTED"));
    EXPECT_EQ(template_status_after("UNARCHIVED", "DISABLED"), std::optional<std::string>("DISABLED"));
    // Unknown before the archive: APPROVED (an unarchived template needs no new review).
    EXPECT_EQ(template_status_after("UNARCHIVED", ""), std::optional<std::string>("APPROVED"));
}

TEST(WebhookTemplateStatus, ReinstatedIsApprovedWhateverCameBefore) {
    for (const char* before : {"", "PAUSED", "DISABLED", "REJECTED"}) {
        EXPECT_EQ(template_status_after("REINSTATED", before), std::optional<std::string>("APPROVED")) << before;
    }
}

TEST(WebhookTemplateStatus, BeforeArchiveMattersOnlyForUnarchived) {
    EXPECT_EQ(template_status_after("ARCHIVED", "APPROVED"), std::optional<std::string>("ARCHIVED"));
    EXPECT_EQ(template_status_after("PAUSED", "REJECTED"), std::optional<std::string>("PAUSED"));
    EXPECT_EQ(template_status_after("APPROVED", ""), std::optional<std::string>("APPROVED"));
}

TEST(WebhookTemplateStatus, EventsThatAreNoStatusChangeNothing) {
    for (const char* event : {"", "UNPAUSE", "FIRST_PAUSE", "PARTNER_ADDED", "APPROVED ", "SOMETHING_NEW"}) {
        EXPECT_EQ(template_status_after(event, "APPROVED"), std::nullopt) << event;
    }
}

// ---------------------------------------------------------------------------------------------
// tier_from_meta (§7.2, §7.7)

TEST(WebhookTier, EveryMetaFormOfALimit) {
    const std::pair<const char*, const char*> tiers[] = {
        {"TIER_50", "TIER_50"},
        {"TIER_250", "TIER_250"},
        {"TIER_1K", "TIER_1K"},  // legacy, kept
        {"TIER_2K", "TIER_2K"},
        {"TIER_10K", "TIER_10K"},
        {"TIER_100K", "TIER_100K"},
        {"TIER_UNLIMITED", "TIER_UNLIMITED"},
        {"50", "TIER_50"},
        {"250", "TIER_250"},
        {"1000", "TIER_1K"},
        {"2000", "TIER_2K"},
        {"10000", "TIER_10K"},
        {"100000", "TIER_100K"},
        {"-1", "TIER_UNLIMITED"},
    };
    for (const auto& [meta, tier] : tiers) {
        EXPECT_EQ(tier_from_meta(meta), std::optional<std::string>(tier)) << meta;
    }
}

TEST(WebhookTier, AnythingElseIsNoTier) {
    for (const char* junk : {"TIER_NOT_SET", "", "0", "1", "-2", "500", "2001", "1999", "TIER_5K", "TIER_", "TIER",
                             "UNLIMITED", "2000.0", " 2000", "2000 ", "+2000", "2,000", "2k", "0x7D0",
                             "99999999999999999999", "-99999999999999999999", "TIER_2K ", "null"}) {
        EXPECT_EQ(tier_from_meta(junk), std::nullopt) << "'" << junk << "'";
    }
}

// ---------------------------------------------------------------------------------------------
// Values that are not objects: no effects, never a throw.

TEST(WebhookAccountEffectsInput, ValuesThatAreNotObjectsHaveNoEffects) {
    for (const char* value : {"", "{", "null", "[]", R"(["FLAGGED"])", "42", R"("TIER_2K")", "{\"event\":\"FLAGGED\"}}",
                              "\xFF\xFE"}) {
        for (const char* field : {"phone_number_quality_update", "business_capability_update",
                                  "message_template_status_update", "account_update"}) {
            EXPECT_TRUE(account_effects(field, value).empty()) << field << " " << value;
        }
    }
}

TEST(WebhookAccountEffectsInput, MembersOfTheWrongKindAreIgnored) {
    EXPECT_EQ(describe(account_effects("phone_number_quality_update",
                                       R"({"display_phone_number":15550783881,"event":"FLAGGED","current_limit":["TIER_2K"]})")),
              "NumberStatus:FLAGGED@15550783881");
    EXPECT_EQ(describe(account_effects("account_update", R"({"event":"DISABLED_UPDATE","ban_info":"DISABLE"})")), "");
    EXPECT_EQ(describe(account_effects("account_update", R"({"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":7}})")),
              "");
    EXPECT_EQ(describe(account_effects("business_capability_update",
                                       R"({"max_daily_conversations_per_business":{"tier":"TIER_2K"}})")),
              "");
    EXPECT_EQ(describe(account_effects("template_category_update",
                                       R"({"message_template_id":1,"previous_category":"MARKETING"})")),
              "");
}

}  // namespace
