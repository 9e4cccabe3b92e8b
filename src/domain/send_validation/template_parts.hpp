#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "content.hpp"

namespace wagate::domain::send_validation {

enum class ParamSlot { kHeader, kBody };

/// Reads a parameter's `type`: 100 when Meta has no such parameter type, 131009 when it exists but
/// is not one of `allowed` here (`where` names the place, e.g. "a body parameter").
ApiResult<std::string> read_param_type(const ObjectReader& param,
                                       std::initializer_list<std::string_view> allowed,
                                       std::string_view where);

/// One header or body parameter (reference §10.3). Returns its `parameter_name` when the template
/// uses named parameters.
ApiResult<std::optional<std::string>> validate_template_parameter(const ObjectReader& param,
                                                                  ParamSlot slot);

/// A `button` component. Indices must be unique within one components list, and a template has
/// at most one copy-code button.
struct ButtonTally {
    std::set<int> indices;
    int copy_code_buttons = 0;
};
Status validate_template_button(const ObjectReader& button, ButtonTally& tally);

}  // namespace wagate::domain::send_validation
