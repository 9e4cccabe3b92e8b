#include "support/test_certificates.hpp"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace wagate::test {
namespace {

struct KeyDeleter {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct CertDeleter {
    void operator()(X509* c) const noexcept { X509_free(c); }
};
struct BioDeleter {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Cert = std::unique_ptr<X509, CertDeleter>;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("test certificates: " + what); }

Key make_key() {
    Key key(EVP_EC_gen("P-256"));
    if (!key) {
        fail("EVP_EC_gen");
    }
    return key;
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
    if (!ext) {
        fail(std::string("extension ") + value);
    }
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/// A certificate for `key` named `common_name`, signed by (`issuer`, `issuer_key`), or
/// self-signed when `issuer` is null. `san` is a subjectAltName value, or null for a CA.
Cert make_cert(EVP_PKEY* key, const char* common_name, long serial, X509* issuer, EVP_PKEY* issuer_key,
               const char* san) {
    Cert cert(X509_new());
    if (!cert) {
        fail("X509_new");
    }
    X509* c = cert.get();
    X509_set_version(c, 2);  // v3
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 30L * 24 * 3600);
    X509_set_pubkey(c, key);
    X509_NAME* name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("wagate tests"),
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name),
                               -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : c, c, nullptr, nullptr, 0);
    if (san) {
        add_extension(c, &ctx, NID_basic_constraints, "critical,CA:FALSE");
        add_extension(c, &ctx, NID_key_usage, "critical,digitalSignature");
        add_extension(c, &ctx, NID_ext_key_usage, "serverAuth");
        add_extension(c, &ctx, NID_subject_alt_name, san);
    } else {
        add_extension(c, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(c, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    add_extension(c, &ctx, NID_subject_key_identifier, "hash");
    add_extension(c, &ctx, NID_authority_key_identifier, "keyid:always");
    if (X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) == 0) {
        fail(std::string("X509_sign ") + common_name);
    }
    return cert;
}

void write_cert(const std::string& path, X509* cert) {
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(path.c_str(), "w"));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
        fail("writing " + path);
    }
}

void write_key(const std::string& path, EVP_PKEY* key) {
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(path.c_str(), "w"));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        fail("writing " + path);
    }
}

/// Owns the directory; removes it when the process ends.
struct Generated {
    TestCertificates files;

    Generated() {
        std::string pattern = (std::filesystem::temp_directory_path() / "wagate-certs-XXXXXX").string();
        std::vector<char> buffer(pattern.begin(), pattern.end());
        buffer.push_back('\0');
        if (!::mkdtemp(buffer.data())) {
            fail("mkdtemp");
        }
        files.dir = buffer.data();
        const std::string d = files.dir + "/";

        Key ca_key = make_key();
        Cert ca = make_cert(ca_key.get(), "wagate test CA", 1, nullptr, nullptr, nullptr);
        files.ca_file = d + "ca.pem";
        write_cert(files.ca_file, ca.get());

        const auto issue = [&](const char* stem, const char* cn, long serial, bool self_signed, const char* san) {
            Key key = make_key();
            Cert cert = self_signed ? make_cert(key.get(), cn, serial, nullptr, nullptr, san)
                                    : make_cert(key.get(), cn, serial, ca.get(), ca_key.get(), san);
            CertificateFiles out;
            out.cert_file = d + stem + ".pem";
            out.key_file = d + stem + ".key";
            write_cert(out.cert_file, cert.get());
            write_key(out.key_file, key.get());
            return out;
        };
        files.localhost = issue("localhost", "localhost", 2, false, "DNS:localhost,IP:127.0.0.1");
        files.wrong_name = issue("wrong_name", "wrong.example", 3, false, "DNS:wrong.example");
        files.untrusted = issue("untrusted", "localhost", 4, true, "DNS:localhost,IP:127.0.0.1");
    }

    ~Generated() {
        std::error_code ignored;
        std::filesystem::remove_all(files.dir, ignored);
    }
};

}  // namespace

const TestCertificates& test_certificates() {
    static const Generated generated;
    return generated.files;
}

}  // namespace wagate::test
