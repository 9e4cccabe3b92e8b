#include <wagate/http/message.hpp>

#include <wagate/crypto/digest.hpp>

namespace wagate::http {

std::string_view Request::header(std::string_view lower_name) const noexcept {
    for (const auto& h : headers) {
        if (h.name == lower_name) {
            return h.value;
        }
    }
    return {};
}

std::string Request::query_param(std::string_view name) const {
    std::string_view rest = query;
    while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        const std::size_t eq = pair.find('=');
        if (percent_decode(pair.substr(0, eq)) == name) {
            return eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
        }
    }
    return {};
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else if (auto byte = c == '%' ? crypto::from_hex(text.substr(i + 1, 2)) : std::nullopt;
                   byte && byte->size() == 1) {
            out += *byte;
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace wagate::http
