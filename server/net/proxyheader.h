#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QString>

namespace edgelens {

// The PROXY protocol header (HAProxy's spec, versions 1 and 2) that a load balancer (nginx
// `proxy_protocol on;`, HAProxy `send-proxy` / `send-proxy-v2`) puts at the start of a
// connection to pass on the real client's address. Parsed from whatever has arrived so far,
// so the header may be split at any byte; at most kMaxHeader bytes are ever looked at.
struct ProxyHeader
{
    enum class Status { NeedMore, Done, Invalid };

    int version = 0;     // 1 or 2
    bool local = false;  // v2 LOCAL (the balancer's own health check) or v1 UNKNOWN: no client address
    QHostAddress source; // the client, when !local
    quint16 sourcePort = 0;
    QHostAddress destination;
    quint16 destinationPort = 0;
    qsizetype length = 0; // header bytes; what follows belongs to the client

    // Done: *header filled. Invalid: *error says why (the connection is to be closed).
    static Status parse(const QByteArray &bytes, ProxyHeader *header, QString *error);

    static constexpr qsizetype kMaxV1 = 107;  // the spec's longest v1 line, CRLF included
    static constexpr qsizetype kMaxV2 = 16 + 1024; // addresses plus generous room for TLVs
};

} // namespace edgelens
