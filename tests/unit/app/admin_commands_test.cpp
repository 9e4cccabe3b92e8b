#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <wagate/app/admin_commands.hpp>

namespace wagate {
namespace {
using app::parse_admin_command;
using nlohmann::json;

Result<std::string> files(const std::string& path) {
    static const std::map<std::string, std::string> known = {
        {"token.txt", "EAAG-token\n"}, {"components.json", R"([{"type":"BODY","text":"Hi {{1}}"}])"}, {"bad.json", "[{"}};
    auto it = known.find(path);
    if (it == known.end()) {
        return Error{Errc::kInvalidArgument, "cannot read " + path};
    }
    return it->second;
}

app::AdminCall parse_ok(const std::vector<std::string>& args) {
    auto call = parse_admin_command(args, files);
    EXPECT_TRUE(call.has_value()) << (call ? "" : call.error().message);
    return call ? *call : app::AdminCall{};
}

std::string parse_error(const std::vector<std::string>& args) {
    auto call = parse_admin_command(args, files);
    EXPECT_FALSE(call.has_value());
    return call ? "" : call.error().message;
}

TEST(AdminCommands, FlagsBecomeTypedJsonFields) {
    auto call = parse_ok({"business", "put", "biz 1", "--name", "Acme", "--messaging-limit-tier=TIER_1K", "--auto-upgrade",
                          "false", "--json"});
    EXPECT_EQ(call.method, "PUT");
    EXPECT_EQ(call.target, "/admin/v1/businesses/biz%201");
    EXPECT_EQ(json::parse(call.body), json({{"name", "Acme"}, {"messaging_limit_tier", "TIER_1K"}, {"auto_upgrade", false}}));
    EXPECT_TRUE(call.json_output);

    call = parse_ok({"phone", "put", "1001", "--throughput-mps", "80", "--access-token-file", "token.txt"});
    EXPECT_EQ(json::parse(call.body), json({{"throughput_mps", 80}, {"access_token", "EAAG-token"}}));
    call = parse_ok({"key", "create", "--name", "k", "--phone-number-ids", "1001,1002"});
    EXPECT_EQ(json::parse(call.body), json({{"name", "k"}, {"phone_number_ids", {"1001", "1002"}}}));
    call = parse_ok({"template", "put", "w", "hello", "en_US", "--components-file", "components.json"});
    EXPECT_EQ(call.target, "/admin/v1/templates/w/hello/en_US");
    EXPECT_EQ(json::parse(call.body)["components"][0]["type"], "BODY");
}

TEST(AdminCommands, ReadsHaveNoBodyAndQueriesAreEncoded) {
    auto call = parse_ok({"event", "list", "--phone-number-id", "1001", "--after", "12.34", "--limit", "5"});
    EXPECT_EQ(call.method, "GET");
    EXPECT_EQ(call.target, "/admin/v1/events?phone_number_id=1001&after=12.34&limit=5");
    EXPECT_TRUE(call.body.empty());
    EXPECT_EQ(parse_ok({"key", "revoke", "abc"}).method, "DELETE");
    auto replay = parse_ok({"event", "replay", "7"});
    EXPECT_EQ(replay.method, "POST");
    EXPECT_EQ(replay.target, "/admin/v1/events/7/replay");
    EXPECT_TRUE(replay.body.empty());
    EXPECT_EQ(parse_ok({"contact", "set", "1001", "+1555"}).target, "/admin/v1/contacts/1001/%2B1555");
}

TEST(AdminCommands, MistakesNameTheArgument) {
    EXPECT_NE(parse_error({}).find("wagate admin <resource>"), std::string::npos);
    EXPECT_NE(parse_error({"business", "fly"}).find("unknown command 'business fly'"), std::string::npos);
    EXPECT_NE(parse_error({"template", "put", "w", "n"}).find("expected WABA_ID NAME LANGUAGE, got 2"), std::string::npos);
    EXPECT_NE(parse_error({"key", "list", "x"}).find("expected no arguments"), std::string::npos);
    EXPECT_NE(parse_error({"business", "put", "b", "--auto-upgrade", "1"}).find("--auto-upgrade"), std::string::npos);
    EXPECT_NE(parse_error({"phone", "put", "p", "--throughput-mps", "x"}).find("--throughput-mps"), std::string::npos);
    EXPECT_NE(parse_error({"phone", "put", "p", "--access-token", "inline"}).find("--access-token: not an option"), std::string::npos);
    EXPECT_NE(parse_error({"phone", "put", "p", "--access-token-file", "nope"}).find("cannot read nope"), std::string::npos);
    EXPECT_NE(parse_error({"template", "put", "w", "n", "l", "--components-file", "bad.json"}).find("not valid JSON"),
              std::string::npos);
    EXPECT_NE(parse_error({"business", "get", "b", "--name"}).find("--name: needs a value"), std::string::npos);
}

TEST(AdminCommands, ReadableOutputAlignsFieldsAndTabulatesLists) {
    EXPECT_EQ(app::render_readable(json{{"id", "b1"}, {"window", {{"open", true}, {"expires_at", nullptr}}}}),
              "id:                b1\nwindow.expires_at: -\nwindow.open:       true\n");
    EXPECT_EQ(app::render_readable(json{{"data", {{{"id", "k1"}, {"name", "first"}}, {{"id", "k22"}, {"revoked_at", "t"}}}}}),
              "ID   NAME   REVOKED_AT\nk1   first  -\nk22  -      t\n");
    EXPECT_EQ(app::render_readable(json{{"events", json::array()}, {"next_cursor", "9.1"}}), "(none)\nnext_cursor: 9.1\n");
}

}  // namespace
}  // namespace wagate
