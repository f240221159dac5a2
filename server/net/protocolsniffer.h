#pragma once

#include <QByteArray>
#include <QString>

namespace edgelens {

// Tells from a connection's first bytes what the client speaks, so that a stranger on the
// port is named and closed at once instead of being read as a huge legacy frame.
//
// Unambiguous against the tutorial's protocol: a legacy frame is a u32 LE length followed by
// an image, and every signature below either reads as a length above the 1 GiB frame limit
// ("ELNS", "PROXY", most HTTP methods) or puts bytes where the image's own signature would
// be that no supported format starts with (a TLS ClientHello's 0x01 at offset 5, the "/"
// of "GET /", PROXY v2's "\0\r\nQUIT").
class ProtocolSniffer final
{
public:
    enum class Kind {
        NeedMore, // the bytes so far fit more than one kind
        Legacy,
        V2,
        TlsHandshake,
        Http,
        ProxyV1,
        ProxyV2,
    };

    static Kind classify(const QByteArray &prefix);
    static QString describe(Kind kind); // "a TLS handshake", "an HTTP request", ...
    static constexpr int kMaxPrefix = 12; // classify() decides by this many bytes at the latest

private:
    ProtocolSniffer() = delete;
};

} // namespace edgelens
