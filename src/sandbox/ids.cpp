#include "sandbox/ids.hpp"

namespace wagate::sandbox {
namespace {

std::string random_chars(Rng& rng, std::string_view alphabet, std::size_t n) {
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::string out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        out += alphabet[pick(rng)];
    }
    return out;
}

}  // namespace

std::string new_wamid(Rng& rng) {
    constexpr std::string_view kBase64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // 36 random characters carry 216 bits: collisions are out of the question even for a
    // benchmark's millions of sends.
    return "wamid.HBgL" + random_chars(rng, kBase64Url, 36);
}

std::string new_conversation_id(Rng& rng) { return random_chars(rng, "0123456789abcdef", 32); }

}  // namespace wagate::sandbox
