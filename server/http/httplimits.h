#pragma once

#include "net/trustedproxies.h"

#include <QtGlobal>

namespace edgelens {

struct ServerConfig;

// What the HTTP port allows, separate from the TCP port's limits so that neither port can
// starve the other (docs/HTTP.md, "Limits").
struct HttpLimits
{
    qint64 maxBodyBytes = 32 * 1024 * 1024; // Blue Iris sends up to about 30 MB
    int maxHeaderBytes = 64 * 1024;
    int idleTimeoutMs = 30'000;     // no byte and nothing running: close
    int requestTimeoutMs = 120'000; // first byte of a request to its last
    int maxConnections = 64;        // open HTTP connections; more are answered 503
    int maxPerAddress = 16;         // connections (direct) or requests (through a proxy) per client address: 429
    // Request bodies held in memory, every connection together. A body that does not fit
    // waits (its connection is not read) up to budgetWaitMs, then gets 503. Two bodies at the
    // default limit fit, with room for small ones beside them.
    qint64 bodyBudgetBytes = 80 * 1024 * 1024;
    int budgetWaitMs = 5'000;
    // Every connection starts with a PROXY protocol header (a TCP balancer in front).
    bool proxyProtocol = false;
    // Reverse proxies whose X-Forwarded-For names the client.
    TrustedProxies trustedProxies;

    // The edgelens-server options (--http-max-body-mb, --http-max-connections, ...).
    static HttpLimits fromConfig(const ServerConfig &config);
};

} // namespace edgelens
