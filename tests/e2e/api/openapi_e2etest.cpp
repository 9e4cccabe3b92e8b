// docs/openapi.json is checked here: that it is a well-formed OpenAPI 3 document (every operation
// answers something, path parameters are declared exactly, every $ref resolves), and that its
// operations are exactly the routes a running gateway registers, on the listener that serves them.

#include <cctype>
#include <cstddef>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_database.hpp"
#include "support/test_gateway.hpp"

namespace wagate::test {
namespace {

using nlohmann::json;

constexpr const char* kDocumentPath = WAGATE_SOURCE_DIR "/docs/openapi.json";
constexpr std::string_view kMethods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
// Path items with `"x-wagate-listener": "admin"` are served by WAGATE_ADMIN_LISTEN when it is set.
constexpr const char* kListenerExtension = "x-wagate-listener";

struct Document {
    json root;
    std::string error;  // why it could not be read; empty when `root` holds it
};

const Document& document() {
    static const Document loaded = [] {
        Document d;
        std::ifstream in(kDocumentPath, std::ios::binary);
        if (!in) {
            d.error = std::string("cannot open ") + kDocumentPath;
            return d;
        }
        try {
            d.root = json::parse(in);
        } catch (const json::exception& e) {
            d.error = std::string(kDocumentPath) + " is not valid JSON: " + e.what();
        }
        return d;
    }();
    return loaded;
}

/// The node a local reference (`#/components/schemas/X`) points at, or nullptr.
const json* resolve(const json& root, std::string_view ref) {
    if (!ref.starts_with("#")) {
        return nullptr;  // the document is self-contained: only local references
    }
    std::string_view pointer = ref.substr(1);
    const json* node = &root;
    while (!pointer.empty()) {
        if (pointer.front() != '/') {
            return nullptr;
        }
        pointer.remove_prefix(1);
        const std::size_t slash = pointer.find('/');
        const std::string_view raw = pointer.substr(0, slash);
        pointer = slash == std::string_view::npos ? std::string_view{} : pointer.substr(slash);
        std::string token;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
                token += raw[i + 1] == '0' ? '~' : '/';
                ++i;
            } else {
                token += raw[i];
            }
        }
        if (node->is_object()) {
            auto it = node->find(token);
            if (it == node->end()) {
                return nullptr;
            }
            node = &*it;
        } else if (node->is_array()) {
            if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos) {
                return nullptr;
            }
            const std::size_t index = std::stoul(token);
            if (index >= node->size()) {
                return nullptr;
            }
            node = &(*node)[index];
        } else {
            return nullptr;
        }
    }
    return node;
}

/// `node`, or what its `$ref` chain ends at (nullptr when a link is broken or loops).
const json* dereference(const json& root, const json& node) {
    const json* current = &node;
    for (int hops = 0; hops < 32; ++hops) {
        if (!current->is_object() || !current->contains("$ref")) {
            return current;
        }
        const json& ref = (*current)["$ref"];
        if (!ref.is_string()) {
            return nullptr;
        }
        current = resolve(root, ref.get<std::string>());
        if (current == nullptr) {
            return nullptr;
        }
    }
    return nullptr;
}

std::string escape_pointer_token(const std::string& token) {
    std::string out;
    for (char c : token) {
        out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    }
    return out;
}

/// Every `$ref` (and discriminator mapping target) in the document that points nowhere, as
/// "<where>: <ref>".
void collect_broken_refs(const json& root, const json& node, const std::string& where,
                         std::vector<std::string>& broken) {
    if (node.is_object()) {
        for (const auto& [key, value] : node.items()) {
            const std::string here = where + "/" + escape_pointer_token(key);
            if (key == "$ref") {
                if (!value.is_string() || resolve(root, value.get<std::string>()) == nullptr) {
                    broken.push_back(here + ": " + value.dump());
                }
            } else if (key == "mapping" && where.ends_with("/discriminator") && value.is_object()) {
                for (const auto& [name, target] : value.items()) {
                    if (!target.is_string() || resolve(root, target.get<std::string>()) == nullptr) {
                        broken.push_back(here + "/" + name + ": " + target.dump());
                    }
                }
            } else {
                collect_broken_refs(root, value, here, broken);
            }
        }
    } else if (node.is_array()) {
        for (std::size_t i = 0; i < node.size(); ++i) {
            collect_broken_refs(root, node[i], where + "/" + std::to_string(i), broken);
        }
    }
}

/// The `{name}` segments of a path template.
std::set<std::string> template_parameters(const std::string& path) {
    std::set<std::string> names;
    std::size_t open = path.find('{');
    while (open != std::string::npos) {
        const std::size_t close = path.find('}', open);
        if (close == std::string::npos) {
            break;
        }
        names.insert(path.substr(open + 1, close - open - 1));
        open = path.find('{', close);
    }
    return names;
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string join(const std::set<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out.empty() ? "(none)" : out;
}

/// Calls `visit(path, method, path_item, operation)` for every operation of the document.
template <class Visit>
void for_each_operation(const json& root, Visit visit) {
    for (const auto& [path, item] : root.at("paths").items()) {
        for (const auto method : kMethods) {
            if (auto op = item.find(std::string(method)); op != item.end()) {
                visit(path, std::string(method), item, *op);
            }
        }
    }
}

/// "METHOD /pattern" of every documented operation, with " (admin listener)" appended to those
/// the document places on the admin listener when `with_listener`.
std::set<std::string> documented_routes(const json& root, bool with_listener) {
    std::set<std::string> routes;
    for_each_operation(root, [&](const std::string& path, const std::string& method, const json& item,
                                 const json&) {
        const bool admin = item.value(kListenerExtension, std::string()) == "admin";
        routes.insert(upper(method) + " " + path + (with_listener && admin ? " (admin listener)" : ""));
    });
    return routes;
}

std::set<std::string> registered_routes(const std::vector<app::Gateway::RouteInfo>& infos, bool with_listener) {
    std::set<std::string> routes;
    for (const auto& r : infos) {
        const bool admin = with_listener && r.admin_listener;
        routes.insert(upper(r.method) + " " + r.pattern + (admin ? " (admin listener)" : ""));
    }
    return routes;
}

/// Empty when equal; otherwise which routes the server has that the document lacks, and which
/// the document has that the server does not register.
std::string route_differences(const std::set<std::string>& registered, const std::set<std::string>& documented) {
    std::set<std::string> undocumented;
    std::set<std::string> unregistered;
    for (const auto& r : registered) {
        if (!documented.contains(r)) {
            undocumented.insert(r);
        }
    }
    for (const auto& r : documented) {
        if (!registered.contains(r)) {
            unregistered.insert(r);
        }
    }
    if (undocumented.empty() && unregistered.empty()) {
        return {};
    }
    return "registered by the server but missing from docs/openapi.json: " + join(undocumented) +
           "\ndocumented in docs/openapi.json but not registered by the server: " + join(unregistered);
}

class OpenApiTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(document().error.empty()) << document().error; }
    const json& root() const { return document().root; }
};

TEST_F(OpenApiTest, IsAnOpenApi3DocumentWhoseOperationsAllAnswer) {
    const auto& version = root().value("openapi", json());
    ASSERT_TRUE(version.is_string()) << "`openapi` must be a string such as \"3.0.3\"";
    EXPECT_TRUE(version.get<std::string>().starts_with("3.")) << version;
    ASSERT_TRUE(root().contains("info") && root()["info"].is_object()) << "`info` is missing";
    for (const char* field : {"title", "version"}) {
        const auto& value = root()["info"].value(field, json());
        EXPECT_TRUE(value.is_string() && !value.get<std::string>().empty()) << "info." << field << " is missing";
    }
    ASSERT_TRUE(root().contains("paths") && root()["paths"].is_object()) << "`paths` is missing";

    std::set<std::string> operation_ids;
    int operations = 0;
    for_each_operation(root(), [&](const std::string& path, const std::string& method, const json&,
                                   const json& op) {
        ++operations;
        const std::string where = upper(method) + " " + path;
        EXPECT_TRUE(path.starts_with("/")) << where;
        const auto responses = op.find("responses");
        EXPECT_TRUE(responses != op.end() && responses->is_object() && !responses->empty())
            << where << " has no responses";
        if (auto id = op.find("operationId"); id != op.end()) {
            EXPECT_TRUE(operation_ids.insert(id->get<std::string>()).second)
                << where << ": operationId " << *id << " is used twice";
        }
    });
    EXPECT_GT(operations, 0);
}

TEST_F(OpenApiTest, PathParametersAreDeclaredExactly) {
    for_each_operation(root(), [&](const std::string& path, const std::string& method, const json& item,
                                   const json& op) {
        const std::string where = upper(method) + " " + path;
        std::set<std::string> declared;
        std::set<std::string> seen;  // name + location: each at most once per operation
        std::set<std::string> path_level;
        // The path item's parameters, then the operation's (which may override them).
        for (const json* owner : {&item, &op}) {
            const auto list = owner->find("parameters");
            if (list == owner->end()) {
                continue;
            }
            ASSERT_TRUE(list->is_array()) << where << ": parameters must be an array";
            const bool operation_level = owner == &op;
            for (const auto& entry : *list) {
                const json* p = dereference(root(), entry);
                ASSERT_NE(p, nullptr) << where << ": parameter " << entry.dump() << " does not resolve";
                ASSERT_TRUE(p->contains("name") && p->contains("in")) << where << ": parameter without name/in";
                const std::string name = (*p)["name"];
                const std::string in = (*p)["in"];
                const std::string key = in + ":" + name;
                if (operation_level) {
                    // An operation's parameter overrides a path item's of the same name and location.
                    EXPECT_TRUE(seen.insert(key).second) << where << ": parameter " << key << " declared twice";
                } else {
                    EXPECT_TRUE(path_level.insert(key).second) << path << ": parameter " << key << " declared twice";
                }
                if (in == "path") {
                    declared.insert(name);
                    EXPECT_EQ(p->value("required", false), true) << where << ": path parameter " << name
                                                                 << " must be required";
                }
            }
        }
        const std::set<std::string> in_template = template_parameters(path);
        EXPECT_EQ(declared, in_template) << where << ": path parameters declared {" << join(declared)
                                         << "} but the path has {" << join(in_template) << "}";
    });
}

TEST_F(OpenApiTest, EveryReferenceResolves) {
    std::vector<std::string> broken;
    collect_broken_refs(root(), root(), "#", broken);
    std::string list;
    for (const auto& b : broken) {
        list += "\n  " + b;
    }
    EXPECT_TRUE(broken.empty()) << broken.size() << " reference(s) point nowhere:" << list;
}

TEST_F(OpenApiTest, DocumentsExactlyTheRoutesTheGatewayRegisters) {
    WAGATE_REQUIRE_DATABASE();
    TestGateway gateway;
    const std::string differences =
        route_differences(registered_routes(gateway.routes(), false), documented_routes(root(), false));
    EXPECT_TRUE(differences.empty()) << differences;
}

TEST_F(OpenApiTest, WithASeparateAdminListenerDocumentsEachRouteOnItsListener) {
    WAGATE_REQUIRE_DATABASE();
    app::Config config = TestGateway::base_config();
    config.admin_listen = "127.0.0.1:0";
    TestGateway gateway(config);
    const auto routes = gateway.routes();
    const std::string differences =
        route_differences(registered_routes(routes, false), documented_routes(root(), false));
    EXPECT_TRUE(differences.empty()) << differences;
    // Which listener serves what: /admin/v1 and /metrics on the admin listener, the rest on the
    // main one (a route on the wrong listener shows up on both sides of this comparison).
    const std::string placement =
        route_differences(registered_routes(routes, true), documented_routes(root(), true));
    EXPECT_TRUE(placement.empty()) << "with WAGATE_ADMIN_LISTEN set (\"(admin listener)\" marks routes served "
                                      "there; the document marks them \"x-wagate-listener\": \"admin\"):\n"
                                   << placement;
}

}  // namespace
}  // namespace wagate::test
