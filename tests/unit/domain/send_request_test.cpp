#include <wagate/domain/send_request.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;
using wagate::domain::count_code_points;
using wagate::domain::RecipientKind;
using wagate::domain::RequestKind;
using wagate::domain::SendRequest;
using wagate::domain::validate_send_request;
using wagate::domain::ValidationSettings;

#ifdef WAGATE_TEST_CORPUS_DIR
constexpr const char* kCorpusDir = WAGATE_TEST_CORPUS_DIR;
#else
constexpr const char* kCorpusDir = "tests/corpus";
#endif

// One file per message type; the suite fails if one goes missing.
const std::set<std::string> kExpectedFiles = {
    "audio", "contacts", "document", "envelope", "image", "interactive_button",
    "interactive_carousel", "interactive_commerce", "interactive_cta_url", "interactive_flow",
    "interactive_list", "interactive_other", "location", "mark_read", "reaction", "sticker",
    "template", "text", "video"};

struct CorpusCase {
    std::string file;  // file stem, e.g. "interactive_button"
    std::string name;
    std::string body;  // sent verbatim
    json expect;
    ValidationSettings settings;
};

void PrintTo(const CorpusCase& c, std::ostream* os) {
    *os << c.file << "/" << c.name;
}

struct Corpus {
    std::vector<CorpusCase> cases;
    std::vector<std::string> problems;  // anything wrong with the corpus files themselves
};

ValidationSettings read_settings(const json& c) {
    ValidationSettings settings;
    const auto it = c.find("settings");
    if (it == c.end()) {
        return settings;
    }
    settings.max_contacts = it->value("max_contacts", settings.max_contacts);
    settings.max_json_depth = it->value("max_json_depth", settings.max_json_depth);
    settings.direct_send_enabled = it->value("direct_send_enabled", settings.direct_send_enabled);
    return settings;
}

void load_file(const std::filesystem::path& path, Corpus& corpus) {
    const std::string stem = path.stem().string();
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    const json file = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (file.is_discarded() || !file.contains("cases") || !file["cases"].is_array()) {
        corpus.problems.push_back(stem + ": not a {\"cases\":[...]} JSON file");
        return;
    }
    if (file["cases"].empty()) {
        corpus.problems.push_back(stem + ": no cases");
    }
    for (const auto& c : file["cases"]) {
        CorpusCase item{
            stem, c.value("name", std::string{}), {}, c.value("expect", json{}), read_settings(c)};
        if (c.contains("raw") && c["raw"].is_string()) {
            item.body = c["raw"].get<std::string>();
        } else if (c.contains("body")) {
            item.body = c["body"].dump(-1, ' ', /*ensure_ascii=*/false);
        } else {
            corpus.problems.push_back(stem + "/" + item.name + ": neither body nor raw");
            continue;
        }
        if (!item.expect.is_object() || !item.expect.contains("status")) {
            corpus.problems.push_back(stem + "/" + item.name + ": expect.status missing");
            continue;
        }
        corpus.cases.push_back(std::move(item));
    }
}

const Corpus& corpus() {
    static const Corpus loaded = [] {
        Corpus c;
        const std::filesystem::path dir = std::filesystem::path(kCorpusDir) / "send";
        std::error_code ec;
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            if (entry.path().extension() == ".json") {
                files.push_back(entry.path());
            }
        }
        if (ec) {
            c.problems.push_back(dir.string() + ": " + ec.message());
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            load_file(file, c);
        }
        return c;
    }();
    return loaded;
}

// True if every key/value of `expected` appears in `actual` (objects recursively, arrays
// element-wise with equal length); `where` names the first mismatch.
bool is_subset(const json& expected, const json& actual, std::string& where) {
    if (expected.is_object()) {
        if (!actual.is_object()) {
            return false;
        }
        for (const auto& [key, value] : expected.items()) {
            if (!actual.contains(key) || !is_subset(value, actual[key], where)) {
                where = "." + key + where;
                return false;
            }
        }
        return true;
    }
    if (expected.is_array()) {
        if (!actual.is_array() || actual.size() != expected.size()) {
            return false;
        }
        for (std::size_t i = 0; i < expected.size(); ++i) {
            if (!is_subset(expected[i], actual[i], where)) {
                where = "[" + std::to_string(i) + "]" + where;
                return false;
            }
        }
        return true;
    }
    return expected == actual;
}

json optional_json(const std::optional<std::string>& value) {
    return value ? json(*value) : json(nullptr);
}

// The SendRequest fields a case may pin down with "expect_fields".
const std::map<std::string, std::function<json(const SendRequest&)>>& field_getters() {
    static const std::map<std::string, std::function<json(const SendRequest&)>> getters = {
        {"kind",
         [](const SendRequest& r) {
             return r.kind == RequestKind::kMarkRead ? "mark_read" : "message";
         }},
        {"recipient_kind",
         [](const SendRequest& r) {
             switch (r.recipient_kind) {
                 case RecipientKind::kIndividual:
                     return "individual";
                 case RecipientKind::kBsuid:
                     return "bsuid";
                 case RecipientKind::kGroup:
                     return "group";
             }
             return "?";
         }},
        {"type", [](const SendRequest& r) { return json(r.type); }},
        {"interactive_type", [](const SendRequest& r) { return json(r.interactive_type); }},
        {"to_input", [](const SendRequest& r) { return json(r.to_input); }},
        {"wa_id", [](const SendRequest& r) { return json(r.wa_id); }},
        {"template_name", [](const SendRequest& r) { return json(r.template_name); }},
        {"template_language", [](const SendRequest& r) { return json(r.template_language); }},
        {"context_message_id",
         [](const SendRequest& r) { return optional_json(r.context_message_id); }},
        {"reaction_message_id",
         [](const SendRequest& r) { return optional_json(r.reaction_message_id); }},
        {"mark_read_message_id", [](const SendRequest& r) { return json(r.mark_read_message_id); }},
        {"typing_indicator", [](const SendRequest& r) { return json(r.typing_indicator); }},
        {"biz_opaque_callback_data",
         [](const SendRequest& r) { return optional_json(r.biz_opaque_callback_data); }},
    };
    return getters;
}

class SendCorpus : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(SendCorpus, MatchesExpectation) {
    const CorpusCase& c = GetParam();
    const auto result = validate_send_request(c.body, c.settings);
    const int status = c.expect["status"].get<int>();
    if (status == 200) {
        ASSERT_TRUE(result.has_value())
            << "code " << result.error().code << ": " << result.error().details;
        const SendRequest& request = *result;
        const json payload = json::parse(request.payload_json, nullptr, false);
        ASSERT_TRUE(payload.is_object()) << request.payload_json;
        if (c.expect.contains("expect_wa_id")) {
            EXPECT_EQ(request.wa_id, c.expect["expect_wa_id"].get<std::string>());
        }
        if (c.expect.contains("expect_payload_contains")) {
            std::string where;
            EXPECT_TRUE(is_subset(c.expect["expect_payload_contains"], payload, where))
                << "payload differs at " << where << "\n"
                << request.payload_json;
        }
        const json fields = c.expect.value("expect_fields", json::object());
        for (const auto& [field, value] : fields.items()) {
            const auto getter = field_getters().find(field);
            ASSERT_NE(getter, field_getters().end()) << "unknown expect_fields key " << field;
            EXPECT_EQ(getter->second(request), value) << field;
        }
        return;
    }
    ASSERT_FALSE(result.has_value()) << "accepted: " << result->payload_json;
    const auto& error = result.error();
    EXPECT_EQ(error.http_status, status);
    EXPECT_EQ(error.code, c.expect.value("code", 0)) << error.details;
    const std::string path = c.expect.value("path", std::string{});
    EXPECT_TRUE(error.details.rfind(path + ": ", 0) == 0)
        << "details \"" << error.details << "\" should start with \"" << path << ": \"";
}

std::string case_name(const ::testing::TestParamInfo<CorpusCase>& info) {
    return info.param.file + "__" + info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, SendCorpus, ::testing::ValuesIn(corpus().cases), case_name);

TEST(SendCorpusFiles, LoadWithoutProblems) {
    for (const auto& problem : corpus().problems) {
        ADD_FAILURE() << problem;
    }
    EXPECT_GE(corpus().cases.size(), 250u);
}

TEST(SendCorpusFiles, EveryFileHasValidAndInvalidCases) {
    std::map<std::string, std::pair<int, int>> counts;  // file -> (valid, invalid)
    for (const auto& c : corpus().cases) {
        auto& [valid, invalid] = counts[c.file];
        (c.expect["status"] == 200 ? valid : invalid) += 1;
    }
    std::set<std::string> files;
    for (const auto& [file, count] : counts) {
        files.insert(file);
        EXPECT_GT(count.first, 0) << file << " has no valid case";
        EXPECT_GT(count.second, 0) << file << " has no invalid case";
    }
    EXPECT_EQ(files, kExpectedFiles);
}

TEST(SendCorpusFiles, CaseNamesAreUniqueSnakeCase) {
    std::set<std::string> names;
    for (const auto& c : corpus().cases) {
        EXPECT_TRUE(names.insert(c.name).second) << "duplicate case name " << c.name;
        const bool snake =
            !c.name.empty() && std::all_of(c.name.begin(), c.name.end(), [](char ch) {
                return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
            });
        EXPECT_TRUE(snake) << "case name is not snake_case: " << c.name;
    }
}

TEST(SendCorpusFiles, InvalidCasesNameCodeAndPath) {
    for (const auto& c : corpus().cases) {
        if (c.expect["status"] != 200) {
            EXPECT_TRUE(c.expect.contains("code")) << c.name;
            EXPECT_TRUE(c.expect.contains("path")) << c.name;
        }
    }
}

// ---- count_code_points ------------------------------------------------------------------------

TEST(CountCodePoints, CountsCodePointsNotBytes) {
    EXPECT_EQ(count_code_points(""), 0u);
    EXPECT_EQ(count_code_points("hello"), 5u);
    EXPECT_EQ(count_code_points("\xC3\xA9"), 1u);          // é
    EXPECT_EQ(count_code_points("\xE2\x82\xAC"), 1u);      // €
    EXPECT_EQ(count_code_points("\xF0\x9F\x98\x80"), 1u);  // 😀
    EXPECT_EQ(count_code_points("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), 4u);
    // A family emoji is one grapheme but five code points (three people, two joiners).
    EXPECT_EQ(count_code_points("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D"
                                "\xF0\x9F\x91\xA7"),
              5u);
}

TEST(CountCodePoints, TextLimitUsesCodePoints) {
    std::string body;
    for (int i = 0; i < 4096; ++i) {
        body += "\xF0\x9F\x98\x80";  // 4 bytes each: 16384 bytes, 4096 code points
    }
    json request = {{"messaging_product", "whatsapp"},
                    {"to", "+15551234567"},
                    {"type", "text"},
                    {"text", {{"body", body}}}};
    EXPECT_TRUE(validate_send_request(request.dump(), {}).has_value());
    request["text"]["body"] = body + "a";
    const auto result = validate_send_request(request.dump(), {});
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().details, "text.body: at most 4096 characters");
}

TEST(SendRequestBody, JsonFollowedByANulAndGarbageIsRejected) {
    // nlohmann's lexer would stop at the NUL and accept the JSON before it.
    const std::string valid = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hi"}})";
    EXPECT_TRUE(validate_send_request(valid, {}).has_value());
    const auto result = validate_send_request(valid + std::string(1, '\0') + "garbage", {});
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().http_status, 400);
}

// ---- emoji rules (through reactions and flow_cta) ---------------------------------------------

json text_message(const std::string& body) {
    return {{"messaging_product", "whatsapp"},
            {"to", "+15551234567"},
            {"type", "text"},
            {"text", {{"body", body}}}};
}

// 0 when accepted, else the error code.
int reaction_code(const std::string& emoji) {
    const json request = {
        {"messaging_product", "whatsapp"},
        {"to", "+15551234567"},
        {"type", "reaction"},
        {"reaction", {{"message_id", "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI"}, {"emoji", emoji}}}};
    const auto result = validate_send_request(request.dump(), {});
    return result ? 0 : result.error().code;
}

TEST(ReactionEmoji, AcceptsOneEmojiGraphemeCluster) {
    const std::vector<std::string> accepted = {
        "",  // removes a reaction
        "😀",
        "👍",
        "🫠",
        "🦩",
        "👍🏽",  // skin-tone modifier
        "❤️",
        "❤",
        "☺️",
        "©️",  // text-default symbols, with and without VS16
        "🇧🇷",
        "🇺🇸",  // flags
        "1️⃣",
        "#⃣",
        "*️⃣",  // keycaps
        "👨‍👩‍👧‍👦",
        "👩🏾‍💻",
        "🏳️‍🌈",
        "🧑‍🤝‍🧑",            // ZWJ sequences
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿",  // tag sequence (Scotland)
    };
    for (const auto& emoji : accepted) {
        EXPECT_EQ(reaction_code(emoji), 0) << emoji;
    }
}

TEST(ReactionEmoji, RejectsAnythingButOneEmoji) {
    const std::vector<std::string> rejected = {
        "a",
        "ok",
        "1",
        "#",
        ":)",
        "👍👍",
        "hi 👍",
        "👍 ",
        " 👍",  // two emoji, text + emoji, padding
        "🇧",
        "🇧🇷🇺🇸",  // half a flag, two flags
        "🏻",  // a lone skin-tone modifier
        "\u200D👍",
        "👍\u200D",  // dangling joiners
        "1\u20E3x",
        "\uFE0F",
        "🏴\U000E0067\U000E0062",  // tag sequence without its terminator
    };
    for (const auto& emoji : rejected) {
        EXPECT_EQ(reaction_code(emoji), 131009) << emoji;
    }
}

TEST(FlowCta, RejectsEmojiButNotTextSymbols) {
    const auto send = [](const std::string& cta) {
        json request = {{"messaging_product", "whatsapp"},
                        {"to", "+15551234567"},
                        {"type", "interactive"},
                        {"interactive",
                         {{"type", "flow"},
                          {"body", {{"text", "Book an appointment"}}},
                          {"action",
                           {{"name", "flow"},
                            {"parameters",
                             {{"flow_message_version", "3"},
                              {"flow_id", "1234567890"},
                              {"flow_cta", cta}}}}}}}};
        return validate_send_request(request.dump(), {});
    };
    EXPECT_TRUE(send("Book now").has_value());
    EXPECT_TRUE(send("Acme\xC2\xAE booking").has_value());  // ® without VS16 is text
    for (const std::string cta : {"Book now ✅", "Go ➡️", "🚀 Start", "Vote 🇧🇷"}) {
        const auto result = send(cta);
        ASSERT_FALSE(result.has_value()) << cta;
        EXPECT_EQ(result.error().code, 131009);
        EXPECT_EQ(result.error().details,
                  "interactive.action.parameters.flow_cta: must not contain emoji");
    }
}

// ---- normalisation of payload_json ------------------------------------------------------------

json payload_of(const std::string& body, const ValidationSettings& settings = {}) {
    const auto result = validate_send_request(body, settings);
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().details);
    return result ? json::parse(result->payload_json) : json();
}

TEST(Normalisation, PhoneRecipientBecomesCanonical) {
    json request = text_message("hi");
    request["to"] = "1 (555) 123-4567";
    const auto result = validate_send_request(request.dump(), {});
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->to_input, "1 (555) 123-4567");
    EXPECT_EQ(result->wa_id, "15551234567");
    EXPECT_EQ(result->recipient_kind, RecipientKind::kIndividual);
    const json payload = json::parse(result->payload_json);
    EXPECT_EQ(payload["to"], "+15551234567");
    EXPECT_EQ(payload["recipient_type"], "individual");
    EXPECT_EQ(payload["messaging_product"], "whatsapp");
}

TEST(Normalisation, BsuidAndGroupIdsAreRelayedUnchanged) {
    json bsuid = text_message("hi");
    bsuid.erase("to");
    bsuid["recipient"] = "US.13491208655302741918";
    EXPECT_EQ(payload_of(bsuid.dump())["recipient"], "US.13491208655302741918");
    json group = text_message("hi");
    group["to"] = "Y2FwaV9ncm91cDoxNTU1MTIzNDU2NzoxMjM0NTY3ODk=";
    group["recipient_type"] = "group";
    EXPECT_EQ(payload_of(group.dump())["to"], "Y2FwaV9ncm91cDoxNTU1MTIzNDU2NzoxMjM0NTY3ODk=");
}

TEST(Normalisation, JsonEncodedStringsAreDecoded) {
    const json contacts =
        json::array({{{"name", {{"formatted_name", "Ann Lee"}, {"first_name", "Ann"}}}}});
    const json request = {{"messaging_product", "whatsapp"},
                          {"to", "+15551234567"},
                          {"type", "contacts"},
                          {"contacts", contacts.dump()}};
    EXPECT_EQ(payload_of(request.dump())["contacts"], contacts);
}

TEST(Normalisation, TemplateIndicesSubTypesAndComponentTypes) {
    const json components = json::array({
        {{"type", "BODY"}, {"parameters", json::array({{{"type", "text"}, {"text", "Ann"}}})}},
        {{"type", "button"},
         {"sub_type", "COPY_CODE"},
         {"index", "1"},
         {"parameters", json::array({{{"type", "coupon_code"}, {"coupon_code", "SAVE25"}}})}},
    });
    const json request = {{"messaging_product", "whatsapp"},
                          {"to", "+15551234567"},
                          {"type", "template"},
                          {"template",
                           {{"name", "spring_sale"},
                            {"language", {{"code", "en_US"}}},
                            {"components", components.dump()}}}};
    const json payload = payload_of(request.dump());
    const json& out = payload["template"]["components"];
    ASSERT_TRUE(out.is_array());
    EXPECT_EQ(out[0]["type"], "body");
    EXPECT_EQ(out[1]["sub_type"], "copy_code");
    EXPECT_EQ(out[1]["index"], 1);
    EXPECT_TRUE(out[1]["index"].is_number_integer());
}

TEST(Normalisation, NullOptionalFieldsAreDropped) {
    const std::string body = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"image",
        "image":{"link":"https://example.com/a.jpg","caption":null},"context":null})";
    const json payload = payload_of(body);
    EXPECT_FALSE(payload["image"].contains("caption"));
    EXPECT_FALSE(payload.contains("context"));
}

TEST(Normalisation, NonAsciiStaysUtf8AndKeyOrderDoesNotMatter) {
    const std::string a = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text",)"
                          R"("text":{"body":"Caf\u00e9 \ud83d\ude00","preview_url":false}})";
    const std::string b = R"({"text":{"preview_url":false,"body":"Café 😀"},"type":"text",)"
                          R"("to":"+15551234567","messaging_product":"whatsapp"})";
    const auto first = validate_send_request(a, {});
    const auto second = validate_send_request(b, {});
    ASSERT_TRUE(first.has_value() && second.has_value());
    EXPECT_EQ(first->payload_json, second->payload_json);
    EXPECT_NE(first->payload_json.find("Café 😀"), std::string::npos) << first->payload_json;
}

TEST(Normalisation, MarkReadKeepsItsShape) {
    const auto result = validate_send_request(
        R"({"messaging_product":"whatsapp","status":"read","message_id":"wamid.ABC",)"
        R"("typing_indicator":{"type":"text"}})",
        {});
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->kind, RequestKind::kMarkRead);
    EXPECT_TRUE(result->typing_indicator);
    EXPECT_EQ(json::parse(result->payload_json),
              json::parse(R"({"messaging_product":"whatsapp","status":"read",)"
                          R"("message_id":"wamid.ABC","typing_indicator":{"type":"text"}})"));
}

TEST(BodyEncoding, InvalidUtf8IsRejectedBeforeParsing) {
    // Bytes a JSON file cannot hold, so they live here rather than in the corpus.
    for (const std::string bad :
         {"\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"}) {
        const std::string body = R"({"messaging_product":"whatsapp","to":"+15551234567",)"
                                 R"("type":"text","text":{"body":")" +
                                 bad + R"("}})";
        const auto result = validate_send_request(body, {});
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error().code, 100);
        EXPECT_EQ(result.error().details, "body: not valid UTF-8");
    }
}

// ---- depth limit --------------------------------------------------------------------------------

// A flow message whose free-form `data` nests `levels` objects. Five containers enclose `data`
// (the body, interactive, action, parameters, flow_action_payload).
std::string flow_with_data_depth(int levels, bool as_string) {
    json data = {{"leaf", 1}};
    for (int i = 1; i < levels; ++i) {
        data = {{"n", data}};
    }
    json request = {
        {"messaging_product", "whatsapp"},
        {"to", "+15551234567"},
        {"type", "interactive"},
        {"interactive",
         {{"type", "flow"},
          {"body", {{"text", "Continue"}}},
          {"action",
           {{"name", "flow"},
            {"parameters",
             {{"flow_message_version", "3"},
              {"flow_id", "1234567890"},
              {"flow_cta", "Open"},
              {"flow_action_payload",
               {{"screen", "START"}, {"data", as_string ? json(data.dump()) : data}}}}}}}}}};
    return request.dump();
}

TEST(DepthLimit, CountsNestingIncludingDecodedStrings) {
    ValidationSettings settings;
    settings.max_json_depth = 32;
    // 5 enclosing containers + 27 levels of data = 32.
    EXPECT_TRUE(validate_send_request(flow_with_data_depth(27, false), settings).has_value());
    EXPECT_TRUE(validate_send_request(flow_with_data_depth(27, true), settings).has_value());
    const auto deep = validate_send_request(flow_with_data_depth(28, false), settings);
    ASSERT_FALSE(deep.has_value());
    EXPECT_EQ(deep.error().code, 100);
    EXPECT_EQ(deep.error().details, "body: nested deeper than 32 levels");
    const auto deep_string = validate_send_request(flow_with_data_depth(28, true), settings);
    ASSERT_FALSE(deep_string.has_value());
    EXPECT_EQ(deep_string.error().code, 100);
    EXPECT_EQ(deep_string.error().details.rfind(
                  "interactive.action.parameters.flow_action_payload.data: nested deeper", 0),
              0u)
        << deep_string.error().details;
}

TEST(DepthLimit, HostileNestingIsRejectedBeforeParsing) {
    const std::string body = std::string(100000, '[') + std::string(100000, ']');
    const auto result = validate_send_request(body, {});
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().details, "body: nested deeper than 32 levels");
}

// ---- robustness
// -----------------------------------------------------------------------------------

// Truncations and byte flips of every valid corpus body must come back as clean errors: no
// exception (the validator's last-resort catch would say "could not be validated").
TEST(Robustness, MangledBodiesFailCleanly) {
    std::uint32_t seed = 12345;
    const auto next = [&seed] {
        seed = seed * 1664525u + 1013904223u;
        return seed >> 8;
    };
    for (const auto& c : corpus().cases) {
        if (c.expect["status"] != 200) {
            continue;
        }
        const std::size_t end = c.body.find_last_not_of(" \t\r\n");  // cuts must remove JSON
        for (std::size_t cut = 1; cut <= end; cut += 1 + c.body.size() / 16) {
            const auto result = validate_send_request(c.body.substr(0, cut), c.settings);
            ASSERT_FALSE(result.has_value()) << c.name << " cut at " << cut;
            EXPECT_EQ(result.error().code, 100) << c.name;
        }
        for (int round = 0; round < 20; ++round) {
            std::string body = c.body;
            body[next() % body.size()] = static_cast<char>(next() & 0xFF);
            const auto result = validate_send_request(body, c.settings);
            if (!result) {
                EXPECT_NE(result.error().details, "body: could not be validated") << c.name;
            }
        }
    }
}

}  // namespace
