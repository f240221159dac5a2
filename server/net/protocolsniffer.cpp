#include "protocolsniffer.h"

#include "protocol/protocol.h"

#include <array>

namespace edgelens {

namespace {

enum class Match { No, Partial, Full };

// `prefix` against a fixed signature: Partial while it is a proper prefix of it.
Match matchSignature(const QByteArray &prefix, QByteArrayView signature)
{
    const qsizetype n = qMin(prefix.size(), signature.size());
    if (QByteArrayView(prefix.constData(), n) != signature.first(n))
        return Match::No;
    return prefix.size() >= signature.size() ? Match::Full : Match::Partial;
}

// A TLS record carrying a handshake (0x16), version 3.x, and a ClientHello (type 1) as the
// first handshake message: 16 03 0x LL LL 01.
Match matchTlsClientHello(const QByteArray &prefix)
{
    const auto at = [&](int i) { return uchar(prefix.at(i)); };
    if (prefix.size() >= 1 && at(0) != 0x16)
        return Match::No;
    if (prefix.size() >= 2 && at(1) != 0x03)
        return Match::No;
    if (prefix.size() >= 3 && at(2) > 0x04)
        return Match::No;
    if (prefix.size() >= 6 && at(5) != 0x01)
        return Match::No;
    return prefix.size() >= 6 ? Match::Full : Match::Partial;
}

Match matchHttp(const QByteArray &prefix)
{
    static const std::array<QByteArrayView, 9> methods = {
        "GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
    };
    Match best = Match::No;
    for (QByteArrayView method : methods) {
        const Match m = matchSignature(prefix, method);
        if (m == Match::Full)
            return Match::Full;
        if (m == Match::Partial)
            best = Match::Partial;
    }
    // HTTP/2's connection preface, "PRI * HTTP/2.0".
    const Match preface = matchSignature(prefix, "PRI * ");
    return preface != Match::No ? preface : best;
}

} // namespace

ProtocolSniffer::Kind ProtocolSniffer::classify(const QByteArray &prefix)
{
    if (prefix.isEmpty())
        return Kind::NeedMore;
    const std::array<std::pair<Kind, Match>, 5> candidates = {{
        {Kind::V2, matchSignature(prefix, QByteArrayView(protocol::kMagic, 4))},
        {Kind::TlsHandshake, matchTlsClientHello(prefix)},
        {Kind::Http, matchHttp(prefix)},
        {Kind::ProxyV1, matchSignature(prefix, "PROXY ")},
        {Kind::ProxyV2, matchSignature(prefix, QByteArrayView("\r\n\r\n\0\r\nQUIT\n", 12))},
    }};
    bool partial = false;
    for (const auto &[kind, match] : candidates) {
        if (match == Match::Full)
            return kind;
        partial = partial || match == Match::Partial;
    }
    if (partial)
        return Kind::NeedMore;
    return prefix.size() >= 4 ? Kind::Legacy : Kind::NeedMore;
}

QString ProtocolSniffer::describe(Kind kind)
{
    switch (kind) {
    case Kind::NeedMore:
        return QStringLiteral("too few bytes to tell");
    case Kind::Legacy:
        return QStringLiteral("a legacy (tutorial) frame");
    case Kind::V2:
        return QStringLiteral("an EdgeLens v2 preamble");
    case Kind::TlsHandshake:
        return QStringLiteral("a TLS handshake (ClientHello)");
    case Kind::Http:
        return QStringLiteral("an HTTP request");
    case Kind::ProxyV1:
        return QStringLiteral("a PROXY protocol v1 header");
    case Kind::ProxyV2:
        return QStringLiteral("a PROXY protocol v2 header");
    }
    return QString();
}

} // namespace edgelens
