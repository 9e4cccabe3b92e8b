#pragma once
// Shared by the fuzz targets: an invariant check that aborts (so libFuzzer keeps the input as a
// crash), and the small predicates several targets assert.

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

/// Aborts with the failed condition and a note when `cond` is false: libFuzzer saves the input
/// as crash-<sha1>. Active in every build type (unlike assert).
#define FUZZ_CHECK(cond, note)                                                                    \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            std::fprintf(stderr, "\nFUZZ_CHECK failed at %s:%d: %s\n  %s\n", __FILE__, __LINE__,  \
                         #cond, std::string(note).c_str());                                       \
            std::abort();                                                                         \
        }                                                                                         \
    } while (false)

namespace wagate::fuzz {

/// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
inline bool is_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t extra = 0;
        unsigned min = 0;
        unsigned cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1, min = 0x80, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2, min = 0x800, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return false;
        }
        if (i + extra >= s.size()) {
            return false;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

/// Storable in a PostgreSQL text or jsonb column: valid UTF-8 and no NUL byte.
inline bool is_pg_text(std::string_view s) noexcept {
    return s.find('\0') == std::string_view::npos && is_utf8(s);
}

/// A short, printable excerpt of `s` for failure notes.
inline std::string excerpt(std::string_view s, std::size_t max = 200) {
    std::string out;
    for (const char c : s.substr(0, max)) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", u);
            out += hex;
        }
    }
    if (s.size() > max) {
        out += "...";
    }
    return out;
}

}  // namespace wagate::fuzz
