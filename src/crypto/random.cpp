#include <wagate/crypto/random.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <openssl/rand.h>
#include <wagate/crypto/digest.hpp>

namespace wagate::crypto {
namespace {

void fill_from_openssl(std::uint8_t* out, std::size_t n) {
    if (RAND_bytes(out, static_cast<int>(n)) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
}

/// CSPRNG bytes drawn from OpenSSL 4 KiB at a time per thread: ids and request ids are needed on
/// every request, and one RAND_bytes call each cost measurable CPU (and a getpid() per call).
void fill_random(std::uint8_t* out, std::size_t n) {
    constexpr std::size_t kChunk = 4096;
    thread_local std::array<std::uint8_t, kChunk> pool{};
    thread_local std::size_t used = kChunk;
    if (n > kChunk) {
        fill_from_openssl(out, n);
        return;
    }
    if (kChunk - used < n) {
        fill_from_openssl(pool.data(), kChunk);
        used = 0;
    }
    std::copy_n(pool.data() + used, n, out);
    // Bytes once handed out are wiped so they can never be handed out (or leaked) again.
    std::fill_n(pool.data() + used, n, std::uint8_t{0});
    used += n;
}

}  // namespace

std::string random_hex(std::size_t n) {
    std::vector<std::uint8_t> bytes(n);
    fill_random(bytes.data(), n);
    return to_hex(bytes);
}

std::string uuid_v7_hex(std::chrono::system_clock::time_point now) {
    std::array<std::uint8_t, 16> b{};
    fill_random(b.data(), b.size());
    const auto ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
    for (int i = 0; i < 6; ++i) {
        b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
    }
    b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0f));  // version 7
    b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));  // RFC 9562 variant
    return to_hex(b);
}

}  // namespace wagate::crypto
