// `wagate admin …` (contract §1, §6): the admin API's operations from the command line, run as
// the real binary against the test database directly and against a running gateway (--url).
// Every change is checked through the admin API; every refusal is checked to change nothing.
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {
using nlohmann::json;

struct Ran {
    int exit = -1;
    std::string out;
    std::string err;
};

class AdminCliTest : public GatewayTest {
protected:
    /// `wagate <args>` with the test database (and `env` on top); waits for it to finish.
    Ran wagate(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
        env.emplace("WAGATE_DATABASE_URL", test_database_url());
        Process p(WAGATE_BINARY, args, env, true);
        Ran r;
        r.exit = p.wait(std::chrono::seconds(30)).value_or(-1);
        r.out = p.output();
        r.err = p.error_output();
        return r;
    }
    Ran admin(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
        args.insert(args.begin(), "admin");
        return wagate(args, std::move(env));
    }
    json admin_json(std::vector<std::string> args) {
        args.push_back("--json");
        const Ran r = admin(args);
        EXPECT_EQ(r.exit, 0) << r.err;
        return json::parse(r.out);
    }
    json api_get(const std::string& path) {
        auto r = gateway_->admin("GET", path);
        EXPECT_EQ(r.status, 200) << path << ": " << r.body;
        return json::parse(r.body);
    }
    std::string write_file(const std::string& name, const std::string& content) {
        const std::string path = "/tmp/wagate-cli-test-" + std::to_string(::getpid()) + "-" + name;
        std::ofstream(path) << content;
        files_.push_back(path);
        return path;
    }
    void TearDown() override {
        for (const auto& f : files_) {
            std::remove(f.c_str());
        }
    }
    std::vector<std::string> files_;
};

TEST_F(AdminCliTest, BusinessesAreUpsertedShownAndTheirLimitsRead) {
    const Ran put = admin({"business", "put", "biz2", "--name", "Second", "--messaging-limit-tier", "TIER_1K",
                           "--auto-upgrade", "false"});
    ASSERT_EQ(put.exit, 0) << put.err;
    // Readable output: aligned `field: value` lines.
    EXPECT_NE(put.out.find("messaging_limit_tier:"), std::string::npos) << put.out;
    EXPECT_NE(put.out.find("TIER_1K"), std::string::npos);
    const json shown = api_get("/admin/v1/businesses/biz2");
    EXPECT_EQ(shown["name"], "Second");
    EXPECT_EQ(shown["messaging_limit_tier"], "TIER_1K");
    EXPECT_EQ(shown["auto_upgrade"], false);

    EXPECT_EQ(admin_json({"business", "get", "biz2"}), shown);
    const json limits = admin_json({"business", "limits", "biz2"});
    EXPECT_EQ(limits["tier"], "TIER_1K");
    EXPECT_EQ(limits["limit"], 1000);
    EXPECT_EQ(limits, api_get("/admin/v1/businesses/biz2/limits"));
    EXPECT_EQ(admin({"business", "history", "biz2"}).exit, 0);
}

TEST_F(AdminCliTest, PhoneNumbersTakeSecretsFromFilesAndNeverShowThem) {
    const std::string token = write_file("token", "EAAG-secret-token\n");
    const std::string secret = write_file("secret", "callback-secret-xyz");
    const Ran put = admin({"phone", "put", "2001", "--business-id", "biz1", "--display-phone-number", "+1 555 0100",
                           "--throughput-mps", "200", "--callback-url", "https://backend.example/hook",
                           "--access-token-file", token, "--callback-secret-file", secret, "--require-opt-in", "true"});
    ASSERT_EQ(put.exit, 0) << put.err;
    EXPECT_EQ(put.out.find("EAAG-secret-token"), std::string::npos);
    const json phone = api_get("/admin/v1/phone-numbers/2001");
    EXPECT_EQ(phone["throughput_mps"], 200);
    EXPECT_EQ(phone["access_token_set"], true);
    EXPECT_EQ(phone["callback_secret_set"], true);
    EXPECT_EQ(phone["require_opt_in"], true);
    const Ran got = admin({"phone", "get", "2001"});
    ASSERT_EQ(got.exit, 0);
    EXPECT_NE(got.out.find("callback_secret_set:"), std::string::npos) << got.out;
    EXPECT_EQ(got.out.find("callback-secret-xyz"), std::string::npos);
    EXPECT_EQ(got.out.find("EAAG"), std::string::npos);
    EXPECT_EQ(admin({"phone", "history", "2001"}).exit, 0);
}

TEST_F(AdminCliTest, ApiKeysAreCreatedOnceListedAndRevoked) {
    const json created = admin_json({"key", "create", "--name", "cli", "--phone-number-ids", "1001,1002"});
    const std::string key = created["key"];
    const std::string id = created["id"];
    const std::string text = R"({"messaging_product":"whatsapp","to":"+15551234567","type":"text","text":{"body":"hi"}})";
    EXPECT_EQ(gateway_->client().post_json("/v23.0/1001/messages", text, key).status, 200);

    const Ran list = admin({"key", "list"});
    ASSERT_EQ(list.exit, 0);
    EXPECT_NE(list.out.find("ID"), std::string::npos);  // a table with a header row
    EXPECT_NE(list.out.find(id), std::string::npos);
    EXPECT_EQ(list.out.find(key), std::string::npos);  // shown once, at creation

    ASSERT_EQ(admin({"key", "revoke", id}).exit, 0);
    EXPECT_EQ(gateway_->client().post_json("/v23.0/1001/messages", text, key).status, 401);
}

TEST_F(AdminCliTest, TemplatesAreUpsertedListedAndDeleted) {
    const std::string components = write_file(
        "components.json", R"([{"type":"BODY","text":"Hello {{1}}","example":{"body_text":[["Ann"]]}}])");
    const Ran put = admin({"template", "put", "waba1", "greeting", "en_US", "--category", "UTILITY", "--status",
                           "APPROVED", "--components-file", components});
    ASSERT_EQ(put.exit, 0) << put.err;
    const json listed = admin_json({"template", "list", "waba1"});
    ASSERT_EQ(listed["data"].size(), 1u);
    EXPECT_EQ(listed["data"][0]["name"], "greeting");
    EXPECT_EQ(listed, api_get("/admin/v1/templates/waba1"));
    ASSERT_EQ(admin({"template", "delete", "waba1", "greeting", "en_US"}).exit, 0);
    EXPECT_TRUE(api_get("/admin/v1/templates/waba1")["data"].empty());
}

TEST_F(AdminCliTest, ContactsConsentAndIdentityAcknowledgement) {
    ASSERT_EQ(admin({"contact", "set", "1001", "15550001111", "--opted-in", "true", "--source", "cli"}).exit, 0);
    const json c = admin_json({"contact", "get", "1001", "15550001111"});
    EXPECT_EQ(c["opted_in"], true);
    EXPECT_EQ(c, api_get("/admin/v1/contacts/1001/15550001111"));
    ASSERT_EQ(admin({"contact", "set", "1001", "15550001111", "--opted-in", "false"}).exit, 0);
    EXPECT_EQ(api_get("/admin/v1/contacts/1001/15550001111")["opted_in"], false);
    const Ran ack = admin({"contact", "ack-identity", "1001", "15550001111"});
    EXPECT_EQ(ack.exit, 0) << ack.err;
    const Ran readable = admin({"contact", "get", "1001", kWindowUser});
    EXPECT_NE(readable.out.find("window.open:"), std::string::npos) << readable.out;
}

TEST_F(AdminCliTest, EventsAreListedShownAndOnlyDeadOnesReplayed) {
    sent_message("wamid.CLI1");  // no callback URL: the relay is off, so no status event yet
    const Ran listed = admin({"event", "list", "--phone-number-id", "1001", "--limit", "10"});
    ASSERT_EQ(listed.exit, 0) << listed.err;
    EXPECT_NE(listed.out.find("next_cursor:"), std::string::npos) << listed.out;
    const json page = admin_json({"event", "list", "--phone-number-id", "1001"});
    EXPECT_EQ(page, api_get("/admin/v1/events?phone_number_id=1001"));

    const Ran missing = admin({"event", "get", "999999"});
    EXPECT_EQ(missing.exit, 1);
    EXPECT_NE(missing.err.find("HTTP 404"), std::string::npos) << missing.err;
    EXPECT_EQ(admin({"event", "replay", "999999"}).exit, 1);
}

TEST_F(AdminCliTest, BadArgumentsAreExplainedAndChangeNothing) {
    const json before = api_get("/admin/v1/businesses/biz1");
    struct Case {
        std::vector<std::string> args;
        int exit;
        std::string says;
    };
    const std::vector<Case> cases = {
        {{"business", "frobnicate", "biz1"}, 2, "unknown command"},
        {{"business", "put"}, 2, "expected BUSINESS_ID"},
        {{"business", "put", "biz1", "extra"}, 2, "got 2 argument(s)"},
        {{"business", "put", "biz1", "--auto-upgrade", "yes"}, 2, "--auto-upgrade: expected true or false"},
        {{"business", "put", "biz1", "--colour", "red"}, 2, "--colour: not an option"},
        {{"business", "put", "biz1", "--name"}, 2, "--name: needs a value"},
        {{"business", "put", "biz1", "--name", "a", "--name", "b"}, 2, "given twice"},
        {{"phone", "put", "1001", "--access-token-file", "/nonexistent/file"}, 2, "cannot read"},
        {{"phone", "put", "1001", "--throughput-mps", "fast"}, 2, "expected a number"},
        // Refused by the API: the envelope's message and field, exit 1.
        {{"business", "put", "biz1", "--messaging-limit-tier", "TIER_7"}, 1, "messaging_limit_tier"},
        {{"phone", "put", "3001", "--business-id", "no-such-business"}, 1, "business_id"},
        {{"contact", "set", "1001", "not-a-number", "--opted-in", "true"}, 1, "wa_id"},
    };
    for (const auto& c : cases) {
        const Ran r = admin(c.args);
        EXPECT_EQ(r.exit, c.exit) << c.args[0] << " " << c.args[1] << ": " << r.err;
        EXPECT_NE(r.err.find(c.says), std::string::npos) << "expected '" << c.says << "' in: " << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
    EXPECT_EQ(api_get("/admin/v1/businesses/biz1"), before);
    EXPECT_EQ(gateway_->admin("GET", "/admin/v1/phone-numbers/3001").status, 404);
    EXPECT_EQ(admin({}).exit, 2);
    const Ran help = admin({"help"});
    EXPECT_EQ(help.exit, 0);
    EXPECT_NE(help.out.find("key create"), std::string::npos);
}

TEST_F(AdminCliTest, ARunningGatewayIsReachedWithItsAdminToken) {
    const std::string url = "http://127.0.0.1:" + std::to_string(gateway_->port());
    const Ran ok = admin({"business", "put", "biz9", "--name", "Remote", "--url", url},
                         {{"WAGATE_ADMIN_TOKEN", kAdminToken}, {"WAGATE_DATABASE_URL", "postgresql://nowhere.invalid/x"}});
    ASSERT_EQ(ok.exit, 0) << ok.err;
    EXPECT_EQ(api_get("/admin/v1/businesses/biz9")["name"], "Remote");

    const Ran wrong = admin({"business", "get", "biz9", "--url", url}, {{"WAGATE_ADMIN_TOKEN", "not-the-token"}});
    EXPECT_EQ(wrong.exit, 1);
    EXPECT_NE(wrong.err.find("HTTP 401"), std::string::npos) << wrong.err;
    const Ran no_token = admin({"business", "get", "biz9", "--url", url});
    EXPECT_EQ(no_token.exit, 2);
    EXPECT_NE(no_token.err.find("WAGATE_ADMIN_TOKEN"), std::string::npos);
    const Ran down = admin({"business", "get", "biz9", "--url", "http://127.0.0.1:" + std::to_string(free_port())},
                           {{"WAGATE_ADMIN_TOKEN", kAdminToken}});
    EXPECT_EQ(down.exit, 3);
}

TEST_F(AdminCliTest, AnUnreachableDatabaseIsExit3) {
    const Ran r = admin({"business", "get", "biz1"},
                        {{"WAGATE_DATABASE_URL", "postgresql://127.0.0.1:" + std::to_string(free_port()) + "/x?connect_timeout=1"}});
    EXPECT_EQ(r.exit, 3) << r.err;
}

TEST_F(AdminCliTest, HealthcheckAsksReadyz) {
    const Ran ok = wagate({"healthcheck"}, {{"WAGATE_LISTEN", "0.0.0.0:" + std::to_string(gateway_->port())}});
    EXPECT_EQ(ok.exit, 0) << ok.err;
    const Ran down = wagate({"healthcheck", "--url", "http://127.0.0.1:" + std::to_string(free_port()) + "/readyz"});
    EXPECT_EQ(down.exit, 1);
    EXPECT_EQ(wagate({"healthcheck", "extra"}).exit, 2);
}

}  // namespace
}  // namespace wagate::test
