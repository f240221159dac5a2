#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QStringList>

#include <optional>

namespace edgelens {

// The reverse proxies (`--trusted-proxy`, addresses or subnets) whose X-Forwarded-For header
// is believed. Only their word counts: a header from anyone else is ignored, and within the
// header only the hops that trusted proxies appended (read from the right), so a client
// cannot name itself someone else by sending its own X-Forwarded-For through the proxy.
class TrustedProxies final
{
public:
    TrustedProxies() = default;

    // "192.0.2.10", "10.0.0.0/8", "::1", "fd00::/8". nullopt with *error naming the bad entry.
    static std::optional<TrustedProxies> parse(const QStringList &specs, QString *error);

    bool isEmpty() const { return m_subnets.isEmpty(); }
    bool contains(const QHostAddress &address) const;

    // The client behind `peer`: `peer` itself unless it is trusted; then, walking the
    // X-Forwarded-For fields (every one, in order) from the right, the first address that is
    // not a trusted proxy. A hop that is not an address stops the walk at the last trusted one.
    QHostAddress clientOf(const QHostAddress &peer, const QList<QByteArray> &forwardedFor) const;

private:
    QList<QPair<QHostAddress, int>> m_subnets;
};

} // namespace edgelens
