// crypto::verify_hub_signature: Meta's X-Hub-Signature-256 check (reference/webhooks.md §2.2) over
// the raw body bytes, under any one of several app secrets.
#include <wagate/crypto/digest.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace std::string_literals;
using wagate::crypto::hmac_sha256;
using wagate::crypto::to_hex;
using wagate::crypto::verify_hub_signature;

const std::string kSecret = "8f3c2d1b0a9e8d7c6b5a4f3e2d1c0b9a";
const std::string kOldSecret = "0123456789abcdef0123456789abcdef";
const std::string kBody =
    R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{)"
    R"("messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},)"
    R"("statuses":[{"id":"wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA","status":"delivered",)"
    R"("timestamp":"1750030074","recipient_id":"16505551234"}]},"field":"messages"}]}]})";

/// The header Meta would send: "sha256=" and the lowercase hex HMAC of the exact bytes.
std::string header_for(const std::string& body, const std::string& secret) {
    return "sha256=" + to_hex(hmac_sha256(secret, body));
}

bool verify(const std::string& header, const std::string& body, const std::vector<std::string>& secrets) {
    return verify_hub_signature(header, body, secrets);
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

TEST(HubSignature, TheHelperMatchesAKnownHmacSha256Vector) {
    // Anchors the expected values below to a published HMAC-SHA256 result.
    EXPECT_EQ(to_hex(hmac_sha256("key", "The quick brown fox jumps over the lazy dog")),
              "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    EXPECT_EQ(header_for(kBody, kSecret).size(), 7u + 64u);
}

TEST(HubSignature, TheRightSecretVerifies) {
    EXPECT_TRUE(verify(header_for(kBody, kSecret), kBody, {kSecret}));
}

TEST(HubSignature, AWrongSecretDoesNot) {
    EXPECT_FALSE(verify(header_for(kBody, kSecret), kBody, {kOldSecret}));
    EXPECT_FALSE(verify(header_for(kBody, kSecret), kBody, {kSecret + "x"}));
    EXPECT_FALSE(verify(header_for(kBody, kSecret), kBody, {kSecret.substr(1)}));
}

TEST(HubSignature, AChangedBodyDoesNot) {
    std::string changed = kBody;
    changed[changed.find("delivered")] = 'D';
    EXPECT_FALSE(verify(header_for(kBody, kSecret), changed, {kSecret}));
    EXPECT_FALSE(verify(header_for(kBody, kSecret), kBody + "\n", {kSecret}));
    EXPECT_FALSE(verify(header_for(kBody, kSecret), " " + kBody, {kSecret}));
    EXPECT_FALSE(verify(header_for(kBody, kSecret), "", {kSecret}));
}

TEST(HubSignature, EitherSecretDuringARotation) {
    const std::vector<std::string> both = {kOldSecret, kSecret};
    EXPECT_TRUE(verify(header_for(kBody, kSecret), kBody, both));     // the second of two
    EXPECT_TRUE(verify(header_for(kBody, kOldSecret), kBody, both));  // the first of two
    EXPECT_TRUE(verify(header_for(kBody, kSecret), kBody, {"a", "b", "c", kSecret}));
    EXPECT_FALSE(verify(header_for(kBody, "third"), kBody, both));
}

TEST(HubSignature, AMissingOrEmptyHeaderNeverVerifies) {
    EXPECT_FALSE(verify("", kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256=", kBody, {kSecret}));
    EXPECT_FALSE(verify("", "", {kSecret}));
}

TEST(HubSignature, TheSha256PrefixIsRequired) {
    const std::string hex = to_hex(hmac_sha256(kSecret, kBody));
    EXPECT_FALSE(verify(hex, kBody, {kSecret}));  // bare hex
    EXPECT_FALSE(verify("sha1=" + hex, kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256:" + hex, kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256 " + hex, kBody, {kSecret}));
    EXPECT_FALSE(verify("sha512=" + hex, kBody, {kSecret}));
    EXPECT_FALSE(verify("=" + hex, kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256==" + hex.substr(1), kBody, {kSecret}));
    EXPECT_FALSE(verify(hex + "sha256=", kBody, {kSecret}));
}

TEST(HubSignature, UpperAndMixedCaseHexAreAccepted) {
    const std::string hex = to_hex(hmac_sha256(kSecret, kBody));
    ASSERT_NE(upper(hex), hex);  // the digest has letters, so the case matters to the test
    EXPECT_TRUE(verify("sha256=" + upper(hex), kBody, {kSecret}));
    std::string mixed = hex;
    for (std::size_t i = 0; i < mixed.size(); i += 2) {
        mixed[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[i])));
    }
    ASSERT_NE(mixed, hex);
    EXPECT_TRUE(verify("sha256=" + mixed, kBody, {kSecret}));
    // Case does not make a wrong digest right.
    EXPECT_FALSE(verify("sha256=" + upper(to_hex(hmac_sha256(kOldSecret, kBody))), kBody, {kSecret}));
}

TEST(HubSignature, TheDigestMustBeExactly64HexDigits) {
    const std::string hex = to_hex(hmac_sha256(kSecret, kBody));
    EXPECT_FALSE(verify("sha256=" + hex.substr(0, 63), kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256=" + hex.substr(0, 62), kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256=" + hex.substr(0, 32), kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256=" + hex + "0", kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256=" + hex + "00", kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256=" + hex + hex, kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256=" + hex + " ", kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256=" + hex + "\r\n", kBody, {kSecret}));
    EXPECT_FALSE(verify(" sha256=" + hex, kBody, {kSecret}));
    EXPECT_FALSE(verify("sha256= " + hex.substr(1), kBody, {kSecret}));
}

TEST(HubSignature, NonHexCharactersAreRejected) {
    const std::string hex = to_hex(hmac_sha256(kSecret, kBody));
    for (const char bad : {'g', 'G', 'z', 'x', ' ', '-', '+', ':', '\0', '\xff', '/', '@', '`', '[', '{'}) {
        for (const std::size_t at : {std::size_t{0}, std::size_t{31}, std::size_t{63}}) {
            std::string h = hex;
            h[at] = bad;
            EXPECT_FALSE(verify("sha256=" + h, kBody, {kSecret})) << "char " << static_cast<int>(bad) << " at " << at;
        }
    }
    // A digit that happens to differ is simply a wrong digest.
    std::string h = hex;
    h[10] = h[10] == '0' ? '1' : '0';
    EXPECT_FALSE(verify("sha256=" + h, kBody, {kSecret}));
}

TEST(HubSignature, NoSecretAtAllNeverVerifies) {
    EXPECT_FALSE(verify(header_for(kBody, kSecret), kBody, {}));
    EXPECT_FALSE(verify(header_for(kBody, ""), kBody, {}));
}

TEST(HubSignature, AnEmptySecretInTheListNeverVerifies) {
    // The HMAC under an empty key is computable by anyone: it must never count.
    EXPECT_FALSE(verify(header_for(kBody, ""), kBody, {""}));
    EXPECT_FALSE(verify(header_for(kBody, ""), kBody, {"", kSecret}));
    EXPECT_FALSE(verify(header_for(kBody, ""), kBody, {kSecret, ""}));
    EXPECT_FALSE(verify(header_for("", ""), "", {""}));
    // An empty entry does not stop a real secret beside it from verifying.
    EXPECT_TRUE(verify(header_for(kBody, kSecret), kBody, {"", kSecret}));
    EXPECT_TRUE(verify(header_for(kBody, kSecret), kBody, {kSecret, ""}));
}

TEST(HubSignature, AnEmptyBodyIsSignedLikeAnyOther) {
    EXPECT_TRUE(verify(header_for("", kSecret), "", {kSecret}));
    EXPECT_FALSE(verify(header_for("", kSecret), "{}", {kSecret}));
}

TEST(HubSignature, TheSignatureCoversTheExactBytesOfUnicodeText) {
    // The same message written two ways: raw UTF-8, and \u00XX-escaped as Meta's docs describe.
    const std::string raw_utf8 =
        "{\"text\":{\"body\":\"J'ai mang\xC3\xA9 des p\xC3\xA2tes \xC3\xA4\xC3\xB6\xC3\xA5 \xF0\x9F\x98\x80\"}}";
    const std::string escaped = R"({"text":{"body":"J'ai mang\u00e9 des p\u00e2tes \u00e4\u00f6\u00e5 \ud83d\ude00"}})";
    ASSERT_NE(raw_utf8, escaped);

    // Each verifies as the bytes it was signed as.
    EXPECT_TRUE(verify(header_for(raw_utf8, kSecret), raw_utf8, {kSecret}));
    EXPECT_TRUE(verify(header_for(escaped, kSecret), escaped, {kSecret}));
    // Meta signed the escaped bytes: a body decoded (or re-escaped) into other bytes must not verify.
    EXPECT_FALSE(verify(header_for(escaped, kSecret), raw_utf8, {kSecret}));
    EXPECT_FALSE(verify(header_for(raw_utf8, kSecret), escaped, {kSecret}));
    // Upper-case escape hex is different bytes as well.
    const std::string upper_escaped = R"({"text":{"body":"J'ai mang\u00E9 des p\u00E2tes \u00E4\u00F6\u00E5 \uD83D\uDE00"}})";
    EXPECT_FALSE(verify(header_for(escaped, kSecret), upper_escaped, {kSecret}));
}

TEST(HubSignature, EscapedSlashAndAtSignAreDifferentBytes) {
    // tawn33y/whatsapp-cloud-api#60: re-serialised JSON turns "\u0040" into "@" and "\/" into "/".
    const std::string as_sent = R"({"text":{"body":"mail me at a\u0040b.com or see https:\/\/x.y\/z"}})";
    const std::string reserialised = R"({"text":{"body":"mail me at a@b.com or see https://x.y/z"}})";
    EXPECT_TRUE(verify(header_for(as_sent, kSecret), as_sent, {kSecret}));
    EXPECT_FALSE(verify(header_for(as_sent, kSecret), reserialised, {kSecret}));
}

TEST(HubSignature, BodiesWithNulBytesAreHashedWhole) {
    const std::string with_nul = "{\"a\":\"x\"}\0tail"s;
    ASSERT_EQ(with_nul.size(), 14u);
    EXPECT_TRUE(verify(header_for(with_nul, kSecret), with_nul, {kSecret}));
    // Truncating at the NUL (as a C string would) is a different body.
    EXPECT_FALSE(verify(header_for(with_nul, kSecret), std::string(with_nul.c_str()), {kSecret}));
    EXPECT_FALSE(verify(header_for(std::string(with_nul.c_str()), kSecret), with_nul, {kSecret}));

    const std::string only_nuls(32, '\0');
    EXPECT_TRUE(verify(header_for(only_nuls, kSecret), only_nuls, {kSecret}));
    EXPECT_FALSE(verify(header_for(only_nuls, kSecret), std::string(31, '\0'), {kSecret}));
    EXPECT_FALSE(verify(header_for(only_nuls, kSecret), "", {kSecret}));
}

TEST(HubSignature, SecretsWithNulBytesAndBinaryBodies) {
    const std::string secret = "ab\0cd"s;
    std::string binary;
    for (int i = 0; i < 256; ++i) {
        binary.push_back(static_cast<char>(i));
    }
    EXPECT_TRUE(verify(header_for(binary, secret), binary, {secret}));
    EXPECT_FALSE(verify(header_for(binary, secret), binary, {"ab"}));  // the key is not cut at the NUL
}

TEST(HubSignature, ALargeBody) {
    const std::string big(3 * 1024 * 1024, 'a');  // Meta's 3 MB payload limit
    EXPECT_TRUE(verify(header_for(big, kSecret), big, {kSecret}));
    std::string other = big;
    other.back() = 'b';
    EXPECT_FALSE(verify(header_for(big, kSecret), other, {kSecret}));
}

}  // namespace
