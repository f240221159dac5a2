#pragma once

// The one notation of a TLS certificate's fingerprint, wherever EdgeLens prints, stores or
// compares one: the server's log and --print-fingerprint (TlsIdentity), the known-devices
// file and pins (KnownDevices, TlsSocketFactory), the trust dialogs. "sha256:" and the 64
// lower-case hex digits of the SHA-256 of the certificate's DER encoding, which is what
// `openssl x509 -fingerprint -sha256` shows with colons and in upper case.

#include <QByteArray>
#include <QString>

namespace edgelens {

class TlsFingerprint final
{
public:
    // Of a certificate in DER (QSslCertificate::toDer()).
    static QString ofDer(const QByteArray &der);
    // "sha256:AB:CD:...", "SHA256:abcd...", "ABCD..." (openssl's and others' notations) ->
    // "sha256:abcd..."; empty when it is not 64 hex digits.
    static QString normalize(const QString &text);

private:
    TlsFingerprint() = delete;
};

} // namespace edgelens
