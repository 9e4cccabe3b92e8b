#include "emoji.hpp"

#include <algorithm>
#include <iterator>
#include <string>

#include "utf8.hpp"

namespace wagate::domain::send_validation {
namespace {

struct Range {
    char32_t first;
    char32_t last;
};

// Extended_Pictographic from Unicode's emoji-data.txt. The property deliberately covers unassigned
// code points in emoji blocks, so emoji added after this table was written are still accepted.
constexpr Range kPictographic[] = {
    {0x00A9, 0x00A9},   {0x00AE, 0x00AE},   {0x203C, 0x203C},   {0x2049, 0x2049},
    {0x2122, 0x2122},   {0x2139, 0x2139},   {0x2194, 0x2199},   {0x21A9, 0x21AA},
    {0x231A, 0x231B},   {0x2328, 0x2328},   {0x2388, 0x2388},   {0x23CF, 0x23CF},
    {0x23E9, 0x23F3},   {0x23F8, 0x23FA},   {0x24C2, 0x24C2},   {0x25AA, 0x25AB},
    {0x25B6, 0x25B6},   {0x25C0, 0x25C0},   {0x25FB, 0x25FE},   {0x2600, 0x2605},
    {0x2607, 0x2612},   {0x2614, 0x2685},   {0x2690, 0x2705},   {0x2708, 0x2712},
    {0x2714, 0x2714},   {0x2716, 0x2716},   {0x271D, 0x271D},   {0x2721, 0x2721},
    {0x2728, 0x2728},   {0x2733, 0x2734},   {0x2744, 0x2744},   {0x2747, 0x2747},
    {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},   {0x2757, 0x2757},
    {0x2763, 0x2767},   {0x2795, 0x2797},   {0x27A1, 0x27A1},   {0x27B0, 0x27B0},
    {0x27BF, 0x27BF},   {0x2934, 0x2935},   {0x2B05, 0x2B07},   {0x2B1B, 0x2B1C},
    {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x3030, 0x3030},   {0x303D, 0x303D},
    {0x3297, 0x3297},   {0x3299, 0x3299},   {0x1F000, 0x1F0FF}, {0x1F10D, 0x1F10F},
    {0x1F12F, 0x1F12F}, {0x1F16C, 0x1F171}, {0x1F17E, 0x1F17F}, {0x1F18E, 0x1F18E},
    {0x1F191, 0x1F19A}, {0x1F1AD, 0x1F1E5}, {0x1F201, 0x1F20F}, {0x1F21A, 0x1F21A},
    {0x1F22F, 0x1F22F}, {0x1F232, 0x1F23A}, {0x1F23C, 0x1F23F}, {0x1F249, 0x1F3FA},
    {0x1F400, 0x1F53D}, {0x1F546, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F774, 0x1F77F},
    {0x1F7D5, 0x1F7FF}, {0x1F80C, 0x1F80F}, {0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F},
    {0x1F888, 0x1F88F}, {0x1F8AE, 0x1F8FF}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945},
    {0x1F947, 0x1FAFF}, {0x1FC00, 0x1FFFD},
};

// BMP characters with Emoji_Presentation=Yes: these render as emoji even without VS16.
constexpr Range kBmpEmojiPresentation[] = {
    {0x231A, 0x231B}, {0x23E9, 0x23EC}, {0x23F0, 0x23F0}, {0x23F3, 0x23F3}, {0x25FD, 0x25FE},
    {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267F, 0x267F}, {0x2693, 0x2693}, {0x26A1, 0x26A1},
    {0x26AA, 0x26AB}, {0x26BD, 0x26BE}, {0x26C4, 0x26C5}, {0x26CE, 0x26CE}, {0x26D4, 0x26D4},
    {0x26EA, 0x26EA}, {0x26F2, 0x26F3}, {0x26F5, 0x26F5}, {0x26FA, 0x26FA}, {0x26FD, 0x26FD},
    {0x2705, 0x2705}, {0x270A, 0x270B}, {0x2728, 0x2728}, {0x274C, 0x274C}, {0x274E, 0x274E},
    {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797}, {0x27B0, 0x27B0}, {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55},
};

constexpr char32_t kZwj = 0x200D;
constexpr char32_t kVs16 = 0xFE0F;
constexpr char32_t kCombiningKeycap = 0x20E3;
constexpr char32_t kCancelTag = 0xE007F;
constexpr std::size_t kNoMatch = std::u32string::npos;

template <std::size_t N>
bool in_table(const Range (&table)[N], char32_t cp) {
    const auto it =
        std::upper_bound(std::begin(table), std::end(table), cp,
                         [](char32_t value, const Range& r) { return value < r.first; });
    return it != std::begin(table) && cp <= std::prev(it)->last;
}

bool is_pictographic(char32_t cp) {
    return in_table(kPictographic, cp);
}
bool is_modifier(char32_t cp) {
    return cp >= 0x1F3FB && cp <= 0x1F3FF;
}
bool is_regional_indicator(char32_t cp) {
    return cp >= 0x1F1E6 && cp <= 0x1F1FF;
}
bool is_tag(char32_t cp) {
    return cp >= 0xE0020 && cp <= 0xE007E;
}
bool is_keycap_base(char32_t cp) {
    return (cp >= U'0' && cp <= U'9') || cp == U'#' || cp == U'*';
}

// One emoji element starting at `i` (what ZWJ joins); the index after it, or kNoMatch.
std::size_t parse_element(const std::u32string& cps, std::size_t i) {
    const auto at = [&](std::size_t k) { return k < cps.size() ? cps[k] : char32_t{0}; };
    const char32_t cp = at(i);
    if (is_regional_indicator(cp)) {
        return is_regional_indicator(at(i + 1)) ? i + 2 : kNoMatch;
    }
    if (is_keycap_base(cp)) {
        std::size_t k = i + 1;
        if (at(k) == kVs16) {
            ++k;
        }
        return at(k) == kCombiningKeycap ? k + 1 : kNoMatch;
    }
    if (!is_pictographic(cp)) {
        return kNoMatch;
    }
    std::size_t k = i + 1;
    if (is_modifier(at(k)) || at(k) == kVs16) {
        ++k;
    }
    if (is_tag(at(k))) {
        while (is_tag(at(k))) {
            ++k;
        }
        if (at(k) != kCancelTag) {
            return kNoMatch;
        }
        ++k;
    }
    return k;
}

}  // namespace

bool is_single_emoji(std::string_view utf8) {
    const std::u32string cps = to_code_points(utf8);
    std::size_t i = parse_element(cps, 0);
    while (i != kNoMatch && i < cps.size() && cps[i] == kZwj) {
        i = parse_element(cps, i + 1);
    }
    return i == cps.size();
}

bool contains_emoji(std::string_view utf8) {
    const std::u32string cps = to_code_points(utf8);
    for (std::size_t i = 0; i < cps.size(); ++i) {
        const char32_t cp = cps[i];
        const bool followed_by_vs16 = i + 1 < cps.size() && cps[i + 1] == kVs16;
        if (is_regional_indicator(cp) || is_modifier(cp) || cp == kCombiningKeycap ||
            (cp >= 0x1F000 && is_pictographic(cp)) || in_table(kBmpEmojiPresentation, cp) ||
            (followed_by_vs16 && is_pictographic(cp))) {
            return true;
        }
    }
    return false;
}

}  // namespace wagate::domain::send_validation
