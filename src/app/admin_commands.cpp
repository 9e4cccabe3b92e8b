#include <wagate/app/admin_commands.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string_view>

#include <nlohmann/json.hpp>

namespace wagate::app {
namespace {

enum class Kind {
    kString,
    kNumber,
    kBool,
    kList,        // comma-separated strings
    kSecretFile,  // `--name-file PATH`: the file's text, one trailing newline dropped
    kJsonFile,    // `--name-file PATH`: a JSON document
    kQuery,       // a query parameter, not a body field
};

struct Field {
    const char* name;  // JSON field (or query parameter)
    Kind kind;
};

struct Command {
    const char* resource;
    const char* verb;
    const char* method;
    const char* path;  // "{0}", "{1}", ... are the positional arguments
    std::vector<const char*> positionals;
    std::vector<Field> fields;
    const char* summary;
};

const std::vector<Command>& commands() {
    static const std::vector<Command> all = {
        {"business", "put", "PUT", "/admin/v1/businesses/{0}", {"BUSINESS_ID"},
         {{"name", Kind::kString}, {"messaging_limit_tier", Kind::kString}, {"upgrade_rule", Kind::kString},
          {"auto_upgrade", Kind::kBool}},
         "create or update a business (fields not given keep their value)"},
        {"business", "get", "GET", "/admin/v1/businesses/{0}", {"BUSINESS_ID"}, {}, "show a business"},
        {"business", "limits", "GET", "/admin/v1/businesses/{0}/limits", {"BUSINESS_ID"}, {},
         "messaging limit: tier, used and remaining in the last 24 h, upgrade eligibility"},
        {"business", "history", "GET", "/admin/v1/businesses/{0}/history", {"BUSINESS_ID"}, {},
         "tier and rule changes"},
        {"phone", "put", "PUT", "/admin/v1/phone-numbers/{0}", {"PHONE_NUMBER_ID"},
         {{"business_id", Kind::kString}, {"waba_id", Kind::kString}, {"display_phone_number", Kind::kString},
          {"throughput_mps", Kind::kNumber}, {"quality_rating", Kind::kString}, {"status", Kind::kString},
          {"callback_url", Kind::kString}, {"require_opt_in", Kind::kBool}, {"access_token", Kind::kSecretFile},
          {"callback_secret", Kind::kSecretFile}},
         "create or update a phone number"},
        {"phone", "get", "GET", "/admin/v1/phone-numbers/{0}", {"PHONE_NUMBER_ID"}, {},
         "show a phone number (never its token or secret)"},
        {"phone", "history", "GET", "/admin/v1/phone-numbers/{0}/history", {"PHONE_NUMBER_ID"}, {},
         "quality and status changes"},
        {"key", "create", "POST", "/admin/v1/api-keys", {},
         {{"name", Kind::kString}, {"phone_number_ids", Kind::kList}}, "create an API key (shown once)"},
        {"key", "list", "GET", "/admin/v1/api-keys", {}, {}, "list API keys"},
        {"key", "revoke", "DELETE", "/admin/v1/api-keys/{0}", {"KEY_ID"}, {}, "revoke an API key"},
        {"template", "put", "PUT", "/admin/v1/templates/{0}/{1}/{2}", {"WABA_ID", "NAME", "LANGUAGE"},
         {{"category", Kind::kString}, {"status", Kind::kString}, {"components", Kind::kJsonFile}},
         "create or update a template (components in Meta's definition format)"},
        {"template", "list", "GET", "/admin/v1/templates/{0}", {"WABA_ID"}, {}, "list a WABA's templates"},
        {"template", "delete", "DELETE", "/admin/v1/templates/{0}/{1}/{2}", {"WABA_ID", "NAME", "LANGUAGE"}, {},
         "delete a template"},
        {"contact", "get", "GET", "/admin/v1/contacts/{0}/{1}", {"PHONE_NUMBER_ID", "WA_ID"}, {},
         "consent, identity and customer service window of a contact"},
        {"contact", "set", "PUT", "/admin/v1/contacts/{0}/{1}", {"PHONE_NUMBER_ID", "WA_ID"},
         {{"opted_in", Kind::kBool}, {"source", Kind::kString}, {"last_inbound_at", Kind::kNumber}},
         "record opt-in (--opted-in true) or opt-out (--opted-in false)"},
        {"contact", "ack-identity", "POST", "/admin/v1/contacts/{0}/{1}/identity-ack", {"PHONE_NUMBER_ID", "WA_ID"},
         {}, "acknowledge a contact's identity change"},
        {"event", "list", "GET", "/admin/v1/events", {},
         {{"phone_number_id", Kind::kQuery}, {"after", Kind::kQuery}, {"limit", Kind::kQuery}},
         "events of a phone number from a cursor"},
        {"event", "get", "GET", "/admin/v1/events/{0}", {"EVENT_ID"}, {}, "show one event"},
        {"event", "replay", "POST", "/admin/v1/events/{0}/replay", {"EVENT_ID"}, {}, "re-queue a dead event"},
    };
    return all;
}

std::string flag_of(const Field& f) {
    std::string flag = "--";
    for (const char* c = f.name; *c != '\0'; ++c) {
        flag += *c == '_' ? '-' : *c;
    }
    if (f.kind == Kind::kSecretFile || f.kind == Kind::kJsonFile) {
        flag += "-file";
    }
    return flag;
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
std::string encode(std::string_view text) {
    std::string out;
    for (const unsigned char c : text) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

Error bad(std::string what) { return Error{Errc::kInvalidArgument, std::move(what)}; }

/// A json converts to almost anything, so the result is built in place, never converted.
Result<nlohmann::json> ok(nlohmann::json value) {
    return Result<nlohmann::json>(boost::system::in_place_value, std::move(value));
}

Result<nlohmann::json> field_value(const Field& f, const std::string& flag, const std::string& text,
                                   const FileReader& read_file) {
    switch (f.kind) {
        case Kind::kString:
        case Kind::kQuery:
            return ok(nlohmann::json(text));
        case Kind::kNumber: {
            auto parsed = nlohmann::json::parse(text, nullptr, false);
            if (!parsed.is_number()) {
                return bad(flag + ": expected a number, got '" + text + "'");
            }
            return ok(std::move(parsed));
        }
        case Kind::kBool:
            if (text == "true" || text == "false") {
                return ok(nlohmann::json(text == "true"));
            }
            return bad(flag + ": expected true or false, got '" + text + "'");
        case Kind::kList: {
            nlohmann::json list = nlohmann::json::array();
            std::size_t start = 0;
            while (start <= text.size()) {
                const std::size_t comma = std::min(text.find(',', start), text.size());
                if (comma > start) {
                    list.push_back(text.substr(start, comma - start));
                }
                start = comma + 1;
            }
            return ok(std::move(list));
        }
        case Kind::kSecretFile:
        case Kind::kJsonFile: {
            auto content = read_file(text);
            if (!content) {
                return bad(flag + ": " + content.error().message);
            }
            if (f.kind == Kind::kJsonFile) {
                auto parsed = nlohmann::json::parse(*content, nullptr, false);
                if (parsed.is_discarded()) {
                    return bad(flag + ": " + text + " is not valid JSON");
                }
                return ok(std::move(parsed));
            }
            std::string secret = std::move(*content);
            if (secret.ends_with("\r\n")) {
                secret.resize(secret.size() - 2);
            } else if (secret.ends_with('\n')) {
                secret.pop_back();
            }
            return ok(nlohmann::json(std::move(secret)));
        }
    }
    return bad(flag + ": unsupported");
}

std::string scalar_text(const nlohmann::json& v) {
    if (v.is_string()) {
        return v.get<std::string>();
    }
    if (v.is_null()) {
        return "-";
    }
    return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void flatten(const nlohmann::json& v, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
    if (v.is_object() && !v.empty()) {
        for (const auto& [key, value] : v.items()) {
            flatten(value, prefix.empty() ? key : prefix + "." + key, out);
        }
    } else {
        out.emplace_back(prefix, scalar_text(v));
    }
}

std::string table(const nlohmann::json& rows) {
    if (rows.empty()) {
        return "(none)\n";
    }
    // Columns: the scalar fields of the rows, in the order first seen; nested documents (an
    // event's payload) are left to --json.
    std::vector<std::string> columns;
    for (const auto& row : rows) {
        if (!row.is_object()) {
            continue;
        }
        for (const auto& [key, value] : row.items()) {
            if (!value.is_object() && std::find(columns.begin(), columns.end(), key) == columns.end()) {
                columns.push_back(key);
            }
        }
    }
    std::vector<std::vector<std::string>> cells;
    std::vector<std::size_t> widths;
    for (const auto& c : columns) {
        widths.push_back(c.size());
    }
    for (const auto& row : rows) {
        std::vector<std::string> line;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            line.push_back(row.is_object() && row.contains(columns[i]) ? scalar_text(row[columns[i]]) : "-");
            widths[i] = std::max(widths[i], line.back().size());
        }
        cells.push_back(std::move(line));
    }
    std::string out;
    auto emit = [&out, &widths](const std::vector<std::string>& line) {
        for (std::size_t i = 0; i < line.size(); ++i) {
            out += line[i];
            if (i + 1 < line.size()) {
                out.append(widths[i] - line[i].size() + 2, ' ');
            }
        }
        out += '\n';
    };
    std::vector<std::string> header;
    for (const auto& c : columns) {
        std::string upper;
        for (const char ch : c) {
            upper += static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
        }
        header.push_back(std::move(upper));
    }
    emit(header);
    for (const auto& line : cells) {
        emit(line);
    }
    return out;
}

}  // namespace

Result<AdminCall> parse_admin_command(const std::vector<std::string>& args, const FileReader& read_file) {
    std::vector<std::string> words;
    std::map<std::string, std::string> flags;
    bool json_output = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--json") {
            json_output = true;
        } else if (a.starts_with("--")) {
            const auto eq = a.find('=');
            std::string name = a.substr(0, eq);
            std::string value;
            if (eq != std::string::npos) {
                value = a.substr(eq + 1);
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                return bad(name + ": needs a value");
            }
            if (!flags.emplace(name, std::move(value)).second) {
                return bad(name + ": given twice");
            }
        } else {
            words.push_back(a);
        }
    }
    if (words.size() < 2) {
        return bad("expected `wagate admin <resource> <command> …` (see `wagate admin help`)");
    }
    const auto it = std::find_if(commands().begin(), commands().end(), [&words](const Command& c) {
        return words[0] == c.resource && words[1] == c.verb;
    });
    if (it == commands().end()) {
        return bad("unknown command '" + words[0] + " " + words[1] + "' (see `wagate admin help`)");
    }
    const Command& command = *it;
    const std::vector<std::string> positionals(words.begin() + 2, words.end());
    if (positionals.size() != command.positionals.size()) {
        std::string expected;
        for (const char* p : command.positionals) {
            expected += std::string(" ") + p;
        }
        return bad(std::string(command.resource) + " " + command.verb + ": expected" +
                   (expected.empty() ? std::string(" no arguments") : expected) + ", got " +
                   std::to_string(positionals.size()) + " argument(s)");
    }

    AdminCall call;
    call.method = command.method;
    call.json_output = json_output;
    std::string path = command.path;
    for (std::size_t i = 0; i < positionals.size(); ++i) {
        const std::string slot = "{" + std::to_string(i) + "}";
        path.replace(path.find(slot), slot.size(), encode(positionals[i]));
    }
    nlohmann::json body = nlohmann::json::object();
    std::string query;
    for (const Field& f : command.fields) {
        const std::string flag = flag_of(f);
        auto given = flags.find(flag);
        if (given == flags.end()) {
            continue;
        }
        auto value = field_value(f, flag, given->second, read_file);
        if (!value) {
            return value.error();
        }
        if (f.kind == Kind::kQuery) {
            query += (query.empty() ? "?" : "&") + std::string(f.name) + "=" + encode(given->second);
        } else {
            body[f.name] = std::move(*value);
        }
        flags.erase(given);
    }
    if (!flags.empty()) {
        return bad(flags.begin()->first + ": not an option of `" + command.resource + " " + command.verb +
                   "` (see `wagate admin help`)");
    }
    call.target = path + query;
    const bool has_body = std::string_view(command.method) == "PUT" ||
                          (std::string_view(command.method) == "POST" && !command.fields.empty());
    if (has_body) {
        call.body = body.dump();
    }
    return call;
}

std::string admin_usage() {
    std::string out =
        "usage: wagate admin <resource> <command> [ARGS] [--field value ...] [--json]\n"
        "                    [--config FILE] [--url URL [--ca-file PEM]]\n"
        "\n"
        "Without --url (or WAGATE_ADMIN_URL) the command runs against the configured database\n"
        "directly (WAGATE_DATABASE_URL); with it, against a running gateway's admin API, with\n"
        "WAGATE_ADMIN_TOKEN. Flags are the API's JSON fields with '-' for '_'. --json prints the\n"
        "API's answer as it is. Exit status: 0 done, 1 refused (the error is printed), 2 bad\n"
        "arguments or configuration, 3 gateway or database unreachable.\n\ncommands:\n";
    for (const Command& c : commands()) {
        std::string line = std::string("  ") + c.resource + " " + c.verb;
        for (const char* p : c.positionals) {
            line += std::string(" ") + p;
        }
        for (const Field& f : c.fields) {
            const char* placeholder = f.kind == Kind::kBool         ? " true|false"
                                      : f.kind == Kind::kNumber     ? " N"
                                      : f.kind == Kind::kList       ? " A,B"
                                      : f.kind == Kind::kSecretFile ? " FILE"
                                      : f.kind == Kind::kJsonFile   ? " FILE"
                                                                    : " VALUE";
            line += " [" + flag_of(f) + placeholder + "]";
        }
        out += line + "\n      " + c.summary + "\n";
    }
    return out;
}

std::string render_readable(const nlohmann::json& body) {
    for (const char* list : {"data", "events"}) {
        if (body.is_object() && body.contains(list) && body[list].is_array()) {
            std::string out = table(body[list]);
            if (body.contains("next_cursor")) {
                out += "next_cursor: " + scalar_text(body["next_cursor"]) + "\n";
            }
            return out;
        }
    }
    std::vector<std::pair<std::string, std::string>> lines;
    flatten(body, "", lines);
    std::size_t width = 0;
    for (const auto& [key, _] : lines) {
        width = std::max(width, key.size());
    }
    std::string out;
    for (const auto& [key, value] : lines) {
        out += key + ":" + std::string(width - key.size() + 1, ' ') + value + "\n";
    }
    return out;
}

}  // namespace wagate::app
