#pragma once

#include <regex>
#include <string>

namespace wagate::test {

/// "@x1025@" stands for 1025 x's, so that long values stay readable in test tables.
inline std::string expand_runs(std::string text) {
    static const std::regex kRun("@([a-z])([0-9]+)@");
    std::smatch match;
    while (std::regex_search(text, match, kRun)) {
        text.replace(match.position(0), match.length(0),
                     std::string(std::stoul(match[2].str()), match[1].str()[0]));
    }
    return text;
}

}  // namespace wagate::test
