#include "text_rules.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "utf8.hpp"

namespace wagate::domain::send_validation {
namespace {

bool all_ascii(std::string_view text, bool (*pred)(char)) {
    return !text.empty() && std::all_of(text.begin(), text.end(), pred);
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool is_alpha(char c) {
    return is_upper(c) || is_lower(c);
}
bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}

}  // namespace

bool is_https_url(std::string_view url) {
    constexpr std::string_view kScheme = "https://";
    if (url.size() <= kScheme.size() || ascii_lower(url.substr(0, kScheme.size())) != kScheme) {
        return false;
    }
    const bool clean = std::none_of(url.begin(), url.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
    });
    if (!clean || has_space(url)) {
        return false;
    }
    std::string_view authority = url.substr(kScheme.size());
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1);
    }
    std::string_view host = authority;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos || close == 1) {
            return false;
        }
        host = authority.substr(0, close + 1);
        authority.remove_prefix(close + 1);
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        authority = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
    }
    if (host.empty()) {
        return false;
    }
    if (!authority.empty()) {  // ":port"
        return authority.front() == ':' &&
               (authority.size() == 1 || is_ascii_digits(authority.substr(1)));
    }
    return true;
}

bool is_template_param_text_clean(std::string_view text) {
    if (text.find_first_of("\n\r\t") != std::string_view::npos) {
        return false;
    }
    return text.find("     ") == std::string_view::npos;
}

bool is_calendar_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
        !is_ascii_digits(text.substr(0, 4)) || !is_ascii_digits(text.substr(5, 2)) ||
        !is_ascii_digits(text.substr(8, 2))) {
        return false;
    }
    const int year = std::stoi(std::string(text.substr(0, 4)));
    const int month = std::stoi(std::string(text.substr(5, 2)));
    const int day = std::stoi(std::string(text.substr(8, 2)));
    if (year < 1 || month < 1 || month > 12 || day < 1) {
        return false;
    }
    constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const int last = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
    return day <= last;
}

std::optional<double> parse_decimal(std::string_view text) {
    // from_chars also takes "inf", "nan" and hex forms; a plain decimal is all a coordinate needs.
    const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return is_digit(c) || c == '-' || c == '.' || c == 'e' || c == 'E' || c == '+';
    });
    if (!plain) {
        return std::nullopt;
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

bool is_ascii_digits(std::string_view text) {
    return all_ascii(text, is_digit);
}
bool is_ascii_alnum(std::string_view text) {
    return all_ascii(text, is_alnum);
}
bool is_ascii_upper(std::string_view text) {
    return all_ascii(text, is_upper);
}
bool is_ascii_alpha(std::string_view text) {
    return all_ascii(text, is_alpha);
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; });
    return out;
}

bool has_outer_space(std::string_view text) {
    const std::u32string cps = to_code_points(text);
    return !cps.empty() && (is_unicode_space(cps.front()) || is_unicode_space(cps.back()));
}

}  // namespace wagate::domain::send_validation
