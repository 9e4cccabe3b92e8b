#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <wagate/core/error.hpp>

namespace wagate::app {

/// One admin API call, as `wagate admin …` arguments describe it.
struct AdminCall {
    std::string method;
    std::string target;  // path and query, e.g. "/admin/v1/businesses/biz1"
    std::string body;    // JSON, empty for none
    bool json_output = false;
};

/// Reads a file named by a `--…-file` flag ("-" is standard input).
using FileReader = std::function<Result<std::string>(const std::string& path)>;

/// Pure (apart from `read_file`). Turns `wagate admin` arguments (after "admin") into the admin
/// API call that does the same thing: `<resource> <verb> <positional ids…> [--field value…]
/// [--json]`. Flags are the JSON fields of the request with '-' for '_' (`--messaging-limit-tier
/// TIER_1K`); secrets and documents come from files (`--access-token-file`, `--components-file`)
/// so they never show in a process list. Errors: kInvalidArgument, naming the argument.
/// `--config`, `--url` and `--ca-file` are the caller's and must be removed first.
Result<AdminCall> parse_admin_command(const std::vector<std::string>& args, const FileReader& read_file);

/// The commands and their arguments, for `wagate admin help`.
std::string admin_usage();

/// Pure. A response body for people: an object as `field: value` lines (nested fields
/// dotted), a `{"data":[…]}` or `{"events":[…]}` list as an aligned table.
std::string render_readable(const nlohmann::json& body);

}  // namespace wagate::app
