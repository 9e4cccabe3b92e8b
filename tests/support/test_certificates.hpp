#pragma once

#include <string>

namespace wagate::test {

/// A certificate and its private key, as PEM files.
struct CertificateFiles {
    std::string cert_file;
    std::string key_file;
};

/// Certificates made at run time with OpenSSL (P-256 keys, SHA-256, valid from an hour ago for
/// 30 days): nothing secret is checked in. Written once per process into a fresh temporary
/// directory that is removed at exit.
struct TestCertificates {
    std::string dir;
    std::string ca_file;          // the test CA's certificate: the trust anchor for clients
    CertificateFiles localhost;   // signed by the CA, subjectAltName DNS:localhost, IP:127.0.0.1
    CertificateFiles wrong_name;  // signed by the CA, subjectAltName DNS:wrong.example only
    CertificateFiles untrusted;   // self-signed, DNS:localhost and IP:127.0.0.1: no CA vouches for it
};

/// Makes them on first use (thread-safe); throws std::runtime_error if OpenSSL fails.
const TestCertificates& test_certificates();

}  // namespace wagate::test
