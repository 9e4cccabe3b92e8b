#include "emoji.hpp"
#include "interactive_parts.hpp"
#include "text_rules.hpp"

namespace wagate::domain::send_validation {
namespace {

Status validate_reply(const ObjectReader& button, UniqueValues& ids, UniqueValues& titles) {
    if (auto ok = button.allow_only({"type", "reply"}); !ok) {
        return ok;
    }
    if (auto type = button.required_enum("type", {"reply"}); !type) {
        return type.error();
    }
    auto reply = button.required_object("reply");
    if (!reply) {
        return reply.error();
    }
    if (auto ok = reply->allow_only({"id", "title"}); !ok) {
        return ok;
    }
    auto id = reply->required_string("id", {.max_chars = 256});
    if (!id) {
        return id.error();
    }
    if (has_outer_space(*id)) {
        return invalid_error(reply->path_of("id"), "must not start or end with white space");
    }
    if (auto ok = ids.add(reply->path_of("id"), *id); !ok) {
        return ok;
    }
    auto title = reply->required_string("title", {.max_chars = 20});
    if (!title) {
        return title.error();
    }
    return titles.add(reply->path_of("title"), *title);
}

Status validate_list_section(const ObjectReader& section,
                             bool title_required,
                             std::size_t& total_rows,
                             UniqueValues& row_ids) {
    if (auto ok = section.allow_only({"title", "rows"}); !ok) {
        return ok;
    }
    auto title = section.optional_string("title", {.max_chars = 24});
    if (!title) {
        return title.error();
    }
    if (!*title && title_required) {
        return api_errors::missing_parameter(section.path_of("title") +
                                             ": required when a list has several sections");
    }
    auto rows = section.required_array("rows");
    if (!rows) {
        return rows.error();
    }
    if (rows->size() == 0) {
        return invalid_error(rows->path(), "at least 1 row");
    }
    for (std::size_t i = 0; i < rows->size(); ++i) {
        if (++total_rows > 10) {
            return invalid_error(rows->path_at(i), "at most 10 rows in total");
        }
        auto row = rows->object_at(i);
        if (!row) {
            return row.error();
        }
        if (auto ok = row->allow_only({"id", "title", "description"}); !ok) {
            return ok;
        }
        auto id = row->required_string("id", {.max_chars = 200});
        if (!id) {
            return id.error();
        }
        if (auto ok = row_ids.add(row->path_of("id"), *id); !ok) {
            return ok;
        }
        if (auto row_title = row->required_string("title", {.max_chars = 24}); !row_title) {
            return row_title.error();
        }
        if (auto description = row->optional_string("description", {.max_chars = 72});
            !description) {
            return description.error();
        }
    }
    return {};
}

// Fields that hold an `action.name` constant ("cta_url", "flow", ...).
Status check_action_name(const ObjectReader& action, std::string_view name) {
    auto value = action.required_enum("name", {name});
    return status_of(value);
}

Status validate_flow_payload(const ObjectReader& parameters, bool navigate) {
    auto payload = parameters.optional_object("flow_action_payload");
    if (!payload || !*payload) {
        return status_of(payload);
    }
    const ObjectReader& p = **payload;
    if (!navigate) {
        return invalid_error(p.path(), "only with flow_action navigate");
    }
    if (auto ok = p.allow_only({"screen", "data"}); !ok) {
        return ok;
    }
    if (auto screen = p.optional_string("screen"); !screen) {
        return screen.error();
    }
    // `data` is the business's own input to the Flow: its keys are not ours to check.
    auto data = p.optional_object("data");
    if (!data) {
        return data.error();
    }
    if (*data && (*data)->json().empty()) {
        return invalid_error((*data)->path(), "must be a non-empty object");
    }
    return {};
}

}  // namespace

Status validate_button_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"buttons"}); !ok) {
        return ok;
    }
    auto buttons = action.required_array("buttons", 1, 3, "button", "buttons");
    if (!buttons) {
        return buttons.error();
    }
    UniqueValues ids("button id");
    UniqueValues titles("button title");
    for (std::size_t i = 0; i < buttons->size(); ++i) {
        auto button = buttons->object_at(i);
        if (!button) {
            return button.error();
        }
        if (auto ok = validate_reply(*button, ids, titles); !ok) {
            return ok;
        }
    }
    return {};
}

Status validate_list_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"button", "sections"}); !ok) {
        return ok;
    }
    if (auto button = action.required_string("button", {.max_chars = 20}); !button) {
        return button.error();
    }
    auto sections = action.required_array("sections", 1, 10, "section", "sections");
    if (!sections) {
        return sections.error();
    }
    std::size_t total_rows = 0;
    UniqueValues row_ids("row id");
    for (std::size_t i = 0; i < sections->size(); ++i) {
        auto section = sections->object_at(i);
        if (!section) {
            return section.error();
        }
        if (auto ok = validate_list_section(*section, sections->size() > 1, total_rows, row_ids);
            !ok) {
            return ok;
        }
    }
    return {};
}

Status validate_cta_url_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"name", "parameters"}); !ok) {
        return ok;
    }
    if (auto ok = check_action_name(action, "cta_url"); !ok) {
        return ok;
    }
    auto parameters = action.required_object("parameters");
    if (!parameters) {
        return parameters.error();
    }
    if (auto ok = parameters->allow_only({"display_text", "url"}); !ok) {
        return ok;
    }
    if (auto text = parameters->required_string("display_text", {.max_chars = 20}); !text) {
        return text.error();
    }
    auto url = parameters->required_string("url");
    if (!url) {
        return url.error();
    }
    return check_https_url(parameters->path_of("url"), *url);
}

Status validate_flow_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"name", "parameters"}); !ok) {
        return ok;
    }
    if (auto ok = check_action_name(action, "flow"); !ok) {
        return ok;
    }
    auto params = action.required_object("parameters");
    if (!params) {
        return params.error();
    }
    if (auto ok = params->allow_only({"flow_message_version", "flow_token", "flow_id", "flow_name",
                                      "flow_cta", "mode", "flow_action", "flow_action_payload"});
        !ok) {
        return ok;
    }
    if (auto version = params->required_enum("flow_message_version", {"3"}); !version) {
        return version.error();
    }
    const bool has_id = params->has("flow_id");
    if (has_id == params->has("flow_name")) {
        const std::string details = params->path() + ": exactly one of flow_id or flow_name";
        return has_id ? api_errors::invalid_value(details) : api_errors::missing_parameter(details);
    }
    if (auto id = params->optional_string("flow_id"); !id) {
        return id.error();
    }
    if (auto name = params->optional_string("flow_name"); !name) {
        return name.error();
    }
    if (auto token = params->optional_string("flow_token"); !token) {
        return token.error();
    }
    // 20 and no emoji: the older docs and SDKs; the legacy reference only "advises" 30.
    auto cta = params->required_string("flow_cta", {.max_chars = 20});
    if (!cta) {
        return cta.error();
    }
    if (contains_emoji(*cta)) {
        return invalid_error(params->path_of("flow_cta"), "must not contain emoji");
    }
    if (auto mode = params->optional_enum("mode", {"draft", "published"}); !mode) {
        return mode.error();
    }
    auto flow_action = params->optional_enum("flow_action", {"navigate", "data_exchange"});
    if (!flow_action) {
        return flow_action.error();
    }
    return validate_flow_payload(*params, !*flow_action || **flow_action == "navigate");
}

}  // namespace wagate::domain::send_validation
