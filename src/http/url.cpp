#include <wagate/http/client.hpp>

#include <arpa/inet.h>

#include <charconv>

namespace wagate::http {
namespace {

Error invalid(std::string what) { return Error{Errc::kInvalidArgument, std::move(what)}; }

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

/// A registered name: letters, digits, '-', '.', '_' (percent-encoded hosts are not supported).
bool is_reg_name(std::string_view host) noexcept {
    if (host.empty() || host.front() == '.' || host.front() == '-') {
        return false;
    }
    for (const char c : host) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '.' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool is_ip(int family, const std::string& text) noexcept {
    unsigned char out[16];
    return ::inet_pton(family, text.c_str(), out) == 1;
}

}  // namespace

std::string Url::authority() const {
    std::string out;
    out.reserve(host.size() + 8);
    const bool v6 = host.find(':') != std::string::npos;
    if (v6) {
        out += '[';
    }
    out += host;
    if (v6) {
        out += ']';
    }
    if (port != (tls ? 443 : 80)) {
        out += ':';
        out += std::to_string(port);
    }
    return out;
}

Result<Url> parse_url(std::string_view text) {
    Url url;
    const std::size_t sep = text.find("://");
    if (sep == std::string_view::npos) {
        return invalid("URL must start with http:// or https://");
    }
    const std::string_view scheme = text.substr(0, sep);
    if (iequals(scheme, "https")) {
        url.tls = true;
    } else if (iequals(scheme, "http")) {
        url.tls = false;
    } else {
        return invalid("URL scheme must be http or https");
    }
    std::string_view rest = text.substr(sep + 3);
    // Only printable ASCII: no spaces, controls (header injection) or raw UTF-8.
    for (const char c : rest) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) {
            return invalid("URL holds a space, control or non-ASCII character");
        }
    }
    const std::size_t fragment = rest.find('#');
    if (fragment != std::string_view::npos) {
        rest = rest.substr(0, fragment);
    }
    const std::size_t end = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, end);
    const std::string_view target = end == std::string_view::npos ? std::string_view{} : rest.substr(end);

    if (authority.find('@') != std::string_view::npos) {
        return invalid("URL must not hold user info");
    }
    std::string_view host;
    std::string_view port;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return invalid("URL has an unterminated IPv6 literal");
        }
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return invalid("URL has characters after its IPv6 literal");
            }
            has_port = true;
            port = after.substr(1);
        }
        url.host = std::string(host);
        for (char& c : url.host) {
            c = lower(c);
        }
        if (!is_ip(AF_INET6, url.host)) {
            return invalid("URL has a malformed IPv6 literal");
        }
        url.ip_literal = true;
    } else {
        const std::size_t colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port = authority.substr(colon + 1);
        }
        if (!is_reg_name(host)) {
            return invalid("URL has an empty or malformed host");
        }
        url.host = std::string(host);
        for (char& c : url.host) {
            c = lower(c);
        }
        url.ip_literal = is_ip(AF_INET, url.host);
    }
    if (has_port) {
        unsigned value = 0;
        const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || value == 0 ||
            value > 65535) {
            return invalid("URL port must be a number in 1..65535");
        }
        url.port = static_cast<unsigned short>(value);
    } else {
        url.port = url.tls ? 443 : 80;
    }
    if (target.empty()) {
        url.target = "/";
    } else if (target.front() == '?') {
        url.target = "/" + std::string(target);
    } else {
        url.target = std::string(target);
    }
    return url;
}

}  // namespace wagate::http
