#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <wagate/http/message.hpp>

namespace wagate::http {

/// Values captured from `{name}` segments of the matched pattern.
using PathParams = std::map<std::string, std::string, std::less<>>;

using Handler = std::function<boost::asio::awaitable<Response>(Request&, const PathParams&)>;

struct Route {
    std::string method;
    std::string pattern;   // e.g. "/{version}/{phone_number_id}/messages": also the log/metric label
    std::size_t body_limit = 0;
    Handler handler;
};

/// Segment-wise router. A pattern segment is a literal or `{name}`; the name also selects a
/// segment rule: `version` matches `v<major>.<minor>`, names ending in `_id` match
/// `[A-Za-z0-9._-]{1,128}`, anything else matches any non-empty segment. Literal segments win
/// over captures at the same position. Not thread-safe to modify; safe to match concurrently.
class Router {
public:
    void add(std::string method, std::string pattern, std::size_t body_limit, Handler handler);

    struct Match {
        const Route* route = nullptr;
        PathParams params;
        bool path_known = false;  // some route has this path under another method (405)
    };
    Match match(std::string_view method, std::string_view path) const;

    const std::vector<Route>& routes() const noexcept { return routes_; }

private:
    std::vector<Route> routes_;
};

}  // namespace wagate::http
