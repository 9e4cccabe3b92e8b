#include <wagate/crypto/digest.hpp>

#include <algorithm>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace wagate::crypto {

Sha256 sha256(std::string_view data) noexcept {
    Sha256 out{};
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
    return out;
}

Sha256 hmac_sha256(std::string_view key, std::string_view data) noexcept {
    Sha256 out{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
    return out;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0f]);
    }
    return out;
}

bool constant_time_equal(const Sha256& a, const Sha256& b) noexcept {
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    return constant_time_equal(sha256(a), sha256(b));
}

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::optional<std::string> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) {
        return std::nullopt;
    }
    std::string out(hex.size() / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out[i] = static_cast<char>(hi << 4 | lo);
    }
    return out;
}

bool verify_hub_signature(std::string_view header, std::string_view body,
                          std::span<const std::string> secrets) noexcept {
    constexpr std::string_view kPrefix = "sha256=";
    if (header.size() != kPrefix.size() + 64 || header.substr(0, kPrefix.size()) != kPrefix) {
        return false;
    }
    const auto bytes = from_hex(header.substr(kPrefix.size()));
    if (!bytes) {
        return false;
    }
    Sha256 claimed{};
    std::copy(bytes->begin(), bytes->end(), claimed.begin());
    bool verified = false;
    for (const auto& secret : secrets) {
        // No early exit: the time taken does not say which secret matched.
        verified |= !secret.empty() && constant_time_equal(hmac_sha256(secret, body), claimed);
    }
    return verified;
}

}  // namespace wagate::crypto
