#include "httplimits.h"

#include "net/serverconfig.h"

namespace edgelens {

HttpLimits HttpLimits::fromConfig(const ServerConfig &config)
{
    HttpLimits limits;
    limits.maxBodyBytes = config.maxHttpBodyBytes;
    limits.idleTimeoutMs = config.idleTimeoutMs;
    limits.requestTimeoutMs = config.effectiveFrameTimeoutMs();
    limits.maxConnections = config.httpMaxConnections;
    limits.maxPerAddress = config.httpMaxPerAddress;
    // A body at the limit must always fit, or it would wait for ever.
    limits.bodyBudgetBytes = qMax(config.httpBodyBudgetBytes, config.maxHttpBodyBytes);
    limits.proxyProtocol = config.httpProxyProtocol;
    limits.trustedProxies = TrustedProxies::parse(config.trustedProxies, nullptr).value_or(TrustedProxies());
    return limits;
}

} // namespace edgelens
