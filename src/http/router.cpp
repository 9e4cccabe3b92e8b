#include <wagate/http/router.hpp>

#include <algorithm>
#include <utility>

namespace wagate::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> segments;
    std::size_t start = 1;  // paths start with '/'
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
        segments.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return segments;
}

bool is_version(std::string_view s) {
    // v<major>.<minor>, as in /v23.0/...
    if (s.size() < 4 || s[0] != 'v') {
        return false;
    }
    const std::size_t dot = s.find('.');
    if (dot == std::string_view::npos || dot == 1 || dot + 1 == s.size()) {
        return false;
    }
    return std::all_of(s.begin() + 1, s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
           s.find('.', dot + 1) == std::string_view::npos;
}

bool is_identifier(std::string_view s) {
    return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '.' || c == '_' || c == '-';
           });
}

bool capture_accepts(std::string_view name, std::string_view value) {
    if (name == "version") {
        return is_version(value);
    }
    if (name.ends_with("_id") || name == "id") {
        return is_identifier(value);
    }
    return !value.empty();
}

/// Returns the number of literal segments matched (for preferring literals), or -1.
int match_pattern(std::string_view pattern, const std::vector<std::string_view>& path,
                  PathParams* params) {
    const auto segments = split_path(pattern);
    if (segments.size() != path.size()) {
        return -1;
    }
    int literals = 0;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const std::string_view seg = segments[i];
        if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
            const std::string_view name = seg.substr(1, seg.size() - 2);
            if (!capture_accepts(name, path[i])) {
                return -1;
            }
            if (params) {
                params->emplace(std::string(name), std::string(path[i]));
            }
        } else if (seg == path[i]) {
            ++literals;
        } else {
            return -1;
        }
    }
    return literals;
}

}  // namespace

void Router::add(std::string method, std::string pattern, std::size_t body_limit, Handler handler) {
    routes_.push_back(Route{std::move(method), std::move(pattern), body_limit, std::move(handler)});
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
    Match best;
    int best_literals = -1;
    const auto segments = split_path(path);
    for (const auto& route : routes_) {
        const int literals = match_pattern(route.pattern, segments, nullptr);
        if (literals < 0) {
            continue;
        }
        if (route.method != method) {
            best.path_known = true;
            continue;
        }
        if (literals > best_literals) {
            best_literals = literals;
            best.route = &route;
        }
    }
    if (best.route) {
        match_pattern(best.route->pattern, segments, &best.params);
    }
    return best;
}

}  // namespace wagate::http
