#include <wagate/core/masking.hpp>

namespace wagate {
namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
}  // namespace

std::string mask_phone_numbers(std::string_view text) {
    std::string out(text);
    std::size_t i = 0;
    while (i < out.size()) {
        if (!is_digit(out[i]) || (i > 0 && is_alnum(out[i - 1]))) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < out.size() && is_digit(out[end])) {
            ++end;
        }
        const std::size_t length = end - i;
        const bool bounded = end == out.size() || !is_alnum(out[end]);
        if (bounded && length >= 8 && length <= 15) {
            for (std::size_t k = i; k < end - 4; ++k) {
                out[k] = '*';
            }
        }
        i = end;
    }
    return out;
}

}  // namespace wagate
