#include "tlsidentity.h"

#include "protocol/tlsfingerprint.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostInfo>
#include <QLoggingCategory>
#include <QNetworkInterface>
#include <QSaveFile>
#include <QStandardPaths>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

Q_LOGGING_CATEGORY(lcTls, "edgelens.server.tls")

namespace edgelens {

namespace {

template <typename T, void (*Free)(T *)>
struct Deleter
{
    void operator()(T *p) const { Free(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

QString opensslError(const char *what)
{
    char buffer[256] = {};
    ERR_error_string_n(ERR_get_error(), buffer, sizeof buffer);
    return QStringLiteral("%1: %2").arg(QLatin1String(what), QString::fromLatin1(buffer));
}

QByteArray bioBytes(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return QByteArray(data, int(size));
}

bool addExtension(X509 *cert, int nid, const QByteArray &value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    const ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.constData()));
    return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool writeFile(const QString &path, const QByteArray &bytes, bool secret, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    // On the temporary file, before a byte of the key is in it.
    if (secret && !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)) {
        *error = QStringLiteral("cannot make %1 private: %2").arg(path, file.errorString());
        file.cancelWriting();
        return false;
    }
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

bool keyMatchesCertificate(const QByteArray &certificatePem, const QByteArray &keyPem)
{
    const BioPtr certBio(BIO_new_mem_buf(certificatePem.constData(), int(certificatePem.size())));
    const BioPtr keyBio(BIO_new_mem_buf(keyPem.constData(), int(keyPem.size())));
    const X509Ptr cert(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
    const PKeyPtr key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
    return cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
}

} // namespace

QString TlsIdentity::fingerprint() const
{
    return TlsFingerprint::ofDer(certificate.toDer());
}

QString TlsIdentity::defaultDirectory()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/edgelens/tls");
}

void TlsIdentity::localNames(QStringList *hostNames, QStringList *addresses)
{
    *hostNames = {QStringLiteral("localhost")};
    const QString host = QHostInfo::localHostName();
    if (!host.isEmpty() && host != QLatin1String("localhost"))
        hostNames->append(host);
    *addresses = {QStringLiteral("127.0.0.1"), QStringLiteral("::1")};
    for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
        if (address.isLinkLocal())
            continue; // fe80::...%eth0 cannot be a SAN and changes anyway
        const QString text = address.toString();
        if (!addresses->contains(text))
            addresses->append(text);
    }
}

bool TlsIdentity::createSelfSigned(const QString &certificatePath, const QString &keyPath, const QStringList &hostNames,
                                   const QStringList &addresses, QString *error)
{
    const PKeyPtr key(EVP_EC_gen("P-256"));
    if (!key) {
        *error = opensslError("creating the key");
        return false;
    }
    const X509Ptr cert(X509_new());
    if (!cert) {
        *error = opensslError("creating the certificate");
        return false;
    }
    X509_set_version(cert.get(), 2); // v3, for the extensions
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f; // positive
    BIGNUM *serialNumber = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(serialNumber, X509_get_serialNumber(cert.get()));
    BN_free(serialNumber);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24 * 3600); // a device's clock may lag
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());

    X509_NAME *name = X509_get_subject_name(cert.get());
    const QByteArray commonName = QStringLiteral("EdgeLens device %1").arg(hostNames.value(1, hostNames.value(0))).toUtf8();
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char *>("EdgeLens"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char *>(commonName.constData()),
                               -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);

    QStringList alternatives;
    for (const QString &host : hostNames)
        alternatives.append(QStringLiteral("DNS:") + host);
    for (const QString &address : addresses)
        alternatives.append(QStringLiteral("IP:") + address);
    if (!addExtension(cert.get(), NID_subject_alt_name, alternatives.join(QLatin1Char(',')).toLatin1())
        || !addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE")
        || !addExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyAgreement")
        || !addExtension(cert.get(), NID_ext_key_usage, "serverAuth")
        || !addExtension(cert.get(), NID_subject_key_identifier, "hash")) {
        *error = opensslError("adding the certificate's extensions");
        return false;
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
        *error = opensslError("signing the certificate");
        return false;
    }

    const BioPtr keyBio(BIO_new(BIO_s_mem()));
    const BioPtr certBio(BIO_new(BIO_s_mem()));
    if (!PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)
        || !PEM_write_bio_X509(certBio.get(), cert.get())) {
        *error = opensslError("encoding the certificate");
        return false;
    }
    if (!QDir().mkpath(QFileInfo(keyPath).absolutePath()) || !QDir().mkpath(QFileInfo(certificatePath).absolutePath())) {
        *error = QStringLiteral("cannot create the folder of %1").arg(keyPath);
        return false;
    }
    // The key first: a certificate without its key would be useless on the next start.
    return writeFile(keyPath, bioBytes(keyBio.get()), true, error)
        && writeFile(certificatePath, bioBytes(certBio.get()), false, error);
}

std::optional<TlsIdentity> TlsIdentity::loadOrCreate(const QString &certificatePath, const QString &keyPath,
                                                     QString *error)
{
    TlsIdentity identity;
    if (certificatePath.isEmpty() != keyPath.isEmpty()) {
        *error = QStringLiteral("--tls-cert and --tls-key go together");
        return std::nullopt;
    }
    if (certificatePath.isEmpty()) {
        identity.certificatePath = defaultDirectory() + QStringLiteral("/server-cert.pem");
        identity.keyPath = defaultDirectory() + QStringLiteral("/server-key.pem");
        if (!QFile::exists(identity.certificatePath) || !QFile::exists(identity.keyPath)) {
            QStringList hosts, addresses;
            localNames(&hosts, &addresses);
            if (!createSelfSigned(identity.certificatePath, identity.keyPath, hosts, addresses, error))
                return std::nullopt;
            identity.created = true;
            qCInfo(lcTls).noquote() << "created a self-signed certificate for" << (hosts + addresses).join(QStringLiteral(", "))
                                    << "in" << defaultDirectory();
        }
    } else {
        identity.certificatePath = certificatePath;
        identity.keyPath = keyPath;
    }

    QFile certFile(identity.certificatePath);
    if (!certFile.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read the TLS certificate %1: %2").arg(identity.certificatePath, certFile.errorString());
        return std::nullopt;
    }
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
    if (chain.isEmpty() || chain.first().isNull()) {
        *error = QStringLiteral("%1 holds no PEM certificate").arg(identity.certificatePath);
        return std::nullopt;
    }
    identity.certificate = chain.first();
    QFile keyFile(identity.keyPath);
    if (!keyFile.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read the TLS key %1: %2").arg(identity.keyPath, keyFile.errorString());
        return std::nullopt;
    }
    const QByteArray keyPem = keyFile.readAll();
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Ec, QSsl::Rsa, QSsl::Dsa}) {
        identity.key = QSslKey(keyPem, algorithm, QSsl::Pem);
        if (!identity.key.isNull())
            break;
    }
    if (identity.key.isNull()) {
        *error = QStringLiteral("%1 holds no unencrypted PEM private key (RSA or EC)").arg(identity.keyPath);
        return std::nullopt;
    }
    if (!keyMatchesCertificate(identity.certificate.toPem(), keyPem)) {
        *error = QStringLiteral("the key in %1 does not belong to the certificate in %2")
                     .arg(identity.keyPath, identity.certificatePath);
        return std::nullopt;
    }
    return identity;
}

} // namespace edgelens
